/**
 * Child process of crash.test.ts: signs in a loop with the real SoftHSM token and database, the
 * way the pipeline does, until it is killed. Each operation: request, decision and
 * "signing.started" checkpointed with the pin kept open (the unit of work goes on); the HSM
 * signature; the signature (with the output's digest and velocity) appended with no new begin; the
 * closing checkpoint; then the output file, written atomically.
 * After each step it prints "<stage> <requestId>". Given a stage and a count, it stops at the
 * count-th time it reaches that stage, prints "holding" and waits to be killed: the parent kills it
 * there, with no race against the clock.
 * Usage: tsx crash-signer.ts DB OUT_DIR KEY_ID PUBLIC_KEY_HEX HOLD_STAGE HOLD_COUNT
 *   (PIN in COLDSIGN_PIN, token in COLDSIGN_TOKEN; HOLD_STAGE "none" never holds)
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../store/atomic-file.js';
import { join } from 'node:path';
import { fromHex, toHex } from '../../core/bytes.js';
import type { SigningSummary } from '../../core/summary.js';
import { Hsm } from '../../hsm/index.js';
import { findSoftHsmModule } from '../../hsm/softhsm.js';
import { Auditor } from '../../store/audit.js';
import { hsmAuditPorts } from '../../store/audit-hsm.js';
import { openDatabase } from '../../store/database.js';
import {
  recordDecision,
  recordRequest,
  recordSignatures,
  recordSigningStarted,
} from '../../store/records.js';

const [dbPath, outDir, keyId, publicKeyHex, holdStage = 'none', holdCount = '0'] = process.argv.slice(
  2,
) as string[];

const summary: SigningSummary = {
  chain: 'btc',
  kind: 'psbt',
  network: 'regtest',
  signingKeys: ['crash-key'],
  movements: [
    {
      to: 'bcrt1qcrash',
      raw: '1000',
      amount: '0.00001',
      asset: { type: 'native', symbol: 'BTC' },
      change: false,
    },
  ],
  fee: { raw: '100', amount: '0.000001', rate: 1 },
  blind: false,
  warnings: [],
  details: {},
};

const reached = new Map<string, number>();
async function mark(stage: string, requestId = ''): Promise<void> {
  process.stdout.write(`${stage} ${requestId}\n`);
  const count = (reached.get(stage) ?? 0) + 1;
  reached.set(stage, count);
  if (stage === holdStage && count === Number(holdCount)) {
    process.stdout.write('holding\n');
    // Until SIGKILL. A promise alone holds no handle: once "holding" was flushed, Node ended the process by itself
    // (exit 13, a top-level await left unsettled) whenever the parent's kill came later than that, as on a loaded
    // host. A timer keeps the process alive; it ends it (exit 3) only if no kill came within ten minutes.
    await new Promise(() => setTimeout(() => process.exit(3), 600_000));
  }
}

const hsm = Hsm.open(
  { module: findSoftHsmModule(), token: process.env.COLDSIGN_TOKEN ?? '' },
  process.env.COLDSIGN_PIN ?? '',
);
// SoftHSM2's file backend rewrites token.object in place during C_Login (ftruncate, then write):
// a kill inside that window damages the token itself, which is SoftHSM's limit, not the log's.
await mark('logged-in');
const db = openDatabase(dbPath!);
const auditor = await Auditor.open(db, await hsmAuditPorts(hsm, { db }), new Date());
const publicKey = fromHex(publicKeyHex!);
await mark('ready');

for (;;) {
  const now = new Date();
  const requestId = randomBytes(32).toString('hex');
  await auditor.assertHeadMatchesToken();
  await auditor.commit(
    now,
    (tx) => {
      recordRequest(tx, { requestId, chain: 'btc', kind: 'psbt', summary }, now);
      recordDecision(
        tx,
        requestId,
        { allowed: true, rule: 'crash', requiredApprovals: 0, reasons: [] },
        1,
        now,
      );
      recordSigningStarted(tx, [{ requestId, txid: requestId, signatures: [{ key: 'crash-key' }] }]);
    },
    { checkpoint: 'open' },
  );
  await mark('started', requestId);
  const signature = await hsm.signer.signDigest(
    keyId!,
    publicKey,
    createHash('sha256').update(requestId).digest(),
  );
  const signatureHex = toHex(signature.der);
  await mark('signed', `${requestId} ${signatureHex}`);
  const output = JSON.stringify({ requestId, signature: signatureHex });
  const name = `${requestId}.json`;
  const digest = createHash('sha256').update(output).digest('hex');
  await auditor.commit(
    now,
    (tx) =>
      recordSignatures(
        tx,
        {
          requestId,
          rule: 'crash',
          summary,
          signatures: [{ keyLabel: 'crash-key', signature: signatureHex }],
          output: { path: name, digest },
        },
        now,
      ),
    { checkpoint: false },
  );
  await mark('recorded', requestId);
  await auditor.checkpoint(now);
  await mark('checkpointed', requestId);
  writeFileAtomic(join(outDir!, name), output);
  await mark('written', requestId);
}
