/** The human-readable review an operator checks line by line before signing (CLI without --json). */
import type { Decision, Movement, SigningSummary } from '../core/summary.js';
import { formatUnits } from 'ethers';
import { relevantReasons } from '../appliance/pipeline.js';
import type { PolicyDocument } from '../policy/schema.js';

/** Address → allowlist label, from every rule of the active policy. */
export function allowlistLabels(policy: PolicyDocument | null): Map<string, string> {
  const labels = new Map<string, string>();
  for (const rule of policy?.rules ?? []) {
    for (const destination of rule.destinations ?? []) {
      if (destination.label) labels.set(destination.address.toLowerCase(), destination.label);
    }
  }
  return labels;
}

function assetName(movement: Movement): string {
  return movement.asset.type === 'native'
    ? movement.asset.symbol
    : (movement.asset.symbol ?? `token ${movement.asset.contract}`);
}

function amountOf(movement: Movement): string {
  return movement.amount !== null
    ? `${movement.amount} ${assetName(movement)}`
    : `${movement.raw} base units of ${assetName(movement)}`;
}

export function formatReview(
  requestId: string,
  summary: SigningSummary,
  decision: Decision,
  approvals: string[] | null,
  policy: PolicyDocument | null,
): string {
  const labels = allowlistLabels(policy);
  const lines: string[] = [];
  const where =
    summary.chain === 'btc' ? `Bitcoin ${summary.network}` : `EVM chain ${summary.chainId ?? '(any)'}`;
  const what = {
    psbt: 'PSBT',
    transaction: 'transaction',
    message: 'message (EIP-191)',
    typed_data: 'typed data (EIP-712)',
  }[summary.kind];
  lines.push(`Request ${requestId}`);
  lines.push(`  ${where} ${what}, signed by: ${summary.signingKeys.join(', ')}`);
  const d = summary.details;
  // ERC-4527: who asked (origin) and which exported key path and fingerprint the request names
  const pairing = d.pairing as
    { origin: string | null; path: string | null; fingerprint: string | null } | undefined;
  if (pairing)
    lines.push(
      `  Requested by ${pairing.origin ? JSON.stringify(pairing.origin.slice(0, 80)) : '(no origin)'} for path ${pairing.path ?? '(none)'}, fingerprint ${pairing.fingerprint ?? '(none)'}`,
    );
  if (summary.chain === 'btc' && Array.isArray(d.inputs)) {
    const inputs = d.inputs as Array<{ ours: boolean; amount: string }>;
    const ours = inputs.filter((i) => i.ours).length;
    lines.push(
      `  Inputs: ${inputs.length} (${ours} ours, ${inputs.length - ours} not ours), total ${String(d.totalIn)} BTC`,
    );
  }
  if (summary.chain === 'evm' && d.kind === 'transaction') {
    lines.push(`  From ${String(d.from)}  nonce ${String(d.nonce)}  gas limit ${String(d.gasLimit)}`);
    const gwei = (v: unknown) => `${formatUnits(String(v), 'gwei')} gwei`;
    const caps =
      d.maxFeePerGas !== undefined
        ? `max fee ${gwei(d.maxFeePerGas)}/gas, priority tip ${gwei(d.maxPriorityFeePerGas)}/gas`
        : `gas price ${gwei(d.gasPrice)}/gas`;
    lines.push(`  Fee caps: ${caps}`);
  }
  if (summary.movements.length) {
    lines.push('  Outputs:');
    summary.movements.forEach((m, i) => {
      const label = m.to ? labels.get(m.to.toLowerCase()) : undefined;
      const tag = m.change ? '  [change, back to our key]' : label ? `  "${label}" (allowlisted)` : '';
      lines.push(`    ${i + 1}. ${m.to ?? '(no address: data output)'}  ${amountOf(m)}${tag}`);
    });
  }
  if (summary.fee) {
    const rate =
      summary.fee.rate !== undefined
        ? ` (${summary.fee.rate} sat/vB)`
        : summary.chain === 'evm'
          ? ' at most'
          : '';
    lines.push(`  Fee: ${summary.fee.amount} ${summary.chain === 'btc' ? 'BTC' : 'ETH'}${rate}`);
  }
  if (summary.call) {
    const c = summary.call;
    lines.push(`  Contract call: ${c.name ?? c.selector} on ${c.contract}`);
    for (const [name, value] of Object.entries(c.args)) lines.push(`    ${name} = ${value}`);
    if (c.unlimited) lines.push('    UNLIMITED approval');
    if (c.delegatecall) lines.push('    DELEGATECALL (operation 1): the called code runs as our Safe');
  }
  if (summary.blind) lines.push('  BLIND: the calldata or typed data is not understood.');
  if (summary.typedData) {
    lines.push(
      `  Typed data: ${summary.typedData.primaryType}, domain ${JSON.stringify(summary.typedData.domain)}`,
    );
  }
  if (summary.message)
    lines.push(
      `  Message: ${summary.message.text !== null ? JSON.stringify(summary.message.text) : summary.message.hex}`,
    );
  for (const warning of summary.warnings) lines.push(`  WARNING: ${warning}`);
  const verdict = decision.allowed
    ? `ALLOWED by rule ${decision.rule}; ${decision.requiredApprovals} officer approval(s) required${approvals ? `, ${approvals.length} given${approvals.length ? ` (${approvals.join(', ')})` : ''}` : ''}`
    : 'REFUSED';
  lines.push(`Policy: ${verdict}`);
  for (const reason of relevantReasons(decision, policy, summary.chain))
    lines.push(`  ${reason.ok ? 'ok ' : 'no '} ${reason.message}`);
  return lines.join('\n');
}
