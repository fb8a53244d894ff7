/**
 * The review model (pure): summary + decision + policy → what the operator must see before signing, in the order
 * it matters — the verdict and a one-line headline (what leaves our keys, to how many destinations, at what fee),
 * every movement with units and allowlist labels, fee lines and warnings by severity, then the details.
 * The CLI text, the `--json` report's `review` and the app's review screen are thin formatters of this one model.
 */
import type { ErrorCode } from '../core/errors.js';
import type { Decision, Movement, MovementChannel, RuleReason, SigningSummary } from '../core/summary.js';
import { btcCountedLeaving, formatUnits } from '../policy/amounts.js';
import type { PolicyDocument, PolicyRule } from '../policy/schema.js';
import { OUTPOINT_LEDGER_RULE } from '../policy/outpoint-conflicts.js';
import {
  addDecimals,
  CHANNEL_NAMES,
  deadlineText,
  displayAddress,
  evmNetworkName,
  gwei,
  KIND_NAMES,
} from './review-words.js';

export type Severity = 'danger' | 'warning' | 'info';

export interface ReviewWarning {
  severity: Severity;
  text: string;
}

export interface ReviewMovement {
  channel: MovementChannel;
  /** "payment", "spending approval", … */
  channelName: string;
  /** True when value leaves our keys (everything but change). */
  leaves: boolean;
  /**
   * True for a movement that sends nothing (a zero-value `call` / `safe-call`, e.g. 0 ETH to a token contract
   * whose calldata moves the tokens): it says where the call goes, not value sent, and is left out of "You send".
   */
  callOnly: boolean;
  /** Whose value moves, when the request says (EIP-55 for EVM). */
  from: string | null;
  /** Destination, spender or delegate (EIP-55 for EVM); null for OP_RETURN data and unknown scripts. */
  to: string | null;
  /** The allowlist label of `to`, "our key", or the registered wallet's name; null when on no list. */
  label: string | null;
  /** Asset name: "BTC", "ETH", "USDC", or "token 0x…" when the token is not known. */
  asset: string;
  /** Token contract (EIP-55), for token movements. */
  token: string | null;
  /** "0.5 BTC", "5000 USDC", "UNLIMITED USDC", "12 base units of token 0x…". */
  amount: string;
  unbounded: boolean;
  deadline: string | null;
  /** "2026-12-30 12:00 UTC (in 30 days)". */
  deadlineText: string | null;
}

export interface ReviewLine {
  label: string;
  value: string;
}

export interface ReviewHeadline {
  /** "You send 0.5 BTC to 2 destinations + fee 0.0001 BTC (10 sat/vB) — total leaving 0.5001 BTC". */
  text: string;
  /** Sent (change and fee excluded), per asset: ["0.5 BTC"]. */
  sent: string[];
  destinations: number;
  /** "0.0001 BTC (10 sat/vB)", "at most 0.0021 ETH", or null. */
  fee: string | null;
  /** Sent plus fee, per asset: ["0.5001 BTC"]. */
  totalLeaving: string[];
  /** "You allow 0xabc… to spend UNLIMITED USDC until …" lines. */
  approvals: string[];
}

/**
 * What refused a request: the policy, or the outpoint ledger (an input claimed with another amount or script than
 * when our key signed it, BIP-143/BIP-174): no policy change can allow the latter.
 */
export type RefusedBy = 'policy' | 'outpoint-ledger';

export interface ReviewVerdict {
  allowed: boolean;
  /** "ALLOWED by rule btc-exchange", "REFUSED by the policy" or "REFUSED by the outpoint ledger". */
  title: string;
  /** Null when allowed. */
  refusedBy: RefusedBy | null;
  /** The stable error code a refusal ends with (`sign` exits with it), or null when allowed. */
  code: Extract<ErrorCode, 'POLICY_DENIED' | 'PSBT_OUTPOINT_AMOUNT_CONFLICT'> | null;
  rule: string | null;
  /** The rule the request came closest to (fewest failing checks); the allowing rule when allowed. */
  closestRule: string | null;
  /** The outpoint ledger's refusal first (when it refused), the reasons of the closest (or allowing) rule, then the default verdict. */
  reasons: RuleReason[];
  /** Every other rule's reasons, folded away by the front ends. */
  folded: RuleReason[];
  requiredApprovals: number;
  /** Officers whose valid approvals were given (null while none were asked for). */
  approvalsGiven: string[] | null;
}

