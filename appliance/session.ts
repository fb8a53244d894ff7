/**
 * ApplianceSession: the one implementation of ApplianceApi over the real core — the home's config,
 * the SQLite database, the HSM (embedded SoftHSM2 or a PKCS#11 module), chains, policy and QR.
 * The CLI and the desktop app's main process both use it.
 */
import { makeError } from '../core/errors.js';
import type { KeyRecord } from '../core/signer.js';
import { Hsm } from '../hsm/index.js';
import { useSoftHsmHome } from '../hsm/softhsm.js';
import { openDatabase, type ColdsignDb } from '../store/database.js';
import { readConfig, resolveHome, type ColdsignConfig, type Home } from '../store/home.js';
import type {
  ApplianceApi,
  ApprovalDocument,
  AuditEntryView,
  GenerateKeyOptions,
  InputFile,
  ReviewView,
  SignResult,
} from './api.js';
import { generateKey } from './keys.js';

export class ApplianceSession implements ApplianceApi {
  readonly home: Home;
  readonly config: ColdsignConfig;
  readonly db: ColdsignDb;
  private hsm: Hsm | undefined;
  /** Clock, replaceable for tests of time windows. */
  now: () => Date = () => new Date();

  /** Opens the home `homeDir` (or COLDSIGN_HOME / ~/.coldsign). */
  constructor(homeDir?: string) {
    this.home = resolveHome(homeDir ? { ...process.env, COLDSIGN_HOME: homeDir } : process.env);
    this.config = readConfig(this.home);
    this.db = openDatabase(this.home.databasePath);
  }

  async unlock(pin: string): Promise<{ keys: KeyRecord[] }> {
    if (!pin) throw makeError('HSM_PIN_REQUIRED', 'Enter the HSM user PIN to unlock.');
    await this.lock();
    if (this.config.hsm.embedded) useSoftHsmHome(this.home.dir);
    this.hsm = Hsm.open({ module: this.config.hsm.module, token: this.config.hsm.token }, pin);
    return { keys: await this.listKeys() };
  }

  async lock(): Promise<void> {
    const hsm = this.hsm;
    this.hsm = undefined;
    hsm?.close();
  }

  isUnlocked(): boolean {
    return this.hsm !== undefined;
  }

  /** The logged-in HSM, or HSM_PIN_REQUIRED. */
  requireHsm(): Hsm {
    if (!this.hsm) throw makeError('HSM_PIN_REQUIRED', 'The appliance is locked: unlock it with the HSM user PIN first.');
    return this.hsm;
  }

  async listKeys(): Promise<KeyRecord[]> {
    return this.db.listKeys();
  }

  async generateKey(options: GenerateKeyOptions): Promise<KeyRecord> {
    return generateKey(this.db, this.requireHsm(), options, this.now());
  }

  async review(_inputs: InputFile[]): Promise<ReviewView> {
    throw makeError('INTERNAL', 'Request review is not wired yet.');
  }

  async approve(_requestId: string, _officerKeyPem: string, _passphrase: string): Promise<ApprovalDocument> {
    throw makeError('INTERNAL', 'Approvals are not wired yet.');
  }

  async sign(_requestId: string, _approvals: ApprovalDocument[]): Promise<SignResult> {
    throw makeError('INTERNAL', 'Signing is not wired yet.');
  }

  async policyShow(): Promise<{ document: unknown | null; text: string }> {
    throw makeError('INTERNAL', 'Policy display is not wired yet.');
  }

  async policyPreview(_document: unknown): Promise<{ text: string; diff: string[] }> {
    throw makeError('INTERNAL', 'Policy preview is not wired yet.');
  }

  async policyApply(_document: unknown): Promise<{ version: number }> {
    throw makeError('INTERNAL', 'Policy apply is not wired yet.');
  }

  async auditList(_fromSeq: number, _limit: number): Promise<AuditEntryView[]> {
    throw makeError('INTERNAL', 'Audit browsing is not wired yet.');
  }

  async auditVerify(): Promise<{ ok: boolean; entries: number; firstBad?: { seq: number; reason: string } }> {
    throw makeError('INTERNAL', 'Audit verification is not wired yet.');
  }

  async auditExport(): Promise<{ name: string; text: string }> {
    throw makeError('INTERNAL', 'Audit export is not wired yet.');
  }

  async close(): Promise<void> {
    await this.lock();
    this.db.close();
  }
}
