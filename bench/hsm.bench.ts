/**
 * HSM signer benchmark (issue: foundation). In one run, against one SoftHSM2 token:
 *  - baseline: a raw pkcs11js C_SignInit + C_Sign loop on one session;
 *  - the HSM signer (normalize to low-S, verify, recovery id) on one session, one call at a time and 8 in flight;
 *  - with an injected per-call latency (a network HSM): one session against a pool of 8.
 */
import pkcs11js from 'pkcs11js';
import { randomBytes } from 'node:crypto';
import { createTestToken } from '../test/support/softhsm.js';
import { verifierName } from '../hsm/native-verifier.js';
import { fmt, inFlight, medianOf, writeSection } from './support.js';

const N = Number(process.env.BENCH_N ?? 2000);
const LATENCY_N = Number(process.env.BENCH_LATENCY_N ?? 400);
const LATENCY_MS = 5;
const ROUNDS = 3;

const token = createTestToken('coldsign-bench');
const one = token.open({ size: 1 });
const key = await one.keys.generate('bench');
const digests = Array.from({ length: N }, () => new Uint8Array(randomBytes(32)));

const raw = await medianOf(ROUNDS, () =>
  one.pool.run('C_Sign', (session) => {
    const handle = one.keys.privateKeyHandle(session, key.keyId);
    for (const digest of digests) {
      one.pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, handle);
      one.pkcs11.C_Sign(session, Buffer.from(digest), Buffer.alloc(72));
    }
  }),
);
const sequential = await medianOf(ROUNDS, async () => {
  for (const digest of digests) await one.signer.signDigest(key.keyId, key.publicKey, digest);
});
const overlapped = await medianOf(ROUNDS, () =>
  inFlight(digests, 8, (d) => one.signer.signDigest(key.keyId, key.publicKey, d)),
);
const pool8 = token.open({ size: 8 });
const pooled = await medianOf(ROUNDS, () =>
  inFlight(digests, 8, (d) => pool8.signer.signDigest(key.keyId, key.publicKey, d)),
);
pool8.close();
one.close();

const latencyDigests = digests.slice(0, LATENCY_N);
const slowOne = token.open({ size: 1, injectedLatencyMs: LATENCY_MS });
const slowSingle = await medianOf(1, () =>
  inFlight(latencyDigests, 8, (d) => slowOne.signer.signDigest(key.keyId, key.publicKey, d)),
);
slowOne.close();
const slowPool = token.open({ size: 8, injectedLatencyMs: LATENCY_MS });
const slowPooled = await medianOf(1, () =>
  inFlight(latencyDigests, 8, (d) => slowPool.signer.signDigest(key.keyId, key.publicKey, d)),
);
slowPool.close();
token.cleanup();

const perSig = (ms: number, n = N) => `${fmt((ms / n) * 1000, 0)} µs`;
writeSection(
  'hsm',
  'HSM signer (SoftHSM2)',
  `
${N} random 32-byte digests signed with one secp256k1 key, median of ${ROUNDS} rounds; signatures verified with ${verifierName}.

| what | per signature | ratio to raw C_Sign |
|---|---|---|
| raw pkcs11js C_SignInit + C_Sign loop, one session (baseline) | ${perSig(raw)} | 1.00 |
| signer, one session, one call at a time (sign + low-S + verify + recovery id) | ${perSig(sequential)} | ${fmt(sequential / raw)} |
| signer, one session, 8 calls in flight (verification overlaps the HSM) | ${perSig(overlapped)} | ${fmt(overlapped / raw)} |
| signer, pool of 8 sessions, 8 calls in flight | ${perSig(pooled)} | ${fmt(pooled / raw)} |

With ${LATENCY_MS} ms injected per call (a network HSM such as CloudHSM), ${LATENCY_N} digests, 8 calls in flight:

| sessions | total | speed-up over one session |
|---|---|---|
| 1 | ${fmt(slowSingle, 0)} ms | 1.00 |
| 8 | ${fmt(slowPooled, 0)} ms | ${fmt(slowSingle / slowPooled)} |

Goals: signer overhead over raw C_Sign under 10% (the pipeline always has several signatures in flight, the
"8 calls in flight" rows); with ${LATENCY_MS} ms latency a pool of 8 at least 5x faster than one session.
`,
);