export interface ReviewModel {
  requestId: string;
  chain: 'btc' | 'evm';
  kind: SigningSummary['kind'];
  kindName: string;
  /** "Bitcoin mainnet", "Ethereum mainnet (chain 1)". */
  network: string;
  chainId: number | null;
  signingKeys: string[];
  /** The signing address (EVM), when known. */
  from: string | null;
  verdict: ReviewVerdict;
  headline: ReviewHeadline;
  movements: ReviewMovement[];
  /** Fee, fee rate, gas limit, fee caps, maximum fee, nonce. */
  fees: ReviewLine[];
  warnings: ReviewWarning[];
  call: { contract: string; function: string; args: ReviewLine[] } | null;
  typedData: { primaryType: string; domain: ReviewLine[] } | null;
  message: { text: string | null; hex: string } | null;
  blind: boolean;
  /** Other facts worth a line: inputs, txid, origin. */
  facts: ReviewLine[];
}

/** Defaults when the policy sets no fee limit (a fee above these is worth a second look). */
export const FEE_WARNING_DEFAULTS = {
  btc: { maxFee: '0.001', maxFeeRate: 100, maxFeePercent: 2 },
  evm: { maxFee: '0.05', maxFeeRate: undefined, maxFeePercent: 5 },
} as const;

const DANGER_RE = /unlimited|delegatecall|7702|blind|not understood|unverified|not verified|DANGER/i;

export interface ReviewInput {
  requestId: string;
  summary: SigningSummary;
  decision: Decision & { closestRule?: string | null };
  policy: PolicyDocument | null;
  approvalsGiven?: string[] | null;
  now: Date;
}

export function buildReviewModel(input: ReviewInput): ReviewModel {
  const { summary, decision, policy } = input;
  const labels = allowlistLabels(policy);
  const movements = summary.movements
    .filter((m) => channelOf(m, summary) !== 'fee')
    .map((m) => reviewMovement(m, summary, labels, input.now));
  const verdict = reviewVerdict(decision, policy, summary, input.approvalsGiven ?? null);
  const rule = policy?.rules.find((r) => r.id === verdict.closestRule) ?? null;
  return {
    requestId: input.requestId,
    chain: summary.chain,
    kind: summary.kind,
    kindName: KIND_NAMES[summary.kind],
    network:
      summary.chain === 'btc' ? `Bitcoin ${summary.network ?? ''}`.trim() : evmNetworkName(summary.chainId),
    chainId: summary.chainId ?? null,
    signingKeys: summary.signingKeys,
    from: displayAddress(stringOf(summary.details.from), summary.chain),
    verdict,
    headline: headline(summary, movements),
    movements,
    fees: feeLines(summary),
    warnings: warnings(summary, movements, rule),
    call: summary.call
      ? {
          contract: displayAddress(summary.call.contract, 'evm') ?? summary.call.contract,
          function: summary.call.name ?? `unknown function (selector ${summary.call.selector})`,
          args: Object.entries(summary.call.args).map(([label, value]) => ({ label, value })),
        }
      : null,
    typedData: summary.typedData
      ? {
          primaryType: summary.typedData.primaryType,
          domain: Object.entries(summary.typedData.domain).map(([label, value]) => ({ label, value })),
        }
      : null,
    message: summary.message ?? null,
    blind: summary.blind,
    facts: facts(summary),
  };
}

/** Address (lower case) → allowlist label, from every rule's destinations (and the tokens' symbols). */
export function allowlistLabels(policy: PolicyDocument | null): Map<string, string> {
  const labels = new Map<string, string>();
  for (const rule of policy?.rules ?? []) {
    for (const d of rule.destinations ?? []) if (d.label) labels.set(d.address.toLowerCase(), d.label);
    for (const c of rule.contracts ?? []) if (c.label) labels.set(c.address.toLowerCase(), c.label);
  }
  return labels;
}

/** The channel of a movement; older summaries without one are read as the movement model would fill them. */
function channelOf(m: Movement, summary: SigningSummary): MovementChannel {
  if (m.channel) return m.channel;
  if (summary.chain === 'btc') return m.change ? 'change' : 'output';
  if (m.asset.type === 'native') return 'native';
  return summary.call?.spendingApproval ? 'approval' : 'token-transfer';
}

