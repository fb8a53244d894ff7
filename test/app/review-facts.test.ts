/**
 * One review, three front ends: a fixed set of requests (every review variant) is reviewed by the real CLI as text
 * and as --json, and by the app's IPC contract (dispatch → ApplianceSession over the same home: real SoftHSM2 token,
 * SQLite, signed policy). All three must state the same facts — amounts, destinations, fee, verdict, reasons — and
 * those facts must be the ones the requests were built with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestReport, ReviewView } from '../../appliance/api.js';
import type { ReviewModel } from '../../appliance/review-model.js';
import { ApplianceSession } from '../../appliance/session.js';
import { dispatch } from '../../app/shared/ipc.js';
import { psbtToUr } from '../../qr/index.js';
import { applianceKeyOf, createCliHome, type CliHome, type CliResult } from '../support/cli.js';
import { runOk, writeFileIn } from './support/app-host.js';
import {
  OFFICER_PASS,
  REVIEW_VARIANTS,
  reviewPolicy,
  reviewRequests,
  type ReviewRequest,
} from './support/review-requests.js';

const PIN = '135790';
let cli: CliHome;
let requests: ReviewRequest[];
let refusedSign: CliResult;
let qrSign: CliResult;
const seen = new Map<
  string,
  { text: string; json: RequestReport & { review: ReviewModel }; app: ReviewModel }
>();

beforeAll(async () => {
  cli = createCliHome(PIN);
  const keyFile = join(cli.dir, 'alice.pem');
  const pub = runOk(cli, ['officer', 'keygen', 'alice', '--out', keyFile], {
    COLDSIGN_PASSPHRASE: OFFICER_PASS,
  });
  runOk(cli, ['init', '--officer', `alice=${pub.trim().split('\n').at(-1)}`, '--quorum', '1']);
  runOk(cli, ['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc']);
  runOk(cli, ['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth']);
  const keys = (
    JSON.parse(runOk(cli, ['keys', 'list', '--json'])) as { keys: Array<{ label: string; address: string }> }
  ).keys;
  const policy = writeFileIn(
    cli.dir,
    'policy.json',
    JSON.stringify({ ...reviewPolicy(), appliance: applianceKeyOf(cli) }),
  );
  runOk(cli, ['policy', 'sign', policy, '--key', keyFile], { COLDSIGN_PASSPHRASE: OFFICER_PASS });
  runOk(cli, ['policy', 'apply', policy]);
  requests = reviewRequests(
    keys.find((k) => k.label === 'vault-btc')!.address,
    keys.find((k) => k.label === 'vault-eth')!.address,
  );
  const texts = new Map<string, { text: string; json: RequestReport & { review: ReviewModel } }>();
  for (const r of requests) {
    const path = writeFileIn(cli.dir, r.file, r.contents);
    const text = cli.run(['inspect', path]);
    const json = cli.run(['inspect', path, '--json']);
    expect(text.code, text.stderr).toBe(0);
    expect(json.code, json.stderr).toBe(0);
    texts.set(r.name, { text: text.stdout, json: json.json() });
  }
  const six = join(cli.dir, requests.find((r) => r.name === 'btc-refused-6-outputs')!.file);
  refusedSign = cli.run(['sign', six, '--out', join(cli.dir, 'never.psbt'), '--json']);
  // The allowed PSBT arriving by QR (a file of crypto-psbt UR parts), signed into NAME.psbt with QR frames.
  const allowed = requests.find((r) => r.name === 'btc-allowed')!;
  writeFileIn(cli.dir, 'parts.txt', psbtToUr(allowed.contents as Uint8Array, 120).join('\n'));
  qrSign = cli.run([
    'sign',
    join(cli.dir, 'parts.txt'),
    '--out',
    join(cli.dir, 'by-qr.psbt'),
    '--qr',
    join(cli.dir, 'frames'),
    '--fragment',
    '120',
  ]);
  // The app's path: the IPC contract in front of the appliance session, over the same home (after the CLI is done).
  const session = new ApplianceSession(cli.env.COLDSIGN_HOME);
  try {
    await session.unlock(PIN);
    for (const r of requests) {
      const bytes = new Uint8Array(readFileSync(join(cli.dir, r.file)));
      const result = await dispatch(session, 'review', [[{ name: r.file, bytes }]]);
      if (!result.ok) throw new Error(`${r.name}: ${result.error.code} ${result.error.message}`);
      seen.set(r.name, { ...texts.get(r.name)!, app: (result.value as ReviewView).model });
    }
  } finally {
    await session.close();
  }
});
afterAll(() => cli?.cleanup());

/** The facts a formatter must carry; deadlines' "in N days" depend on the clock and are left out. */
function facts(model: ReviewModel) {
  return {
    requestId: model.requestId,
    network: model.network,
    headline: model.headline,
    movements: model.movements.map((m) => ({
      to: m.to,
      amount: m.amount,
      label: m.label,
      channel: m.channel,
    })),
    fees: model.fees,
    warnings: model.warnings,
    verdict: { ...model.verdict, approvalsGiven: undefined },
  };
}

