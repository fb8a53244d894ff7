/**
 * A small pool of logged-in PKCS#11 sessions, so that several signatures are in flight at once
 * (a network HSM's latency is overlapped). A session closed underneath is reopened and logged in
 * once; CKR_FUNCTION_FAILED (throttling) is retried with a bounded back-off; a wrong PIN never is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pkcs11js from './pkcs11js.js';
import { makeError } from '../core/errors.js';
import { call, ckrOf, pkcs11Error } from './pkcs11-errors.js';

/** PKCS#11 v2.40 §5.6 session states (not exported by pkcs11js). */
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

export interface SessionPoolOptions {
  /** Number of sessions (default 4). */
  size?: number;
  /** Back-off before each retry of a throttled call, in ms (default [50, 100, 200]). */
  throttleBackoffMs?: number[];
  /** The login is shared by the host's applications (CloudHSM): "already logged in" counts as logged in. */
  sharedLogin?: boolean;
  /** Open read-only sessions (only where the profile offers them and nothing is written). */
  readOnly?: boolean;
}

export class SessionPool {
  private readonly idle: Buffer[] = [];
  private readonly waiters: Array<(session: Buffer) => void> = [];
  private readonly all = new Set<Buffer>();
  private readonly size: number;
  private readonly backoff: number[];
  private readonly sharedLogin: boolean;
  private readonly flags: number;
  private closed = false;

  private constructor(
    private readonly pkcs11: pkcs11js.PKCS11,
    private readonly slot: Buffer,
    private pin: string,
    options: SessionPoolOptions,
  ) {
    this.size = Math.max(1, options.size ?? 4);
    this.backoff = options.throttleBackoffMs ?? [50, 100, 200];
    this.sharedLogin = options.sharedLogin ?? false;
    this.flags = pkcs11js.CKF_SERIAL_SESSION | (options.readOnly ? 0 : pkcs11js.CKF_RW_SESSION);
  }

  /** Number of sessions in the pool. */
  get sessionCount(): number {
    return this.all.size;
  }

  /** Whether the pool's sessions are read-write. */
  get readWrite(): boolean {
    return (this.flags & pkcs11js.CKF_RW_SESSION) !== 0;
  }

  /** Opens the sessions and logs the user in; a wrong PIN fails at once and is never retried. */
  static open(
    pkcs11: pkcs11js.PKCS11,
    slot: Buffer,
    pin: string,
    options: SessionPoolOptions = {},
  ): SessionPool {
    const pool = new SessionPool(pkcs11, slot, pin, options);
    const first = pool.openSession();
    try {
      pool.login(first, true);
      for (let i = 1; i < pool.size; i++) pool.idle.push(pool.openSession());
    } catch (error) {
      pool.close();
      throw error;
    }
    pool.idle.unshift(first);
    return pool;
  }

  /** Runs `fn` on a pool session: retried once on a lost session, with back-off when throttled. */
  async run<T>(method: string, fn: (session: Buffer) => T | Promise<T>): Promise<T> {
    let session = await this.acquire();
    let reopened = false;
    let attempt = 0;
    try {
      for (;;) {
        try {
          return await fn(session);
        } catch (raw) {
          const error = pkcs11Error(raw, method);
          if (error.code === 'HSM_SESSION_LOST' && !reopened) {
            reopened = true;
            session = this.replace(session);
            continue;
          }
          if (error.code === 'HSM_THROTTLED' && attempt < this.backoff.length) {
            await sleep(this.backoff[attempt] ?? 0);
            attempt += 1;
            continue;
          }
          throw error;
        }
      }
    } finally {
      this.release(session);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const sessions = [...this.all];
    const first = sessions[0];
    if (first) {
      try {
        this.pkcs11.C_Logout(first);
      } catch {
        // not logged in, or the session is already gone
      }
    }
    for (const session of sessions) {
      try {
        this.pkcs11.C_CloseSession(session);
      } catch {
        // already closed
      }
    }
    this.all.clear();
    this.idle.length = 0;
    this.pin = '';
  }

  private openSession(): Buffer {
    const session = call('C_OpenSession', () => this.pkcs11.C_OpenSession(this.slot, this.flags));
    this.all.add(session);
    return session;
  }

  /**
   * Logs the user in. PKCS#11 §5.6: the login state is shared by all sessions of the application, so
   * when `verify` is set and the token is already logged in (another connection of this process), log
   * out and in again so that the PIN given here is checked rather than silently accepted.
   */
  private login(session: Buffer, verify = false): void {
    try {
      this.pkcs11.C_Login(session, pkcs11js.CKU_USER, this.pin);
    } catch (error) {
      if (ckrOf(error) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw pkcs11Error(error, 'C_Login');
      // A shared login (CloudHSM) belongs to the host: logging out would end other users' sessions.
      if (!verify || this.sharedLogin) return;
      call('C_Logout', () => this.pkcs11.C_Logout(session));
      call('C_Login', () => this.pkcs11.C_Login(session, pkcs11js.CKU_USER, this.pin));
    }
  }

  /** Replaces a lost session with a new one and logs in again if the token forgot the login. */
  private replace(lost: Buffer): Buffer {
    this.all.delete(lost);
    try {
      this.pkcs11.C_CloseSession(lost);
    } catch {
      // it is already gone
    }
    const session = this.openSession();
    const info = call('C_GetSessionInfo', () => this.pkcs11.C_GetSessionInfo(session));
    if (info.state !== CKS_RW_USER_FUNCTIONS && info.state !== CKS_RO_USER_FUNCTIONS) {
      this.login(session);
    }
    return session;
  }

  private acquire(): Promise<Buffer> {
    if (this.closed) return Promise.reject(makeError('HSM_SESSION_LOST', 'The HSM connection is closed.'));
    const session = this.idle.pop();
    if (session) return Promise.resolve(session);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(session: Buffer): void {
    if (this.closed) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(session);
    else this.idle.push(session);
  }
}