function assetName(m: Movement): string {
  if (m.asset.type === 'native') return m.asset.symbol;
  return m.asset.symbol ?? `token ${displayAddress(m.asset.contract, 'evm')}`;
}

function reviewMovement(
  m: Movement,
  summary: SigningSummary,
  labels: Map<string, string>,
  now: Date,
): ReviewMovement {
  const channel = channelOf(m, summary);
  const asset = assetName(m);
  const to = displayAddress(m.to, summary.chain);
  const amount = m.unbounded
    ? `UNLIMITED ${asset}`
    : m.amount !== null
      ? `${m.amount} ${asset}`
      : `${m.raw} base units of ${asset}`;
  const label =
    (to ? labels.get(to.toLowerCase()) : undefined) ??
    (m.wallet ? `wallet ${m.wallet}` : m.change ? 'our key' : null);
  const callOnly = SENDING.has(channel) && !m.unbounded && /^0+$/.test(m.raw);
  return {
    channel,
    channelName: callOnly ? `${CHANNEL_NAMES[channel]} (no value sent)` : CHANNEL_NAMES[channel],
    leaves: !m.change && channel !== 'change',
    callOnly,
    from: displayAddress(m.from ?? null, summary.chain),
    to,
    label,
    asset,
    token: m.asset.type === 'token' ? displayAddress(m.asset.contract, 'evm') : null,
    amount,
    unbounded: Boolean(m.unbounded),
    deadline: m.deadline ?? null,
    deadlineText: deadlineText(m.deadline, now),
  };
}

/** Channels through which value is sent (as opposed to allowed to be taken, or handed over). */
const SENDING: ReadonlySet<MovementChannel> = new Set([
  'output',
  'native',
  'token-transfer',
  'safe-call',
  'safe-refund',
  'call',
]);

function nativeSymbol(summary: SigningSummary): string {
  return summary.chain === 'btc' ? 'BTC' : 'ETH';
}

function headline(summary: SigningSummary, movements: ReviewMovement[]): ReviewHeadline {
  const sends = movements.filter((m) => m.leaves && !m.callOnly && SENDING.has(m.channel));
  const byAsset = new Map<string, { amounts: string[]; unbounded: boolean; baseUnits: boolean }>();
  for (const m of sends) {
    const entry = byAsset.get(m.asset) ?? { amounts: [], unbounded: false, baseUnits: false };
    if (m.unbounded) entry.unbounded = true;
    else if (/base units/.test(m.amount)) entry.baseUnits = true;
    else entry.amounts.push(m.amount.slice(0, m.amount.length - m.asset.length - 1));
    byAsset.set(m.asset, entry);
  }
  const total = (asset: string, extra: string[] = []) => {
    const entry = byAsset.get(asset);
    if (entry?.unbounded) return `an UNBOUNDED amount of ${asset}`;
    if (entry?.baseUnits) return `an amount of ${asset} in unknown units`;
    return `${addDecimals([...(entry?.amounts ?? []), ...extra])} ${asset}`;
  };
  const sent = [...byAsset.keys()].map((asset) => total(asset));
  const destinations = new Set(sends.map((m) => m.to ?? '(data)')).size;
  const native = nativeSymbol(summary);
  const fee = summary.fee
    ? summary.chain === 'btc'
      ? `${summary.fee.amount} BTC${summary.fee.rate !== undefined ? ` (${summary.fee.rate} sat/vB)` : ''}`
      : `at most ${summary.fee.amount} ETH`
    : null;
  const assets = new Set([...byAsset.keys(), ...(summary.fee ? [native] : [])]);
  const totalLeaving = [...assets].map((asset) =>
    total(asset, asset === native && summary.fee ? [summary.fee.amount] : []),
  );
  const approvals = movements
    .filter((m) => m.channel === 'approval' || m.channel === 'delegation')
    .map((m) =>
      m.channel === 'delegation'
        ? `You hand our account over to the code at ${m.to ?? '(unknown)'} (EIP-7702 delegation)`
        : `You allow ${m.to ?? '(unknown spender)'}${m.label ? ` (${m.label})` : ''} to take ${m.amount}${m.deadlineText ? ` until ${m.deadlineText}` : ''}`,
    );
  const granted = movements.filter((m) => m.channel === 'approval' || m.channel === 'delegation');
  let text: string;
  if (summary.kind === 'message') text = 'You sign a message; no value moves with it.';
  else if (sends.length === 0 && granted.length > 0) {
    // The request grants an approval (or hands the account over): lead with what is signed; the "You allow …"
    // lines that follow the headline name the spender, the amount and the expiry.
    const what =
      summary.typedData?.primaryType ??
      summary.call?.name ??
      (granted[0]!.channel === 'delegation' ? 'an EIP-7702 delegation' : 'an approval');
    const delegates = granted.filter((m) => m.channel === 'delegation').length;
    const allows = granted.length - delegates;
    const grants = [
      allows ? `grants ${allows === 1 ? 'a spending approval' : `${allows} spending approvals`}` : null,
      delegates ? 'hands our account over to other code (EIP-7702)' : null,
    ].filter(Boolean);
    text = `You sign ${what}: nothing is sent, but it ${grants.join(' and ')}${fee ? ` + fee ${fee}` : ''}`;
  } else if (sends.length === 0 && approvals.length === 0 && summary.call?.spendingApproval)
    text = `You sign ${summary.typedData?.primaryType ?? summary.call.name ?? 'an approval'}: it lets ${summary.call.args.spender ?? 'another address'} spend ${summary.call.unlimited ? 'an UNLIMITED amount of ' : ''}our tokens.`;
  else if (sends.length === 0 && approvals.length === 0 && !summary.fee)
    text =
      summary.kind === 'typed_data'
        ? `You sign ${summary.typedData?.primaryType ?? 'typed data'}; coldsign sees no value move with it.`
        : 'Nothing leaves our keys.';
  else {
    const what = sent.length
      ? `You send ${sent.join(' and ')} to ${destinations} destination${destinations === 1 ? '' : 's'}`
      : 'You send nothing';
    text = `${what}${fee ? ` + fee ${fee}` : ''} — total leaving ${totalLeaving.length ? totalLeaving.join(' and ') : 'nothing'}`;
  }
  return { text: withValueAtRisk(summary, text), sent, destinations, fee, totalLeaving, approvals };
}

