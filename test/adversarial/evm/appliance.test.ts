/**
 * The EVM attacks through the real appliance: `bin/coldsign` processes with a SoftHSM2 token and SQLite in a
 * temporary home, officers, the victim policy signed and applied, the key `ops` in the HSM. Every attack is
 * refused with its code, no output is written and the HSM signs nothing (the signatures table stays as it
 * was); controls within the rules are signed, and the docs' "login messages" example works end to end.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MaxUint256, Wallet, getAddress, verifyMessage, verifyTypedData } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type CliHome } from '../../support/cli.js';
import { copyHome, createApplianceHome } from '../../support/appliance-home.js';
import {
  ATTACKER,
  DAI,
  ERC20,
  FAKE_TOKEN,
  MAX_UINT48,
  NEAR_UNLIMITED_APPROVALS,
  PAYROLL,
  ROUTER,
  USDC_MAINNET,
  ZeroAddress,
  delegationTx,
  disguisedEth,
  eip2612Permit,
  execTransactionData,
  ownerSenderSignature,
  permit2Batch,
  permit2Single,
  refundDrainFields,
  safeTxTyped,
  transaction,
  victimPolicy,
  type Scene,
} from './attacks.js';

const SAFE_ADDRESS = getAddress('0x5afe3855358e112b5647b952709e6165e1c1eeee');
/** The CLI signs at the real clock: deadlines are set relative to it. */
const nowS = () => BigInt(Math.floor(Date.now() / 1000));

let cli: CliHome;
let scene: Scene;
const file = (name: string) => join(cli.dir, name);

/** The docs' "Signing Permit2 typed data and login messages with one key" example, read from docs/policy.md. */
function docsLoginRule(): Record<string, unknown> {
  const text = readFileSync(join(ROOT, 'docs', 'policy.md'), 'utf8');
  const at = text.indexOf('Signing Permit2 typed data and login messages with one key');
  const block = /```json\n([\s\S]*?)```/.exec(text.slice(at));
  return JSON.parse(block![1]!) as Record<string, unknown>;
}

/** A copy of the built home for one test: the tests share nothing and run concurrently. */
let copies = 0;
const caseHome = (): string => copyHome(cli.env.COLDSIGN_HOME!, file(`home-${++copies}`));

