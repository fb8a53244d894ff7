/**
 * A policy carried from one appliance to another. Appliances A and B share their officers and a key label
 * ("treasury"); B's own policy (version 1) pays only the supplier. The officers sign a permissive version 5 for A
 * (any amount to a new address, no approvals). An operator of B, alone, applies A's document on B: the officers'
 * signatures are genuine and the version is higher, so before policies named their appliance B would have signed
 * a transfer to that address its own policy refuses. The theft is shown real with a throwaway in-memory key (the
 * signed transaction moves 50 ETH to the attacker), then refused: a policy names the appliance it is for (its
 * audit public key) and `policy apply` checks it (docs/policy.md, Signatures and apply).
 */
import { writeFileSync } from 'node:fs';
import { Transaction, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applianceKeyOf, type CliHome } from '../../support/cli.js';
import { createApplianceHome, createSiblingHome, type ApplianceHome } from '../../support/appliance-home.js';

const SUPPLIER = '0x1111111111111111111111111111111111111111';
const ATTACKER = '0x2222222222222222222222222222222222222222';
const FIFTY_ETH = '50000000000000000000';

let a: ApplianceHome;
let b: CliHome;
let bAppliance: string;

const rule = (id: string, destination: string, maxAmount: string) => ({
  id,
  chain: 'evm',
  chainIds: [1],
  keys: ['treasury'],
  kinds: ['transfer'],
  destinations: [{ address: destination, label: id }],
  maxAmount,
  maxFee: '0.1',
  approvals: 0,
});
const supplierOnly = { version: 1, rules: [rule('supplier', SUPPLIER, '1')] };
const permissive = { version: 5, rules: [rule('anything', ATTACKER, '1000')] };

const theft = (from: string) => ({
  type: 'transaction',
  from,
  chainId: 1,
  txType: 2,
  nonce: 0,
  to: ATTACKER,
  value: FIFTY_ETH,
  gasLimit: '21000',
  maxFeePerGas: '30000000000',
  maxPriorityFeePerGas: '1000000000',
});

const errorOf = (stdout: string) =>
  (JSON.parse(stdout) as { error: { code: string; message: string } }).error;

beforeAll(() => {
  a = createApplianceHome({ keys: [{ chain: 'evm', label: 'treasury' }], policy: () => supplierOnly });
  // B's own policy (version 1), signed by the officers for B.
  const treasury = [{ chain: 'evm' as const, label: 'treasury' }];
  ({ cli: b, auditPublicKey: bAppliance } = createSiblingHome(a, treasury, supplierOnly));
  // `policy show` names the same key init printed: what officers copy into B's policies.
  expect(applianceKeyOf(b)).toBe(bAppliance);
  expect(bAppliance).not.toBe(a.auditPublicKey);
});
afterAll(() => {
  a?.cleanup();
  b?.cleanup();
});

describe('a policy signed for appliance A, applied on appliance B', () => {
  it('the transfer it would allow moves the money (throwaway key)', async () => {
    const wallet = Wallet.createRandom();
    const signed = Transaction.from(await wallet.signTransaction({ ...theft(wallet.address), type: 2 }));
    expect(signed.from).toBe(wallet.address);
    expect(signed.to).toBe(ATTACKER);
    expect(signed.value).toBe(BigInt(FIFTY_ETH));
    expect(signed.chainId).toBe(1n);
  });

  it('is applied on A, refused on B (POLICY_APPLIANCE_MISMATCH), and B still refuses the transfer', () => {
    const fromB = b
      .run(['keys', 'list', '--json'])
      .json<{ keys: { label: string; address: string }[] }>()
      .keys.find((k) => k.label === 'treasury')!.address;
    const request = `${b.dir}/theft.json`;
    writeFileSync(request, JSON.stringify(theft(fromB)));
    const before = b.run(['sign', request, '--out', `${b.dir}/before.out`, '--json']);
    expect(before.code, before.stdout).toBe(4);
    expect(errorOf(before.stdout).code).toBe('POLICY_DENIED');

    // Version 5, quorum-signed for A: genuine where it was made.
    const forA = a.applyPolicy(permissive, { name: 'a-v5.json' });
    expect(forA.code, forA.stderr).toBe(0);
    const onB = b.run(['policy', 'apply', a.file('a-v5.json'), '--json']);
    expect(onB.code, onB.stdout).toBe(6);
    expect(errorOf(onB.stdout)).toEqual({
      code: 'POLICY_APPLIANCE_MISMATCH',
      message: `Policy version 5 was signed for another appliance (audit public key ${a.auditPublicKey}), not this one (${bAppliance}).`,
    });

    // The same document signed for no appliance at all is refused too, naming B's key.
    const unbound = a.file('unbound-v5.json');
    writeFileSync(unbound, JSON.stringify(permissive));
    a.signPolicy(unbound);
    const noAppliance = b.run(['policy', 'apply', unbound, '--json']);
    expect(noAppliance.code, noAppliance.stdout).toBe(6);
    expect(errorOf(noAppliance.stdout).code).toBe('POLICY_APPLIANCE_MISMATCH');
    expect(errorOf(noAppliance.stdout).message).toContain(`"appliance": "${bAppliance}"`);

    const shown = b.run(['policy', 'show', '--json']).json<{ policy: { version: number } }>();
    expect(shown.policy.version).toBe(1);
    const after = b.run(['sign', request, '--out', `${b.dir}/after.out`, '--json']);
    expect(after.code, after.stdout).toBe(4);
    expect(errorOf(after.stdout).code).toBe('POLICY_DENIED');
  });
});