/** Bitcoin: value the signatures may lose beyond the outputs and fee (NONE/SINGLE inputs, uncredited change). */
function withValueAtRisk(summary: SigningSummary, text: string): string {
  const facts = summary.chain === 'btc' ? summary.btc : undefined;
  if (!facts || BigInt(facts.atRiskSats) === 0n) return text;
  const atRisk = `up to ${formatUnits(btcCountedLeaving(facts), 8)} BTC can leave our keys (value at risk)`;
  return text === 'Nothing leaves our keys.' ? `Nothing is sent, but ${atRisk}.` : `${text}; ${atRisk}`;
}

function stringOf(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'
    ? String(value)
    : null;
}

function feeLines(summary: SigningSummary): ReviewLine[] {
  const d = summary.details;
  const lines: ReviewLine[] = [];
  if (summary.chain === 'btc') {
    if (summary.fee) lines.push({ label: 'Fee', value: `${summary.fee.amount} BTC` });
    if (summary.fee?.rate !== undefined)
      lines.push({ label: 'Fee rate', value: `${summary.fee.rate} sat/vB` });
    if (d.vsize !== undefined) lines.push({ label: 'Size', value: `${String(d.vsize)} vB` });
    return lines;
  }
  if (d.nonce !== undefined) lines.push({ label: 'Nonce', value: String(d.nonce) });
  if (d.gasLimit !== undefined) lines.push({ label: 'Gas limit', value: String(d.gasLimit) });
  if (d.maxFeePerGas !== undefined) {
    lines.push({ label: 'Max fee per gas', value: gwei(d.maxFeePerGas) });
    lines.push({ label: 'Priority tip per gas', value: gwei(d.maxPriorityFeePerGas) });
  } else if (d.gasPrice !== undefined) lines.push({ label: 'Gas price', value: gwei(d.gasPrice) });
  if (summary.fee) lines.push({ label: 'Maximum fee', value: `${summary.fee.amount} ETH` });
  return lines;
}