function signatureCount(home: string): number {
  const db = new Database(join(home, 'coldsign.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM signatures').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function sign(home: string, name: string, request: unknown) {
  writeFileSync(file(`${name}.json`), JSON.stringify(request));
  const out = file(`${name}.out`);
  const result = await cli.runAsync(['sign', file(`${name}.json`), '--out', out, '--json'], {
    COLDSIGN_HOME: home,
  });
  return { result, out };
}

/** Signs and expects a refusal with `code` (exit 4 for the policy, 3 for invalid input), nothing written or signed. */
async function expectRefused(
  home: string,
  name: string,
  request: unknown,
  code = 'POLICY_DENIED',
  exit = 4,
): Promise<string> {
  const before = signatureCount(home);
  const { result, out } = await sign(home, name, request);
  expect(result.code, result.stderr).toBe(exit);
  expect((JSON.parse(result.stdout) as { error: { code: string } }).error.code).toBe(code);
  expect(existsSync(out)).toBe(false);
  expect(signatureCount(home)).toBe(before);
  return result.stderr;
}

async function expectSigned(home: string, name: string, request: unknown): Promise<string> {
  const { result, out } = await sign(home, name, request);
  expect(result.code, result.stderr).toBe(0);
  return readFileSync(out, 'utf8').trim();
}

beforeAll(() => {
  const appliance = createApplianceHome({
    keys: [{ chain: 'evm', label: 'ops' }],
    policy: (keys) => {
      scene = { chainId: 1, ours: keys.ops!.address, token: USDC_MAINNET, safe: SAFE_ADDRESS };
      const policy = victimPolicy(scene);
      policy.rules.push(docsLoginRule() as (typeof policy.rules)[number]);
      return policy;
    },
  });
  cli = appliance.cli;
});
afterAll(() => cli?.cleanup());

describe.concurrent('item 1: Safe gas refund', () => {
  it('execTransaction whose refund pays the attacker 999,000 USDC: POLICY_DENIED, nothing signed', async () => {
    const home = caseHome();
    const data = execTransactionData(refundDrainFields(scene), ownerSenderSignature(scene.ours));
    const stderr = await expectRefused(home, 'refund-tx', transaction(scene, 0, { to: SAFE_ADDRESS, data }));
    expect(stderr).toMatch(/gas refund of up to 999000\.14259 USDC to 0xa77AC3E0/);
  });
  it('SafeTx typed data with the same refund: POLICY_DENIED', async () => {
    const home = caseHome();
    await expectRefused(home, 'refund-typed', safeTxTyped(scene, refundDrainFields(scene)));
  });
  it('Safe operation 2 is not a Safe transaction: EVM_SAFE_INVALID (exit 3), as a transaction and as typed data', async () => {
    const home = caseHome();
    const fields = refundDrainFields(scene, { operation: 2, gasPrice: 0n });
    await expectRefused(home, 'op2-typed', safeTxTyped(scene, fields), 'EVM_SAFE_INVALID', 3);
    const data = execTransactionData(fields, ownerSenderSignature(scene.ours));
    await expectRefused(
      home,
      'op2-tx',
      transaction(scene, 0, { to: SAFE_ADDRESS, data }),
      'EVM_SAFE_INVALID',
      3,
    );
  });
  it('control: the same Safe payment without a refund (gasPrice 0) is signed', async () => {
    const home = caseHome();
    const fields = refundDrainFields(scene, {
      gasPrice: 0n,
      baseGas: 0n,
      gasToken: ZeroAddress,
      refundReceiver: ZeroAddress,
    });
    const data = execTransactionData(fields, ownerSenderSignature(scene.ours));
    expect(await expectSigned(home, 'safe-ok', transaction(scene, 0, { to: SAFE_ADDRESS, data }))).toMatch(
      /^0x02/,
    );
  });
});

describe.concurrent('item 2: ETH disguised as a token transfer to ourselves', () => {
  it('to = attacker, value 5 ETH, data = transfer(ours, 0): POLICY_DENIED', async () => {
    const home = caseHome();
    await expectRefused(home, 'disguised', disguisedEth(scene));
  });
});

describe.concurrent('item 3: a token rule no longer lets the coordinator call any contract', () => {
  it('transfer(ours, n) on a contract that is no listed token (usdc-payroll in force): POLICY_DENIED', async () => {
    const home = caseHome();
    const data = ERC20.encodeFunctionData('transfer', [scene.ours, 1_000_000n]);
    const stderr = await expectRefused(home, 'fake-token', transaction(scene, 0, { to: FAKE_TOKEN, data }));
    expect(stderr).toMatch(/not in the contract allowlist|does not list/);
  });
  it('a zero-value call to an arbitrary address, and transfer(ours, 0) to one: POLICY_DENIED', async () => {
    const home = caseHome();
    await expectRefused(home, 'zero-call', transaction(scene, 0, { to: ATTACKER, data: '0x12345678' }));
    const toSelf = ERC20.encodeFunctionData('transfer', [scene.ours, 0n]);
    await expectRefused(home, 'zero-transfer', transaction(scene, 0, { to: ATTACKER, data: toSelf }));
  });
  it('control: a USDC transfer to Payroll within the limit is signed', async () => {
    const home = caseHome();
    const data = ERC20.encodeFunctionData('transfer', [PAYROLL, 12_000_000n]);
    expect(await expectSigned(home, 'payroll', transaction(scene, 0, { to: USDC_MAINNET, data }))).toMatch(
      /^0x02/,
    );
  });
});

describe.concurrent('item 4: near-unlimited approvals and permits', () => {
  for (const [label, amount] of NEAR_UNLIMITED_APPROVALS) {
    it(`approve(router, ${label}) to an allowlisted spender: POLICY_DENIED`, async () => {
      const home = caseHome();
      const data = ERC20.encodeFunctionData('approve', [ROUTER, amount]);
      const stderr = await expectRefused(
        home,
        `approve-${label.replace(/\W/g, '')}`,
        transaction(scene, 0, { to: USDC_MAINNET, data }),
      );
      expect(stderr).toMatch(/unlimited spending approval|approval cap/);
    });
  }
  it('EIP-2612 Permit of 2^256 − 2 with deadline 2^256 − 1: POLICY_DENIED', async () => {
    const home = caseHome();
    await expectRefused(home, 'permit-max', eip2612Permit(scene, MaxUint256 - 1n, MaxUint256));
  });
  it('Permit2 of 2^160 − 2 with the maximal expiration: POLICY_DENIED', async () => {
    const home = caseHome();
    await expectRefused(
      home,
      'permit2-max',
      permit2Single(scene, USDC_MAINNET, (1n << 160n) - 2n, MAX_UINT48, nowS() + 3600n),
    );
  });
  it('Permit2 on a token no rule lists (DAI), and a batch hiding one: POLICY_DENIED', async () => {
    const home = caseHome();
    await expectRefused(
      home,
      'permit2-dai',
      permit2Single(scene, DAI, 10n ** 18n, nowS() + 3600n, nowS() + 3600n),
    );
    const grants = [
      { token: USDC_MAINNET, amount: 100_000_000n, expiration: nowS() + 3600n },
      { token: DAI, amount: 10n ** 18n, expiration: nowS() + 3600n },
    ];
    await expectRefused(home, 'permit2-batch', permit2Batch(scene, grants, nowS() + 3600n));
  });
  it('a bounded approval whose permit outlives the deadline cap (7 days here): POLICY_DENIED', async () => {
    const home = caseHome();
    await expectRefused(home, 'permit-long', eip2612Permit(scene, 100_000_000n, nowS() + 30n * 86_400n));
  });
  it('controls: approve(router, 500 USDC) and a Permit of 500 USDC for a day are signed', async () => {
    const home = caseHome();
    const data = ERC20.encodeFunctionData('approve', [ROUTER, 500_000_000n]);
    expect(await expectSigned(home, 'approve-ok', transaction(scene, 0, { to: USDC_MAINNET, data }))).toMatch(
      /^0x02/,
    );
    const request = eip2612Permit(scene, 500_000_000n, nowS() + 86_400n);
    const signature = await expectSigned(home, 'permit-ok', request);
    const { domain, types, message } = request.typedData;
    const { EIP712Domain: _, ...plain } = types as Record<string, never>;
    expect(verifyTypedData(domain, plain, message, signature)).toBe(scene.ours);
  });
});

describe.concurrent('item 6: EIP-7702 authorizations', () => {
  it('a type-4 transfer carrying a delegation to the attacker (chain 1, and chain 0) under a plain transfer rule: POLICY_DENIED', async () => {
    const home = caseHome();
    const authority = new Wallet(Wallet.createRandom().privateKey);
    const stderr = await expectRefused(home, 'delegate-1', delegationTx(scene, authority, 1n));
    expect(stderr).toMatch(/EIP-7702/);
    await expectRefused(home, 'delegate-0', delegationTx(scene, authority, 0n));
  });
});

describe.concurrent('item 7: personal_sign under the docs\' "login messages" example', () => {
  it('a login message is signed by key ops and recovers to it; a message above maxMessageBytes is refused', async () => {
    const home = caseHome();
    const message = `Sign in to example.org\nNonce: ${nowS()}`;
    const signature = await expectSigned(home, 'login', { type: 'personal_sign', from: scene.ours, message });
    expect(verifyMessage(message, signature)).toBe(scene.ours);
    const stderr = await expectRefused(home, 'login-long', {
      type: 'personal_sign',
      from: scene.ours,
      message: 'x'.repeat(513),
    });
    expect(stderr).toMatch(/513 bytes/);
  });
});

describe.concurrent('item 13: the refusal names the closest rule', () => {
  it("a Safe delegatecall is refused with safe-payroll's reasons first, every reason still in --json", async () => {
    const home = caseHome();
    const fields = refundDrainFields(scene, { operation: 1, gasPrice: 0n, data: '0x12345678', to: ATTACKER });
    const data = execTransactionData(fields, ownerSenderSignature(scene.ours));
    writeFileSync(
      file('delegatecall.json'),
      JSON.stringify(transaction(scene, 0, { to: SAFE_ADDRESS, data })),
    );
    const inspected = await cli.runAsync(['inspect', file('delegatecall.json'), '--json'], {
      COLDSIGN_HOME: home,
    });
    expect(inspected.code, inspected.stderr).toBe(0);
    const report = inspected.json<{
      policy: { closestRule: string; reasons: Array<{ rule: string; message: string }> };
    }>();
    expect(report.policy.closestRule).toBe('safe-payroll');
    expect(report.policy.reasons[0]!.rule).toBe('safe-payroll');
    expect(new Set(report.policy.reasons.map((r) => r.rule))).toEqual(
      new Set([
        'safe-payroll',
        'usdc-payroll',
        'tok-contracts',
        'dex-approve',
        'eth-ops',
        'permit2',
        '(default)',
      ]),
    );
    const stderr = await expectRefused(
      home,
      'delegatecall',
      JSON.parse(readFileSync(file('delegatecall.json'), 'utf8')),
    );
    expect(stderr).toMatch(/blind signing|delegatecall/);
  });
});
