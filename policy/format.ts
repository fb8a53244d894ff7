/** `coldsign policy show`: a policy document in plain words, one block per rule (pure). */
import { nativeSymbol } from './amounts.js';
import type { PolicyDocument, PolicyRule } from './schema.js';

function ruleLines(rule: PolicyRule): string[] {
  const symbol = nativeSymbol(rule.chain);
  const lines = [`Rule ${rule.id}${rule.description ? ` — ${rule.description}` : ''}`];
  const add = (label: string, value: string) => lines.push(`  ${label.padEnd(18)}${value}`);
  add(
    'chain',
    rule.chain === 'btc'
      ? `Bitcoin ${rule.network}`
      : rule.chainIds === 'any'
        ? 'EVM, any chain id'
        : rule.chainIds
          ? `EVM chain ids ${rule.chainIds.join(', ')}`
          : 'EVM, messages only (no chain id)',
  );
  add(
    'kinds',
    (rule.kinds ?? (rule.chain === 'btc' ? ['transfer'] : ['transfer', 'token_transfer'])).join(', '),
  );
  add('keys', rule.keys ? rule.keys.join(', ') : 'any registered key of the chain');
  if (rule.anyDestination) add('destinations', 'ANY address');
  else if (rule.destinations?.length)
    rule.destinations.forEach((d, i) => add(i === 0 ? 'destinations' : '', `${d.label}: ${d.address}`));
  else add('destinations', 'none (no value may leave)');
  if (rule.maxAmount) add('max per request', `${rule.maxAmount} ${symbol}`);
  for (const t of rule.tokens ?? []) {
    const limits = [
      t.maxAmount ? `max ${t.maxAmount} per request` : 'no per-request cap',
      t.velocityMaxAmount ? `max ${t.velocityMaxAmount} per window` : '',
      t.approvalMaxAmount ? `approvals up to ${t.approvalMaxAmount}` : '',
      t.approvalMaxDeadline ? `approvals expiring within ${t.approvalMaxDeadline}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    add('token', `${t.symbol} (${t.contract}, ${t.decimals} decimals): ${limits}`);
  }
  if (rule.velocity) {
    const parts = [
      rule.velocity.maxAmount ? `${rule.velocity.maxAmount} ${symbol}` : '',
      rule.velocity.maxCount ? `${rule.velocity.maxCount} requests` : '',
    ];
    add('velocity', `at most ${parts.filter(Boolean).join(' and ')} per ${rule.velocity.window}`);
  }
  if (rule.maxFee) add('max fee', `${rule.maxFee} ${symbol}`);
  if (rule.maxFeeRate !== undefined) add('max fee rate', `${rule.maxFeeRate} sat/vB`);
  if (rule.maxFeePercent !== undefined) add('max fee share', `${rule.maxFeePercent}% of the amount`);
  for (const c of rule.contracts ?? [])
    add('contract', `${c.label ?? c.address} ${c.address}: ${c.selectors.join(', ')}`);
  for (const d of rule.typedDataDomains ?? [])
    add(
      'EIP-712 domain',
      Object.entries(d)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', '),
    );
  if (rule.chain === 'evm') add('approval deadline', `at most ${rule.approvalMaxDeadline ?? '30d'} ahead`);
  for (const r of rule.safeRefunds ?? [])
    add(
      'Safe gas refund',
      `${r.label}: ${r.receiver}, at most ${r.maxAmount} ${r.asset === 'ETH' ? 'ETH' : r.asset}`,
    );
  for (const d of rule.delegations ?? [])
    add('EIP-7702 delegate', `${d.label ?? d.contract} ${d.contract} on chain ids ${d.chainIds.join(', ')}`);
  if (rule.maxMessageBytes !== undefined) add('max message size', `${rule.maxMessageBytes} bytes`);
  if (rule.allowBlind) add('blind signing', 'ALLOWED');
  if (rule.allowUnlimitedApprovals) add('unlimited approvals', 'ALLOWED');
  if (rule.allowDelegatecall) add('delegatecall', 'ALLOWED');
  if (rule.hours)
    add(
      'hours (UTC)',
      `${rule.hours.from}–${rule.hours.to}${rule.hours.days ? ` on ${rule.hours.days.join(', ')}` : ''}`,
    );
  add('approvals', String(rule.approvals ?? 0));
  return lines;
}

export function formatPolicy(doc: PolicyDocument): string {
  const header = [`Policy version ${doc.version}${doc.description ? ` — ${doc.description}` : ''}`];
  const signers = doc.signatures?.map((s) => s.officer) ?? [];
  header.push(`Signed by: ${signers.length ? signers.join(', ') : 'nobody'}`);
  header.push(`For the appliance with audit public key: ${doc.appliance ?? '(none named)'}`);
  header.push(
    doc.rules.length
      ? `${doc.rules.length} rule${doc.rules.length === 1 ? '' : 's'}; anything no rule allows is refused.`
      : 'No rules: everything is refused.',
  );
  return (
    [...header, '', ...doc.rules.flatMap((rule) => [...ruleLines(rule), ''])].join('\n').trimEnd() + '\n'
  );
}