function facts(summary: SigningSummary): ReviewLine[] {
  const d = summary.details;
  const lines: ReviewLine[] = [];
  if (summary.chain === 'btc' && Array.isArray(d.inputs)) {
    const inputs = d.inputs as Array<{ ours?: boolean }>;
    const ours = inputs.filter((i) => i.ours).length;
    lines.push({
      label: 'Inputs',
      value: `${inputs.length} (${ours} ours, ${inputs.length - ours} not ours), total ${String(d.totalIn)} BTC`,
    });
  }
  if (typeof d.txid === 'string') lines.push({ label: 'Transaction id', value: d.txid });
  // A Bitcoin message (BIP-322 or legacy): whose address signs it, and in which format.
  if (summary.chain === 'btc' && summary.kind === 'message') {
    lines.push({
      label: 'Address',
      value: `${String(d.address)} (key ${String(d.key)}, ${String(d.script)})`,
    });
    lines.push({ label: 'Format', value: String(d.formatName ?? d.format) });
    lines.push({ label: 'Message size', value: `${String(d.messageBytes)} bytes` });
  }
  // ERC-4527: who asked (origin) and which exported key path and fingerprint the request names.
  const pairing = d.pairing as
    { origin?: string | null; path?: string | null; fingerprint?: string | null } | undefined;
  if (pairing) {
    const origin = pairing.origin ? JSON.stringify(pairing.origin.slice(0, 80)) : '(no origin)';
    lines.push({
      label: 'Requested by',
      value: `${origin} for path ${pairing.path ?? '(none)'}, fingerprint ${pairing.fingerprint ?? '(none)'}`,
    });
  }
  for (const [key, label] of [
    ['origin', 'Origin'],
    ['path', 'Derivation path'],
    ['sourceFingerprint', 'Source fingerprint'],
  ] as const) {
    const value = stringOf(d[key]);
    if (value) lines.push({ label, value });
  }
  return lines;
}

function shareOf(part: string, whole: string[]): number | null {
  const amount = Number(whole[0]?.split(' ')[0]);
  return amount > 0 ? (Number(part) / amount) * 100 : null;
}

/** The summary's warnings with a severity, then warnings the model adds from the movements and the fee. */
function warnings(
  summary: SigningSummary,
  movements: ReviewMovement[],
  rule: PolicyRule | null,
): ReviewWarning[] {
  const list: ReviewWarning[] = summary.warnings.map((text) => ({
    severity: DANGER_RE.test(text) ? 'danger' : 'warning',
    text,
  }));
  const add = (severity: Severity, text: string, unless: RegExp) => {
    if (!list.some((w) => unless.test(w.text))) list.push({ severity, text });
  };
  for (const m of movements) {
    if (m.channel === 'approval' && m.unbounded)
      add(
        'danger',
        `UNLIMITED approval: ${m.to ?? 'the spender'} may take all of our ${m.asset}.`,
        /unlimited/i,
      );
    if (m.channel === 'delegation')
      add('danger', `EIP-7702 delegation: our account would run the code at ${m.to ?? '(unknown)'}.`, /7702/);
  }
  if (summary.call?.unlimited)
    add('danger', 'UNLIMITED approval: the spender may take all of this token.', /unlimited/i);
  if (summary.call?.delegatecall)
    add('danger', 'DELEGATECALL: the called code runs with our Safe’s full authority.', /delegatecall/i);
  if (summary.blind)
    add('danger', 'BLIND: coldsign does not understand what this request does.', /blind|not understood/i);
  list.push(...feeWarnings(summary, movements, rule));
  const order: Record<Severity, number> = { danger: 0, warning: 1, info: 2 };
  return list.sort((a, b) => order[a.severity] - order[b.severity]);
}

function feeWarnings(
  summary: SigningSummary,
  movements: ReviewMovement[],
  rule: PolicyRule | null,
): ReviewWarning[] {
  if (!summary.fee) return [];
  const defaults = FEE_WARNING_DEFAULTS[summary.chain];
  const unit = nativeSymbol(summary);
  const maxFee = rule?.maxFee ?? defaults.maxFee;
  const maxRate = rule?.maxFeeRate ?? defaults.maxFeeRate;
  const maxPercent = rule?.maxFeePercent ?? defaults.maxFeePercent;
  const from = (value: unknown) => (rule && value !== undefined ? 'the rule limit' : 'the usual limit');
  const out: ReviewWarning[] = [];
  const fee = Number(summary.fee.amount);
  if (fee > Number(maxFee))
    out.push({
      severity: 'warning',
      text: `HIGH FEE: ${summary.fee.amount} ${unit} is above ${from(rule?.maxFee)} of ${maxFee} ${unit}.`,
    });
  if (maxRate !== undefined && summary.fee.rate !== undefined && summary.fee.rate > maxRate)
    out.push({
      severity: 'warning',
      text: `HIGH FEE RATE: ${summary.fee.rate} sat/vB is above ${from(rule?.maxFeeRate)} of ${maxRate} sat/vB.`,
    });
  const sentNative = movements
    .filter((m) => m.leaves && !m.callOnly && SENDING.has(m.channel) && m.asset === unit && !m.unbounded)
    .map((m) => m.amount.split(' ')[0]!);
  const share = sentNative.length
    ? shareOf(summary.fee.amount, [`${addDecimals(sentNative)} ${unit}`])
    : null;
  if (share !== null && share > maxPercent)
    out.push({
      severity: 'warning',
      text: `HIGH FEE SHARE: the fee is ${share.toFixed(1)}% of the ${addDecimals(sentNative)} ${unit} sent, above ${from(rule?.maxFeePercent)} of ${maxPercent}%.`,
    });
  return out;
}

