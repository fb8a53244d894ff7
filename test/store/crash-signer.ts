/**
 * Child process of crash.test.ts: signs in a loop with the real SoftHSM token and database, the
 * way the pipeline does, until it is killed. Each operation: request + decision in the log, an HSM
 * signature, the signature (with the output's digest) in the log, a checkpoint, and only then the
 * output file, written atomically (temporary file, fsync, rename).
 * Usage: tsx crash-signer.ts DB OUT_DIR KEY_ID PUBLIC_KEY_HEX   (PIN in COLDSIGN_PIN, token in COLDSIGN_TOKEN)
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
import { recordDecision, recordRequest, recordSignatures } from '../../store/records.js';

const [dbPath, outDir, keyId, publicKeyHex] = process.argv.slice(2) as [string, string, string, string];

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

const hsm = Hsm.open(
  { module: findSoftHsmModule(), token: process.env.COLDSIGN_TOKEN ?? '' },
  process.env.COLDSIGN_PIN ?? '',
);
// SoftHSM2's file backend rewrites token.object in place during C_Login (ftruncate, then write):
// a kill inside that window damages the token itself, which is SoftHSM's limit, not the log's.
process.stdout.write('logged-in\n');
const db = openDatabase(dbPath);
const auditor = await Auditor.open(db, await hsmAuditPorts(hsm, { db }), new Date());
const publicKey = fromHex(publicKeyHex);
process.stdout.write('ready\n');

for (;;) {
  const now = new Date();
  const requestId = randomBytes(32).toString('hex');
  await auditor.assertHeadMatchesToken();
  await auditor.begin();
  recordRequest(db, auditor, { requestId, chain: 'btc', kind: 'psbt', summary }, now);
  recordDecision(
    db,
    auditor,
    requestId,
    { allowed: true, rule: 'crash', requiredApprovals: 0, reasons: [] },
    1,
    now,
  );
  const signature = await hsm.signer.signDigest(
    keyId,
    publicKey,
    createHash('sha256').update(requestId).digest(),
  );
  const signatureHex = toHex(signature.der);
  const output = JSON.stringify({ requestId, signature: signatureHex });
  const name = `${requestId}.json`;
  const digest = createHash('sha256').update(output).digest('hex');
  recordSignatures(
    db,
    auditor,
    {
      requestId,
      rule: 'crash',
      summary,
      signatures: [{ keyLabel: 'crash-key', signature: signatureHex }],
      output: { path: name, digest },
    },
    now,
  );
  await auditor.checkpoint(now);
  writeFileAtomic(join(outDir, name), output);
}
