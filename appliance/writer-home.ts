/**
 * The one way a command becomes the home's writer: the home resolved and its configuration read (a missing
 * home is named first), a read-only home refused with HOME_READ_ONLY, the PIN asked for before the writer lock
 * is taken (a prompt never holds the home), then the lock held for the whole of `fn` and released after it.
 * The CLI session, `backup` and `audit reanchor` all go through here (docs/operations.md, the writer lock).
 */
import { makeError } from '../core/errors.js';
import {
  acquireHomeLock,
  isHomeWritable,
  readConfig,
  resolveHome,
  type ColdsignConfig,
  type Home,
} from '../store/home.js';

/** How a front end asks for the PIN and says that it waits for another process. */
export interface WriterHomeIo {
  /** Asked for before the lock is taken; omitted by a writer that needs no PIN (backup). */
  readPin?: () => Promise<string>;
  onWait: () => void;
  /**
   * What the command writes, said when the home is read-only ("… is read-only: WHY"); without it the home is
   * not checked for writability first (taking the lock then fails on a read-only home with its own exit-7 error).
   */
  readOnlyReason?: string;
}

/** The home held for writing: where it is, its configuration, and the PIN when one was asked for. */
export interface WriterHome {
  home: Home;
  config: ColdsignConfig;
  pin: string | undefined;
}

/** Runs `fn` as the writer of the home of COLDSIGN_HOME (see the module comment for the order of the steps). */
export async function withWriterHome<T>(
  io: WriterHomeIo,
  fn: (writer: WriterHome) => Promise<T>,
): Promise<T> {
  const home = resolveHome();
  const config = readConfig(home);
  if (io.readOnlyReason !== undefined && !isHomeWritable(home))
    throw makeError('HOME_READ_ONLY', `The coldsign home ${home.dir} is read-only: ${io.readOnlyReason}`, {
      home: home.dir,
    });
  const pin = io.readPin ? await io.readPin() : undefined;
  const lock = acquireHomeLock(home, io.onWait);
  try {
    return await fn({ home, config, pin });
  } finally {
    lock.release();
  }
}