/**
 * The one place that decides which reasons a verdict shows, for every front end and every refusal sentence:
 * the outpoint ledger's refusal (when it refused), the closest (or allowing) rule's reasons, then the default
 * verdict; every other rule's are folded.
 * Rules of the other chain say nothing useful about this request; they are left out.
 */
export function verdictReasons(
  decision: Decision & { closestRule?: string | null },
  policy: PolicyDocument | null,
  chain: SigningSummary['chain'],
): { closestRule: string | null; reasons: RuleReason[]; folded: RuleReason[] } {
  const otherChain = new Set((policy?.rules ?? []).filter((r) => r.chain !== chain).map((r) => r.id));
  const known = new Set((policy?.rules ?? []).map((r) => r.id));
  const relevant = decision.reasons.filter((r) => !otherChain.has(r.rule));
  const closest = decision.allowed ? decision.rule : (decision.closestRule ?? closestRule(relevant, known));
  const isDefault = (r: RuleReason) => !known.has(r.rule) && r.rule !== OUTPOINT_LEDGER_RULE;
  return {
    closestRule: closest ?? null,
    reasons: [
      // A ledger conflict refuses whatever the rules say: it leads, so no front end folds it away.
      ...relevant.filter((r) => r.rule === OUTPOINT_LEDGER_RULE),
      ...relevant.filter((r) => r.rule === closest),
      ...relevant.filter((r) => isDefault(r) && r.rule !== closest),
    ],
    folded: relevant.filter((r) => r.rule !== closest && known.has(r.rule)),
  };
}

/** The reason a refusal names in one sentence: the first failing one of the reasons the verdict shows. */
export function refusalReason(verdict: Pick<ReviewVerdict, 'reasons'>): RuleReason | undefined {
  return verdict.reasons.find((r) => !r.ok);
}

function reviewVerdict(
  decision: Decision & { closestRule?: string | null },
  policy: PolicyDocument | null,
  summary: SigningSummary,
  approvalsGiven: string[] | null,
): ReviewVerdict {
  const { closestRule, reasons, folded } = verdictReasons(decision, policy, summary.chain);
  const refusedBy: RefusedBy | null = decision.allowed
    ? null
    : reasons.some((r) => r.rule === OUTPOINT_LEDGER_RULE && !r.ok)
      ? 'outpoint-ledger'
      : 'policy';
  return {
    allowed: decision.allowed,
    title: decision.allowed
      ? `ALLOWED by rule ${decision.rule}`
      : `REFUSED by the ${refusedBy === 'outpoint-ledger' ? 'outpoint ledger' : 'policy'}`,
    refusedBy,
    code:
      refusedBy === null ? null : refusedBy === 'policy' ? 'POLICY_DENIED' : 'PSBT_OUTPOINT_AMOUNT_CONFLICT',
    rule: decision.rule,
    closestRule,
    reasons,
    folded,
    requiredApprovals: decision.requiredApprovals,
    approvalsGiven,
  };
}

/** The rule that failed on the fewest checks (the first one on a tie, as in document order). */
function closestRule(reasons: RuleReason[], known: Set<string>): string | null {
  const failures = new Map<string, number>();
  for (const r of reasons)
    if (known.has(r.rule) && !r.ok) failures.set(r.rule, (failures.get(r.rule) ?? 0) + 1);
  let best: string | null = null;
  for (const [rule, count] of failures) if (best === null || count < failures.get(best)!) best = rule;
  return best;
}