describe('the CLI text, --json and the app state the same facts', () => {
  it.each(REVIEW_VARIANTS)('%s', (name) => {
    const r = requests.find((x) => x.name === name)!;
    const { text, json, app } = seen.get(name)!;
    // --json and the app carry the same model.
    expect(facts(json.review)).toEqual(facts(app));
    // The facts are those the request was built with.
    expect(app.verdict.allowed).toBe(r.allowed);
    expect(json.policy.allowed).toBe(r.allowed);
    expect(app.headline.text).toContain(r.headline);
    const tos = app.movements.map((m) => m.to);
    for (const destination of r.destinations) expect(tos).toContain(destination);
    for (const amount of r.amounts) expect(app.movements.some((m) => m.amount.includes(amount))).toBe(true);
    // --json lists every reason of every rule; the model shows the closest rule's first and folds the rest.
    const shown = [...app.verdict.reasons, ...app.verdict.folded].map((x) => x.message);
    for (const message of shown) expect(json.policy.reasons.map((x) => x.message)).toContain(message);
    // The CLI text states the verdict, the headline, every movement, fee line, closest-rule reason and warning.
    const lines = text.split('\n');
    expect(lines[0]).toEqual(
      r.allowed
        ? expect.stringMatching(/^Policy: ALLOWED by rule /)
        : 'Policy: REFUSED — this request cannot be signed',
    );
    expect(lines[1]).toBe(`  ${app.headline.text}`);
    for (const m of app.movements) {
      expect(text).toContain(m.amount);
      if (m.to) expect(text).toContain(m.to);
    }
    for (const fee of app.fees) expect(text).toContain(`${fee.label}: ${fee.value}`);
    for (const reason of app.verdict.reasons) expect(text).toContain(reason.message);
    for (const warning of app.warnings) expect(text).toContain(warning.text);
  });

  it('a refused 6-output PSBT names the closest rule first and folds the other', () => {
    const { app, text } = seen.get('btc-refused-6-outputs')!;
    expect(app.headline.destinations).toBe(6);
    expect(app.verdict.reasons[0]!.rule).toMatch(/^btc-/);
    expect(app.verdict.folded.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/is for EVM|EVM rule/);
  });

  it('a 0.0025 BTC fee on 0.01 BTC is warned about three ways (absolute, rate, share)', () => {
    const warnings = seen.get('btc-high-fee')!.app.warnings.map((w) => w.text);
    expect(warnings.some((w) => w.startsWith('HIGH FEE: 0.0025 BTC'))).toBe(true);
    expect(warnings.some((w) => /^HIGH FEE RATE: .* above the rule limit of 50 sat\/vB/.test(w))).toBe(true);
    expect(warnings.some((w) => w.startsWith('HIGH FEE SHARE: the fee is 25.0%'))).toBe(true);
  });

  it('an EVM transaction names the chain and shows From, nonce, gas caps and the maximum fee in units', () => {
    const { app } = seen.get('evm-transfer')!;
    expect(app.network).toBe('Ethereum mainnet (chain 1)');
    expect(app.from).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(app.fees.map((f) => `${f.label}: ${f.value}`)).toEqual([
      'Nonce: 4',
      'Gas limit: 21000',
      'Max fee per gas: 30.0 gwei',
      'Priority tip per gas: 1.0 gwei',
      'Maximum fee: 0.00063 ETH',
    ]);
  });

  it('an unlimited Permit2 allowance is a danger', () => {
    const { app } = seen.get('evm-permit2-unlimited')!;
    expect(app.warnings[0]).toMatchObject({ severity: 'danger' });
    expect(app.warnings[0]!.text).toMatch(/UNLIMITED/);
  });

  it('inspect of a refused request exits 0 (it reports); sign exits 4 and --json lists every failing reason', () => {
    const { json, app } = seen.get('btc-refused-6-outputs')!;
    expect(json.status).toBe('inspected');
    expect(refusedSign.code).toBe(4);
    const out = refusedSign.json<{
      error: { code: string; message: string; reasons: string[] };
      report: RequestReport & { review: ReviewModel };
    }>();
    expect(out.error.code).toBe('POLICY_DENIED');
    // The refusal sentence names the first failing reason the app shows (one place decides which).
    const shownFirst = app.verdict.reasons.find((r) => !r.ok)!;
    expect(out.error.message).toContain(shownFirst.message.slice(1).replace(/\.$/, ''));
    const failing = json.policy.reasons.filter((r) => !r.ok).map((r) => r.message);
    expect(failing.length).toBeGreaterThan(2);
    expect(out.error.reasons).toEqual(failing);
    expect(out.report.status).toBe('refused');
    expect(out.report.review.verdict.closestRule).toBe(app.verdict.closestRule);
  });

  it('a QR request signed with --out NAME.psbt writes a binary PSBT, and its QR frames as one summary line', () => {
    expect(qrSign.code, qrSign.stderr).toBe(0);
    const written = readFileSync(join(cli.dir, 'by-qr.psbt'));
    // BIP-174 magic: "psbt" 0xff.
    expect(written.subarray(0, 5).toString('hex')).toBe('70736274ff');
    const frameLines = qrSign.stdout.split('\n').filter((l) => /frame-\d{4}\.png/.test(l));
    expect(frameLines).toHaveLength(1);
    const count = Number(/wrote (\d+) QR frames/.exec(frameLines[0]!)?.[1]);
    expect(count).toBeGreaterThan(1);
    expect(readdirSync(join(cli.dir, 'frames'))).toHaveLength(count);
    expect(qrSign.stdout).toContain(`wrote ${join(cli.dir, 'by-qr.psbt')}`);
  });
});
