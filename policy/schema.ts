/**
 * The policy document (SPEC "Policy document") as a zod 4 schema. Every mistake becomes
 * POLICY_INVALID naming the field path ("rules[0].maxAmount: …"). Unknown fields are errors, so a
 * typo never silently widens a rule. docs/policy.md documents every field.
 */
import { z } from 'zod';
import { makeError } from '../core/errors.js';
import { parseWalletDescriptor, WalletDescriptorError } from '../core/btc-wallet.js';
import { parseJsonStrict } from '../core/json.js';
import { DECIMAL_RE, decimalPlaces, nativeDecimals } from './amounts.js';
import { evmAddressProblem, ruleAllowlistIssues } from './allowlist-checks.js';
import { operatorMessage } from './messages.js';

export const POLICY_KINDS = ['transfer', 'token_transfer', 'contract_call', 'message', 'typed_data'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** Sighash types a Bitcoin rule may name (BIP-143/legacy); a rule without `sighashTypes` allows ALL only. */
export const BTC_SIGHASH_TYPES = {
  ALL: 0x01,
  NONE: 0x02,
  SINGLE: 0x03,
  'ALL|ANYONECANPAY': 0x81,
  'NONE|ANYONECANPAY': 0x82,
  'SINGLE|ANYONECANPAY': 0x83,
} as const;
export type BtcSighashName = keyof typeof BTC_SIGHASH_TYPES;
const SIGHASH_NAMES = Object.keys(BTC_SIGHASH_TYPES) as [BtcSighashName, ...BtcSighashName[]];

const EVM_ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** A schema's own words for a wrong JSON type only; range and size problems keep their plain words (./messages.ts). */
const typeError = (text: string) => ({
  error: (issue: { code?: string }) => (issue.code === 'invalid_type' ? text : undefined),
});

const decimal = z.string({ error: 'must be a decimal amount in quotes, like "0.5"' }).regex(DECIMAL_RE, {
  error: 'must be a decimal amount in quotes, like "0.5" (no sign, no exponent, no spaces)',
});
const evmAddress = z
  .string({ error: 'must be an EVM address' })
  .regex(EVM_ADDRESS_RE, { error: 'must be a 0x-prefixed 20-byte hex address' })
  .superRefine((text, ctx) => {
    if (!EVM_ADDRESS_RE.test(text)) return;
    const problem = evmAddressProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const nonEmptyText = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .regex(/\S/, { error: `must be ${what}` })
    .max(200, { error: 'must have at most 200 characters' });

const destination = z.strictObject({
  address: nonEmptyText('an address'),
  label: nonEmptyText('a label naming the destination'),
});

/** A duration like "30m", "24h" or "30d" (velocity windows, approval deadlines). */
const duration = z
  .string()
  .regex(/^[1-9]\d{0,5}(s|m|h|d)$/, { error: 'must be a duration like "30m", "24h" or "7d"' });

const token = z.strictObject({
  contract: evmAddress,
  symbol: nonEmptyText('the token symbol, like "USDC"'),
  decimals: z.int(typeError('must be the token decimals, a whole number')).min(0).max(36),
  maxAmount: decimal.optional(),
  velocityMaxAmount: decimal.optional(),
  approvalMaxAmount: decimal.optional(),
  approvalMaxDeadline: duration.optional(),
});

/** Safe gas refunds a rule allows: to this receiver, in this asset ("ETH" or a listed token), at most maxAmount. */
const safeRefund = z.strictObject({
  receiver: evmAddress,
  label: nonEmptyText('a label naming the refund receiver'),
  asset: z.union([z.literal('ETH'), evmAddress], { error: 'must be "ETH" or a token contract address' }),
  maxAmount: decimal,
});

/** EIP-7702 delegations a rule allows: to this contract, on these chains (0 = every chain, only when listed). */
const delegation = z.strictObject({
  contract: evmAddress,
  label: nonEmptyText('a label').optional(),
  chainIds: z
    .array(z.int().min(0), { error: 'must be a list of chain ids (0 = every chain)' })
    .min(1, { error: 'must list at least one chain id' }),
});

const contract = z.strictObject({
  address: evmAddress,
  label: nonEmptyText('a label').optional(),
  selectors: z
    .array(z.string().regex(/^0x[0-9a-fA-F]{8}$/, { error: 'must be a 4-byte selector like "0xa9059cbb"' }))
    .min(1, { error: 'must list at least one 4-byte function selector' }),
});

const typedDataDomain = z
  .strictObject({
    name: z.string().optional(),
    version: z.string().optional(),
    chainId: z.int().positive().optional(),
    verifyingContract: evmAddress.optional(),
    salt: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, { error: 'must be a 32-byte hex salt' })
      .optional(),
  })
  .refine((domain) => Object.keys(domain).length > 0, {
    error: 'must name at least one EIP-712 domain field',
  });

const velocity = z
  .strictObject({
    window: duration,
    maxAmount: decimal.optional(),
    maxCount: z.int(typeError('must be a whole number')).min(1).optional(),
  })
  .refine((v) => v.maxAmount !== undefined || v.maxCount !== undefined, {
    error: 'must set maxAmount or maxCount',
  });

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a UTC time "HH:MM"' });
const hours = z
  .strictObject({ from: hhmm, to: hhmm, days: z.array(z.enum(DAYS)).min(1).optional() })
  .refine((h) => h.from !== h.to, { error: 'from and to must differ' });

export const ruleSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
      error: 'must be 1–64 letters, digits, ".", "_" or "-"',
    }),
    description: z.string().max(500).optional(),
    chain: z.enum(['btc', 'evm'], { error: 'must be "btc" or "evm"' }),
    network: z
      .enum(['mainnet', 'testnet', 'signet', 'regtest'], {
        error: 'must be mainnet, testnet, signet or regtest',
      })
      .optional(),
    chainIds: z
      .union([z.array(z.int().positive()).min(1), z.literal('any')], {
        error: 'must be a list of EIP-155 chain ids or "any"',
      })
      .optional(),
    keys: z.array(nonEmptyText('a key label')).min(1).optional(),
    kinds: z
      .array(z.enum(POLICY_KINDS, { error: `must be one of ${POLICY_KINDS.join(', ')}` }))
      .min(1)
      .optional(),
    destinations: z.array(destination).optional(),
    anyDestination: z.boolean().optional(),
    maxAmount: decimal.optional(),
    tokens: z.array(token).optional(),
    velocity: velocity.optional(),
    maxFee: decimal.optional(),
    maxFeeRate: z.number().positive().max(1_000_000).optional(),
    maxFeePercent: z
      .number()
      .positive()
      .max(100)
      .refine((n) => Number.isInteger(n * 10_000), { error: 'must have at most 4 decimals' })
      .optional(),
    contracts: z.array(contract).optional(),
    typedDataDomains: z.array(typedDataDomain).min(1).optional(),
    allowBlind: z.boolean().optional(),
    allowUnlimitedApprovals: z.boolean().optional(),
    allowDelegatecall: z.boolean().optional(),
    approvalMaxDeadline: duration.optional(),
    safeRefunds: z.array(safeRefund).optional(),
    delegations: z.array(delegation).optional(),
    maxMessageBytes: z.int({ error: 'must be a whole number of bytes' }).min(1).max(65536).optional(),
    approvals: z.int(typeError('must be a whole number of officers')).min(0).max(32).optional(),
    hours: hours.optional(),
    sighashTypes: z
      .array(z.enum(SIGHASH_NAMES, { error: `must be one of ${SIGHASH_NAMES.join(', ')}` }))
      .min(1)
      .optional(),
    allowWitnessUtxoOnly: z.boolean().optional(),
  })
  .superRefine((rule, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (rule.chain === 'btc') {
      if (!rule.network) issue(['network'], 'a Bitcoin rule must name its network');
      for (const field of [
        'chainIds',
        'tokens',
        'contracts',
        'typedDataDomains',
        'approvalMaxDeadline',
        'safeRefunds',
        'delegations',
      ] as const) {
        if (rule[field] !== undefined) issue([field], 'applies only to EVM rules');
      }
      // BIP-322 and the legacy signed message: a Bitcoin rule may allow messages of its keys' addresses.
      if (rule.kinds?.some((kind) => kind !== 'transfer' && kind !== 'message'))
        issue(['kinds'], 'a Bitcoin rule can only allow "transfer" and "message"');
      if (rule.maxMessageBytes !== undefined && !rule.kinds?.includes('message'))
        issue(['maxMessageBytes'], 'applies only to a rule whose kinds include "message"');
      // NONE and SINGLE leave outputs open to rewriting: the whole input is at risk and must be capped.
      if (rule.sighashTypes?.some((t) => !t.startsWith('ALL')) && rule.maxAmount === undefined)
        issue(['maxAmount'], 'must be set when sighashTypes allows NONE or SINGLE (the inputs are at risk)');
      // CVE-2020-14199: a witness_utxo amount is unproven, so the fee it implies must be capped.
      if (rule.allowWitnessUtxoOnly && rule.maxFee === undefined)
        issue(['maxFee'], 'must be set when allowWitnessUtxoOnly is true (the fee is then unverified)');
    } else {
      for (const field of ['sighashTypes', 'allowWitnessUtxoOnly'] as const) {
        if (rule[field] !== undefined) issue([field], 'applies only to Bitcoin rules');
      }
      // A message (EIP-191) has no chain: a rule for messages only may leave chainIds out.
      if (!rule.chainIds && !rule.kinds?.every((k) => k === 'message'))
        issue(['chainIds'], 'an EVM rule must list its chainIds (or "any")');
      if (rule.network !== undefined) issue(['network'], 'applies only to Bitcoin rules (use chainIds)');
      if (rule.maxFeeRate !== undefined) issue(['maxFeeRate'], 'applies only to Bitcoin rules (sat/vB)');
    }
    const native = nativeDecimals(rule.chain);
    for (const [field, value] of [
      ['maxAmount', rule.maxAmount],
      ['maxFee', rule.maxFee],
    ] as const) {
      if (value !== undefined && decimalPlaces(value) > native)
        issue([field], `has more than ${native} decimals`);
    }
    if (rule.velocity?.maxAmount !== undefined && decimalPlaces(rule.velocity.maxAmount) > native) {
      issue(['velocity', 'maxAmount'], `has more than ${native} decimals`);
    }
    rule.safeRefunds?.forEach((r, i) => {
      const decimals =
        r.asset === 'ETH'
          ? native
          : rule.tokens?.find((t) => t.contract.toLowerCase() === r.asset.toLowerCase())?.decimals;
      if (decimals === undefined) issue(['safeRefunds', i, 'asset'], 'must be "ETH" or a token of tokens');
      else if (decimalPlaces(r.maxAmount) > decimals)
        issue(['safeRefunds', i, 'maxAmount'], `has more than ${decimals} decimals`);
    });
    rule.tokens?.forEach((t, i) => {
      for (const field of ['maxAmount', 'velocityMaxAmount', 'approvalMaxAmount'] as const) {
        const value = t[field];
        if (value !== undefined && decimalPlaces(value) > t.decimals)
          issue(['tokens', i, field], `has more than ${t.decimals} decimals`);
      }
      if (t.velocityMaxAmount !== undefined && !rule.velocity)
        issue(['tokens', i, 'velocityMaxAmount'], 'needs velocity.window');
    });
    if (rule.anyDestination && rule.destinations)
      issue(['anyDestination'], 'cannot be combined with destinations');
    // Allowlist entries that can never match (broken checksums, another network's addresses).
    for (const problem of ruleAllowlistIssues(rule)) issue(problem.path, problem.message);
  });

