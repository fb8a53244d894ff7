/**
 * The one typed IPC contract (after GitHub Desktop / Signal Desktop): channel → validated arguments → result.
 * Used by Electron main (ipcMain.handle) and by the browser test host (POST /ipc/<channel>): both call dispatch().
 */
import { z } from 'zod';
import type { ApplianceApi } from '../../appliance/api.js';
import { makeError, toColdsignError, type ColdsignError } from '../../core/errors.js';
import {
  CHANNEL_NAMES,
  isChannelName,
  type ChannelArgs,
  type ChannelName,
  type ChannelValue,
  type IpcResult,
} from './channels.js';

export * from './channels.js';

/** Limits on what the renderer may hand to main (hostile renderer: bounded sizes, closed shapes). */
export const IPC_LIMITS = {
  maxInputs: 2000,
  maxInputBytes: 8 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxPinLength: 256,
  maxPemLength: 16 * 1024,
  maxPassphraseLength: 1024,
  maxPolicyBytes: 1024 * 1024,
  maxAuditPage: 1000,
  maxExportKeys: 1000,
} as const;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a request id is 64 lowercase hex characters');
const label = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'a key label is 1 to 64 letters, digits, dots, dashes or underscores',
  );
const bytes = z
  .instanceof(Uint8Array)
  .refine((b) => b.length <= IPC_LIMITS.maxInputBytes, 'an input is at most 8 MiB');
const inputFile = z.object({ name: z.string().max(255), bytes }).strict();
const approval = z
  .object({
    type: z.literal('coldsign-approval'),
    requestId: hex64,
    keys: z.array(z.string().min(1).max(64)).min(1).max(64),
    policyVersion: z.number().int().min(1),
    officer: z.string().min(1).max(64),
    signature: z.string().min(1).max(512),
    createdAt: z.string().max(64),
    expiresAt: z.string().max(64),
  })
  .strict();
/** The policy file's raw text: main reads it strictly (duplicate keys refused), the renderer never parses it. */
const policyText = z.string().max(IPC_LIMITS.maxPolicyBytes, 'a policy document is at most 1 MiB');

const inputFiles = z
  .array(inputFile)
  .min(1)
  .max(IPC_LIMITS.maxInputs)
  .refine(
    (files) => files.reduce((n, f) => n + f.bytes.length, 0) <= IPC_LIMITS.maxTotalBytes,
    'the inputs are at most 64 MiB together',
  );
const exportFormat = z.string().regex(/^[a-z]{1,32}$/, 'an export format is a lowercase word');

/** Argument validators, one per channel; each must produce exactly the method's parameter tuple. */
export const CHANNEL_ARGUMENTS: { [K in ChannelName]: z.ZodType<ChannelArgs<K>> } = {
  unlock: z.tuple([z.string().min(1).max(IPC_LIMITS.maxPinLength)]),
  lock: z.tuple([]),
  isUnlocked: z.tuple([]),
  unlockStatus: z.tuple([]),
  listKeys: z.tuple([]),
  generateKey: z.tuple([
    z
      .object({
        chain: z.enum(['btc', 'evm']),
        label,
        script: z.enum(['p2wpkh', 'p2sh-p2wpkh', 'p2pkh']).optional(),
        network: z.enum(['mainnet', 'testnet', 'signet', 'regtest']).optional(),
      })
      .strict(),
  ]),
  keyExport: z.union([
    z.tuple([z.array(label).max(IPC_LIMITS.maxExportKeys), exportFormat]),
    z.tuple([
      z.array(label).max(IPC_LIMITS.maxExportKeys),
      exportFormat,
      z
        .object({ qr: z.boolean().optional(), fragmentBytes: z.number().int().min(10).max(4000).optional() })
        .strict(),
    ]),
  ]),
  review: z.tuple([inputFiles]),
  approvalPreview: z.tuple([inputFiles]),
  approve: z.tuple([
    hex64,
    z.string().min(1).max(IPC_LIMITS.maxPemLength),
    z.string().max(IPC_LIMITS.maxPassphraseLength),
  ]),
  sign: z.tuple([hex64, z.array(approval).max(64)]),
  policyShow: z.tuple([]),
  policyPreview: z.tuple([policyText]),
  policyApply: z.tuple([policyText]),
  auditList: z.tuple([z.number().int().min(0), z.number().int().min(1).max(IPC_LIMITS.maxAuditPage)]),
  auditVerify: z.tuple([]),
  auditExport: z.tuple([]),
  auditPublicKey: z.tuple([]),
};

/** The only channels that answer before the HSM is unlocked (keys, policy and the audit log are shown after unlock). */
export const OPEN_WHILE_LOCKED: ReadonlySet<ChannelName> = new Set<ChannelName>(['unlock', 'isUnlocked']);

/**
 * A ColdsignError as an IPC failure: its stable code and its one-sentence message. INTERNAL errors get a generic
 * message (their text may carry paths or state; it stays in main).
 */
export function failure(error: ColdsignError): IpcResult<never> {
  if (error.code === 'INTERNAL')
    return {
      ok: false,
      error: { code: 'INTERNAL', message: 'Internal error: the appliance could not complete the request.' },
    };
  return { ok: false, error: { code: error.code, message: error.message } };
}

/** The argument error, in the shape of every other failure (nothing reaches the appliance). */
function invalidArguments(channel: string, issue: z.core.$ZodIssue | undefined): IpcResult<never> {
  const where = issue && issue.path.length > 0 ? ` (argument ${issue.path.join('.')})` : '';
  return failure(
    makeError(
      'IPC_ARGUMENTS_INVALID',
      `The ${channel} request was refused: ${issue?.message ?? 'invalid arguments'}${where}.`,
    ),
  );
}

/**
 * Validates the arguments of `channel`, calls the appliance and reduces any failure to {code, message}.
 * Unknown errors become INTERNAL with a generic message (their text may carry paths or state; it stays in main).
 */
export async function dispatch(
  api: ApplianceApi,
  channel: string,
  rawArgs: unknown,
): Promise<IpcResult<unknown>> {
  if (!isChannelName(channel)) {
    return failure(makeError('IPC_CHANNEL_UNKNOWN', `There is no "${channel.slice(0, 40)}" request.`));
  }
  const parsed = CHANNEL_ARGUMENTS[channel].safeParse(rawArgs);
  if (!parsed.success) return invalidArguments(channel, parsed.error.issues[0]);
  if (!OPEN_WHILE_LOCKED.has(channel) && !api.isUnlocked()) {
    return failure(
      makeError('HSM_PIN_REQUIRED', 'The appliance is locked: unlock it with the HSM user PIN first.'),
    );
  }
  try {
    const method = api[channel] as (...args: unknown[]) => unknown;
    const value = await method.apply(api, parsed.data as unknown[]);
    return { ok: true, value: value as ChannelValue<typeof channel> };
  } catch (error) {
    return failure(toColdsignError(error));
  }
}

export { CHANNEL_NAMES };
