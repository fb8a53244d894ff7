/**
 * The app's appliance session under the home's writer lock (store/home.ts acquireHomeLock), the lock the CLI's
 * writing commands take: held from unlock to lock (or quit), because an unlocked app writes to the audit log at
 * every review and signature. While the app is unlocked a CLI writer waits and then exits 7 (HOME_BUSY); while
 * it is locked the CLI writes freely, and the next unlock opens the audit log afresh against the HSM anchor
 * (the checkpoint and the tail another process wrote), so nothing is refused for having changed. An unlock while
 * another process holds the home fails at once with HOME_BUSY (the main process never blocks waiting).
 */
import type { KeyRecord } from '../../core/signer.js';
import { ApplianceSession } from '../../appliance/session.js';
import type { AuditHead } from '../../store/audit.js';
import { acquireHomeLock, type HomeLock } from '../../store/home.js';

export class WriterLockedSession extends ApplianceSession {
  private writerLock: HomeLock | undefined;
  /** ApplianceSession.unlock locks first (this.lock()): that inner call must keep the lock just taken. */
  private unlocking = false;

  override async unlock(pin: string): Promise<{ keys: KeyRecord[]; head: AuditHead; auditWarning?: string }> {
    await this.lock();
    this.writerLock = acquireHomeLock(this.home, () => {}, { COLDSIGN_LOCK_WAIT: '0' });
    this.unlocking = true;
    try {
      return await super.unlock(pin);
    } catch (error) {
      this.releaseWriterLock();
      throw error;
    } finally {
      this.unlocking = false;
    }
  }

  override async lock(): Promise<void> {
    try {
      await super.lock();
    } finally {
      if (!this.unlocking) this.releaseWriterLock();
    }
  }

  /** True while this session holds the home's writer lock (unlocked). */
  get holdsWriterLock(): boolean {
    return this.writerLock !== undefined;
  }

  private releaseWriterLock(): void {
    const lock = this.writerLock;
    this.writerLock = undefined;
    lock?.release();
  }
}