export const policySignatureSchema = z.strictObject({
  officer: nonEmptyText('the officer name'),
  signature: z
    .string()
    .regex(/^[A-Za-z0-9+/]{86}==$/, { error: 'must be a base64 Ed25519 signature (64 bytes)' }),
});

/** A registered multisig wallet (BIP-380 descriptor): outputs paying it count as change, its inputs may be signed. */
export const walletSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, {
      error: 'must be 1–64 letters, digits, spaces, ".", "_" or "-"',
    }),
    descriptor: z.string({ error: 'must be an output descriptor' }).min(1),
    network: z.enum(['mainnet', 'testnet', 'signet', 'regtest'], {
      error: 'must be mainnet, testnet, signet or regtest',
    }),
  })
  .superRefine((wallet, ctx) => {
    try {
      parseWalletDescriptor(wallet.name, wallet.descriptor, wallet.network);
    } catch (error) {
      if (!(error instanceof WalletDescriptorError)) throw error;
      ctx.addIssue({ code: 'custom', path: ['descriptor'], message: error.message });
    }
  });

export const policySchema = z
  .strictObject({
    version: z.int(typeError('must be a whole number')).min(1, { error: 'must be at least 1' }),
    description: z.string().max(2000).optional(),
    /** The appliance the officers signed this policy for: its audit public key (SEC 1 compressed, hex). */
    appliance: z
      .string()
      .regex(/^0[23][0-9a-f]{64}$/, {
        error:
          "must be the appliance's audit public key as coldsign init printed it (66 lower-case hex digits starting 02 or 03)",
      })
      .optional(),
    /** How long an officer approval stays valid after it is made (default "24h", policy/approvals.ts). */
    approvalExpiry: z
      .string()
      .regex(/^[1-9]\d{0,5}(s|m|h|d)$/, { error: 'must be a duration like "30m", "24h" or "7d"' })
      .optional(),
    /** How often the whole audit log must be verified (`audit verify`) before unlock warns (default "30d"). */
    audit: z
      .strictObject({
        fullVerifyEvery: z
          .string()
          .regex(/^[1-9]\d{0,5}(s|m|h|d)$/, { error: 'must be a duration like "7d" or "30d"' })
          .optional(),
      })
      .optional(),
    rules: z.array(ruleSchema, { error: 'must be a list of rules' }),
    wallets: z.array(walletSchema, { error: 'must be a list of wallets' }).max(256).optional(),
    signatures: z.array(policySignatureSchema).optional(),
  })
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    doc.rules.forEach((rule, i) => {
      if (seen.has(rule.id))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'id'],
          message: `repeats the rule id "${rule.id}"`,
        });
      seen.add(rule.id);
    });
    const names = new Set<string>();
    doc.wallets?.forEach((wallet, i) => {
      if (names.has(wallet.name))
        ctx.addIssue({
          code: 'custom',
          path: ['wallets', i, 'name'],
          message: `repeats the wallet name "${wallet.name}"`,
        });
      names.add(wallet.name);
    });
  });

