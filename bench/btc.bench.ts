/**
 * Bitcoin PSBT benchmark (issue #3). In one run, against one SoftHSM2 token and one session pool:
 *  - baseline: raw HSM signing (signer.signRaw, 8 in flight) of N random digests;
 *  - end to end: parse → summarize → sign (low-S, verify, validateSignaturesOfInput) → finalize → serialize
 *    of a PSBT with N P2WPKH inputs (each with its full previous transaction), 8 signatures in flight.
 *  - a network HSM: 2.5 ms inside C_SignInit and again inside C_Sign in 8 sign workers, raw against end to end.
 * N = 10, 100, 1000. Goals (issue 16): end to end ≤ 1.3x raw on SoftHSM2, ≤ 1.1x raw with the latency.
 */
import './thread-pool.js';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createTestToken } from '../test/support/softhsm.js';
import { buildPsbt, foreignScript } from '../test/btc/support/fixtures.js';
import { fastVerifier, verifierName } from '../hsm/native-verifier.js';
import { parsePsbt, signPsbt, summarizePsbt, btcAddress, btcOutputScript } from '../chains/btc/index.js';
import { encodePsbtTransport } from '../chains/btc/encoding.js';
import { toHex } from '../core/bytes.js';
import { nativeSha256 } from '../appliance/native-sha256.js';
import { compressPublicKey } from '../core/signature.js';
import type { KeyRecord } from '../core/signer.js';
import { fmt, inFlight, medianOf, writeSection } from './support.js';

const SIZES = [10, 100, 1000];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const IN_FLIGHT = 8;
const POOL = 4;
/** Benchmarks only: ms held inside C_SignInit and again inside C_Sign in each sign worker (a network HSM). */
const LATENCY_MS = 2.5;
const LATENCY_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3);

const token = createTestToken('coldsign-btc-bench');
const hsm = token.open({ size: POOL });
const generated = await hsm.keys.generate('bench-vault');
const publicKey = compressPublicKey(generated.publicKey);
const key: KeyRecord = {
  label: 'bench-vault',
  chain: 'btc',
  publicKey: toHex(publicKey),
  keyId: generated.keyId,
  address: btcAddress(publicKey, 'p2wpkh', 'testnet'),
  network: 'testnet',
  script: 'p2wpkh',
  createdAt: '2026-01-01T00:00:00Z',
};

