/** The pure appliance (prepare + evaluate) on a request document: what coldsign would decide, without the HSM. */
import { Wallet } from 'ethers';
import { prepareRequest } from '../../../core/pipeline/prepare.js';
import type { KeyRecord } from '../../../core/signer.js';
import type { Decision, SigningSummary } from '../../../core/summary.js';
import { evaluate } from '../../../policy/evaluate.js';
import { parsePolicy } from '../../../policy/schema.js';
import { keyRecord } from '../../evm/helpers.js';
import { getBytes } from 'ethers';

export const NOW = new Date('2026-03-02T10:00:00.000Z');
export const NOW_S = BigInt(NOW.getTime() / 1000);

/** A throwaway in-memory key standing for "our" key (never the HSM path). */
export function throwawayKey(label = 'eth-1'): { wallet: Wallet; record: KeyRecord } {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  return { wallet, record: keyRecord(label, getBytes(wallet.signingKey.publicKey)) };
}

export async function judge(
  request: unknown,
  keys: KeyRecord[],
  policyDoc: unknown,
  now = NOW,
): Promise<{ summary: SigningSummary; decision: Decision; refusals: string[] }> {
  const policy = parsePolicy(policyDoc);
  const tokens = policy.rules.flatMap((r) =>
    (r.tokens ?? []).map((t) => ({ contract: t.contract, symbol: t.symbol, decimals: t.decimals })),
  );
  const prepared = await prepareRequest(
    {
      chain: 'evm',
      bytes: new TextEncoder().encode(JSON.stringify(request)),
      transport: { kind: 'file' },
    },
    keys,
    { tokens },
  );
  const decision = evaluate(prepared.summary, policy, [], now);
  return {
    summary: prepared.summary,
    decision,
    refusals: decision.reasons.filter((r) => !r.ok).map((r) => `${r.rule}: ${r.message}`),
  };
}