export type PolicyRule = z.infer<typeof ruleSchema>;
export type PolicyDocument = z.infer<typeof policySchema>;
export type PolicySignature = z.infer<typeof policySignatureSchema>;
export type PolicyWallet = z.infer<typeof walletSchema>;

/** "rules[0].tokens[1].maxAmount" from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, part) =>
      typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part),
    '',
  );
}

/** Plain words for zod's generic issues (unknown fields, wrong JSON types). */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling)`;
  }
  if (issue.code === 'invalid_type' && issue.path.length === 0) return 'must be a JSON object';
  return issue.message;
}

/** Validates a policy document (parsed JSON or JSON text). POLICY_INVALID names the first bad field. */
export function parsePolicy(input: unknown): PolicyDocument {
  let value = input;
  if (typeof input === 'string') {
    value = parseJsonStrict(input, 'The policy document', 'POLICY_INVALID');
  }
  const result = policySchema.safeParse(value, { error: operatorMessage });
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const where = first && first.path.length > 0 ? formatPath(first.path) : 'document';
  const message = first ? issueMessage(first) : 'is not a policy document';
  const count = result.error.issues.length;
  throw makeError(
    'POLICY_INVALID',
    `Policy field ${where}: ${message}${count > 1 ? ` (and ${count - 1} more problem${count > 2 ? 's' : ''})` : ''}.`,
    {
      field: where,
      problems: result.error.issues.map(
        (issue) => `${formatPath(issue.path) || 'document'}: ${issueMessage(issue)}`,
      ),
    },
  );
}