interface Row {
  n: number;
  bytes: number;
  raw: number;
  normalized: number;
  e2e: number;
  /** CPU time of raw signing and of end to end (load on the machine changes it little). */
  rawCpu: number;
  e2eCpu: number;
}
const rows: Row[] = [];
/** CPU time of this whole process (every thread: SoftHSM2, libuv's pool and the sign workers run in it), in ms. */
async function cpuOf(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
// best of the rounds: the machine is shared, and the minimum is the run least disturbed by other processes
const best = (v: number[]) => Math.min(...v);
/** A base64 PSBT with `n` P2WPKH inputs of our key (each with its previous transaction), payment and change. */
const requestOf = (n: number) =>
  encodePsbtTransport(
    buildPsbt(
      Array.from({ length: n }, () => ({ kind: 'p2wpkh' as const, pubkeys: [publicKey], amount: 100_000n })),
      [
        { script: foreignScript(1), amount: BigInt(n) * 50_000n },
        { script: btcOutputScript(publicKey, 'p2wpkh'), amount: BigInt(n) * 49_000n },
      ],
    ),
    'base64',
  );
for (const n of SIZES) {
  const request = requestOf(n);
  const digests = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
  // warm-up of both paths (JIT, session handles)
  await inFlight(digests.slice(0, 10), IN_FLIGHT, (d) => hsm.signer.signRaw(key.keyId, d));
  const endToEnd = () => signAll(request, n);
  await endToEnd();
  // interleave the two measurements so that load from other processes hits both alike
  const raws: number[] = [];
  const normalizeds: number[] = [];
  const e2es: number[] = [];
  const rawCpus: number[] = [];
  const e2eCpus: number[] = [];
  const rawSigning = () => inFlight(digests, IN_FLIGHT, (d) => hsm.signer.signRaw(key.keyId, d));
  for (let r = 0; r < ROUNDS; r++) {
    raws.push(await medianOf(1, rawSigning));
    rawCpus.push(await cpuOf(rawSigning));
    normalizeds.push(
      await medianOf(1, () =>
        inFlight(digests, IN_FLIGHT, (d) => hsm.signer.signDigest(key.keyId, generated.publicKey, d)),
      ),
    );
    e2es.push(await medianOf(1, endToEnd));
    e2eCpus.push(await cpuOf(endToEnd));
  }
  rows.push({
    n,
    bytes: request.length,
    raw: best(raws),
    normalized: best(normalizeds),
    e2e: best(e2es),
    rawCpu: best(rawCpus),
    e2eCpu: best(e2eCpus),
  });
  process.stdout.write(
    `n=${n}: raw ${fmt(best(raws))} ms, signDigest ${fmt(best(normalizeds))} ms, end to end ${fmt(best(e2es))} ms\n`,
  );
}

/** Parse → summarize → sign (IN_FLIGHT in flight) → finalize → extract → serialize. */
async function signAll(request: Uint8Array, n: number): Promise<void> {
  const parsed = parsePsbt(request, { sha256: nativeSha256 });
  const { plan } = summarizePsbt(parsed, [key], { network: 'testnet' });
  const signed = await signPsbt(parsed, plan, hsm.signer, {
    concurrency: IN_FLIGHT,
    verifier: fastVerifier,
    finalize: true,
  });
  if (signed.signatures.length !== n || !signed.finalTxHex) throw new Error('benchmark: incomplete signing');
}

// A network HSM: LATENCY_MS held inside C_SignInit and again inside C_Sign, in sign workers that each own a
// session (hsm/sign-workers.ts), IN_FLIGHT of them: raw signRaw against end to end at that same concurrency.
const LATENCY_N = 1000;
const latencyRequest = requestOf(LATENCY_N);
const latencyDigests = Array.from({ length: LATENCY_N }, () => new Uint8Array(randomBytes(32)));
await hsm.startSignWorkers(IN_FLIGHT, { latencyMs: LATENCY_MS });
const latencyRaws: number[] = [];
const latencyE2es: number[] = [];
await signAll(latencyRequest, LATENCY_N);
for (let r = 0; r < LATENCY_ROUNDS; r++) {
  latencyRaws.push(
    await medianOf(1, () => inFlight(latencyDigests, IN_FLIGHT, (d) => hsm.signer.signRaw(key.keyId, d))),
  );
  latencyE2es.push(await medianOf(1, () => signAll(latencyRequest, LATENCY_N)));
}
await hsm.stopSignWorkers();
const latency = { raw: best(latencyRaws), e2e: best(latencyE2es) };
process.stdout.write(
  `latency ${LATENCY_MS}+${LATENCY_MS} ms, n=${LATENCY_N}: raw ${fmt(latency.raw)} ms, end to end ${fmt(latency.e2e)} ms\n`,
);
hsm.close();
token.cleanup();

const at = (n: number) => rows.find((r) => r.n === n)!;
const verdict = (ok: boolean) => (ok ? 'met' : 'not met');
const table = rows
  .map(
    (r) =>
      `| ${r.n} | ${Math.round(r.bytes / 1024)} KiB | ${fmt(r.raw, 1)} ms | ${fmt(r.normalized, 1)} ms | ${fmt(r.e2e, 1)} ms | ${fmt((r.e2e * 1000) / r.n, 0)} µs | **${fmt(r.e2e / r.raw)}** | ${fmt(r.e2e / r.normalized)} | ${fmt(r.e2eCpu / r.rawCpu)} |`,
  )
  .join('\n');
const scaleE2e = at(1000).e2e / at(100).e2e;
const scaleRaw = at(1000).raw / at(100).raw;
writeSection(
  'btc',
  'Bitcoin PSBT signing (SoftHSM2)',
  `
PSBTs (base64) with N P2WPKH inputs, each carrying its full previous transaction (CVE-2020-14199 check on),
two outputs (payment and change). End to end = parse → summarize → sign ${IN_FLIGHT} in flight (HSM, low-S,
one verification of each signature against its input's digest with ${verifierName} in the signer,
bitcoinjs-lib validateSignaturesOfInput on one input per script/sighash type) → finalize → extract →
serialize. Baseline = raw \`signRaw\` of N random digests, ${IN_FLIGHT} in flight, same token and pool of
${POOL} sessions, measured interleaved in the same run; best of ${ROUNDS} rounds each (the machine is shared:
load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} over 1 / 5 / 15 minutes at the end of the run, so single figures move between runs).

SoftHSM2 as is (its CPU is this host's, shared with the chain's work):

| inputs | request | raw \`signRaw\` (baseline) | \`signDigest\` (low-S, verify; recovery id only on use) | end to end | per input | ratio to raw | ratio to \`signDigest\` | CPU ratio to raw |
|---|---|---|---|---|---|---|---|---|
${table}

The CPU ratio is the process's CPU time (all threads, SoftHSM2's included) end to end over raw signing, best
of the same rounds: it moves little with the machine's load, where the wall-time ratio moves a lot.

Scaling 100 → 1000 inputs: end to end ${fmt(scaleE2e)}x (raw signing ${fmt(scaleRaw)}x).

A network HSM: ${LATENCY_MS} ms held inside C_SignInit and again inside C_Sign (bench-only latency of
hsm/sign-workers.ts), ${IN_FLIGHT} sign workers each owning a session, ${IN_FLIGHT} in flight for both paths,
${LATENCY_N} inputs, best of ${LATENCY_ROUNDS}: raw \`signRaw\` ${fmt(latency.raw, 0)} ms, end to end
${fmt(latency.e2e, 0)} ms, ratio **${fmt(latency.e2e / latency.raw)}**.

Goals (issue 16): on SoftHSM2, end to end at most 1.3x raw signing (${verdict(at(1000).e2e / at(1000).raw <= 1.3)} at
1000 inputs: ${fmt(at(1000).e2e / at(1000).raw)}x); with the latency inside the PKCS#11 calls, at most 1.1x raw at
the same concurrency (${verdict(latency.e2e / latency.raw <= 1.1)}: ${fmt(latency.e2e / latency.raw)}x); 1000 inputs
under 11x the time of 100 (${verdict(scaleE2e < 11)}: ${fmt(scaleE2e)}x).

Where the time goes at 1000 inputs: the HSM signer's own \`signDigest\` is ${fmt(at(1000).normalized / at(1000).raw)}x raw
signing by itself (low-S and DER on bytes, one libsecp256k1 verification; the recovery id, which Bitcoin does
not need, is not computed); the chain's work on top of it (parse with the previous-transaction check,
summarize, BIP-143 digests, finalize, extract, serialize) is ${fmt(at(1000).e2e / at(1000).normalized)}x
\`signDigest\`. The HSM's own work and ours share the host's two cores here, so every microsecond of chain
CPU per input shows in the ratio; with a network HSM the signing waits overlap it instead. BIP-143's shared
hashes (hashPrevouts, hashSequence, hashOutputs) are computed once per transaction (chains/btc/sighash.ts):
bitcoinjs-lib recomputes them for every input, and its PSBT signing, validation and finalizing methods cost
about 1 ms per input (exceptions inside script-type probing), so the chain signs and finalizes with its own
linear loop and keeps bitcoinjs-lib's validateSignaturesOfInput as a cross-check on one input per script and
sighash type. Each signature's follow-up (its partial signature, that cross-check when it is the first of
its kind, its hex and final scripts) is done as it arrives, while the other signatures are still in the
HSM, so only the assembly of the answer waits for the last one. The signed PSBT is the request's own records
plus the signatures or final scripts (chains/btc/signed-psbt.ts), not bip174's re-encoding of every field;
base64 and hex go through Node's native codecs, and the txid is hashed from the checked unsigned-transaction
record instead of a re-serialization. SHA-256 (the previous transactions' txids, the BIP-143 digests, the
request id) is Node's native one, passed in through core/hasher.ts as the appliance does. In this warm
process the pure-JS default made no difference beyond the noise between runs; in a fresh \`coldsign sign\` process,
where it runs cold, CPU profiles put it at about 60 ms per 500 inputs.

\`btc: e2e-vs-raw=${fmt(at(1000).e2e / at(1000).raw)} e2e-vs-raw-cpu=${fmt(at(1000).e2eCpu / at(1000).rawCpu)} latency-e2e-vs-raw=${fmt(latency.e2e / latency.raw)}\`
`,
);
