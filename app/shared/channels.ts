/**
 * The IPC channel names, one per ApplianceApi method (no dependencies: bundled into the sandboxed preload).
 * The typed map (arguments, results, validators) is in ./ipc.ts.
 */
import type { ApplianceApi } from '../../appliance/api.js';
import type { KeyRecord } from '../../core/signer.js';
import type { AuditHead } from '../../store/audit-chain.js';

export type ChannelName = keyof ApplianceApi;

/** Every method of ApplianceApi, exactly once (the `satisfies` below fails the build when one is missing). */
const ALL: { [K in ChannelName]: true } = {
  unlock: true,
  lock: true,
  isUnlocked: true,
  unlockStatus: true,
  listKeys: true,
  generateKey: true,
  keyExport: true,
  review: true,
  approvalPreview: true,
  approve: true,
  sign: true,
  policyShow: true,
  policyPreview: true,
  policyApply: true,
  auditList: true,
  auditVerify: true,
  auditExport: true,
  auditPublicKey: true,
};

export const CHANNEL_NAMES = Object.keys(ALL) as ChannelName[];

/** The Electron IPC channel of a method, e.g. "coldsign:unlock". */
export function ipcChannel(name: ChannelName): string {
  return `coldsign:${name}`;
}

export function isChannelName(value: string): value is ChannelName {
  return Object.prototype.hasOwnProperty.call(ALL, value);
}

/** What every channel resolves to: a value, or a ColdsignError reduced to its stable code and message. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

/** The result of a channel: what the ApplianceApi method returns, awaited. */
export type ChannelArgs<K extends ChannelName> = Parameters<ApplianceApi[K]>;
export type ChannelValue<K extends ChannelName> = K extends keyof ChannelResults
  ? ChannelResults[K]
  : Awaited<ReturnType<ApplianceApi[K]>>;

/** What unlock answers: our keys, and the audit checkpoint head the database was checked against at start-up. */
export interface UnlockResult {
  keys: KeyRecord[];
  head: AuditHead;
  /** One sentence when the whole audit log was not verified within the policy's audit.fullVerifyEvery. */
  auditWarning?: string;
}

/** Channels whose result carries more than ApplianceApi declares. */
interface ChannelResults {
  unlock: UnlockResult;
}

/** What the preload exposes as `window.coldsign`: one function per channel (never ipcRenderer itself). */
export type ColdsignBridge = {
  [K in ChannelName]: (...args: ChannelArgs<K>) => Promise<IpcResult<ChannelValue<K>>>;
};

/** The origin the app is served from (Electron custom protocol, registered as standard and secure). */
export const APP_SCHEME = 'coldsign';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
