/**
 * The CLI's way to become the home's writer (appliance/writer-home.ts) with the PIN read from the
 * terminal or COLDSIGN_PIN: shared by the session commands and `audit verify`, which opens no session.
 */
import { withWriterHome, type WriterHome } from '../appliance/writer-home.js';
import { PIN, readSecret } from './secrets.js';

export function withCliWriter<T>(fn: (writer: WriterHome) => Promise<T>): Promise<T> {
  return withWriterHome(
    {
      readPin: () => readSecret(PIN),
      onWait: () =>
        process.stderr.write('Another coldsign process is using this home; waiting for it to finish...\n'),
      readOnlyReason:
        'this command records to the audit log and needs to write; make it writable (keys list, policy show and audit export work as it is).',
    },
    fn,
  );
}

/** The checkpoint head on every unlock: an auditor comparing it over time notices a head that went back. */
export function showUnlockedHead(head: { seq: number; hash: string }): void {
  if (process.stderr.isTTY) process.stderr.write(`audit head: entry ${head.seq} ${head.hash}\n`);
}
