/**
 * EVM pipeline benchmark (issue #4). In one run, on one SoftHSM2 token and one pool of 8 sessions:
 *  - baseline: raw HSM signing (hsm.signer.signRaw) of 1,000 random digests;
 *  - 1,000 EIP-1559 ERC-20 transfers parsed (parseEvmRequest), summarized (summarizeEvm) and signed (signEvm:
 *    the HSM's raw r‖s made low-S, one ecrecover with yParity 0 and a verify under the key when that gives
 *    another key, the signature appended to the reviewed bytes) through the same pool.
 * Both run with 8 requests in flight; median of 3 interleaved rounds.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createTestToken } from '../test/support/softhsm.js';
import { fastVerifier, verifierName } from '../hsm/native-verifier.js';
import { bytesToHex } from '../core/bytes.js';
import type { KeyRecord } from '../core/signer.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { DigestSigner } from '../core/signer.js';
import { evmAddress, parseEvmRequest, signEvm, summarizeEvm } from '../chains/evm/index.js';
import { evmDigestBytes } from '../chains/evm/summarize.js';
import { erc20Transfers, fmt, inFlight, percentile, timeIt, writeSection } from './support.js';

const N = Number(process.env.BENCH_N ?? 1000);
const ROUNDS = 3;
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 8);

const token = createTestToken('coldsign-bench-evm');
const hsm = token.open({ size: IN_FLIGHT });
const generated = await hsm.keys.generate('bench-evm');
const key: KeyRecord = {
  label: 'bench-evm',
  chain: 'evm',
  publicKey: bytesToHex(generated.publicKey),
  keyId: generated.keyId,
  address: evmAddress(generated.publicKey),
  createdAt: new Date(0).toISOString(),
};

const requests = erc20Transfers(N).map((hex) => new TextEncoder().encode(hex));
const digests = Array.from({ length: N }, () => new Uint8Array(randomBytes(32)));

let signedCount = 0;
const rawRound = (width = IN_FLIGHT) => inFlight(digests, width, (d) => hsm.signer.signRaw(key.keyId, d));
const pipelineRound = (width = IN_FLIGHT) =>
  inFlight(requests, width, async (bytes) => {
    const parsed = parseEvmRequest(bytes);
    const { plan, summary } = summarizeEvm(parsed, [key], []);
    if (summary.call?.category !== 'erc20-transfer') throw new Error('decode failed');
    const signed = await signEvm(parsed, plan, hsm.signer, fastVerifier);
    if (signed.rawTransaction) signedCount++;
  });

// warm-up (JIT, handle cache), then interleaved rounds so that drift on a shared machine hits both sides
await rawRound();
await pipelineRound();
const raw: number[] = [];
const pipeline: number[] = [];
// process CPU (every thread: the main thread and SoftHSM2's signing in the thread pool), less moved by other load
const rawCpu: number[] = [];
const pipelineCpu: number[] = [];
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
for (let round = 0; round < ROUNDS; round++) {
  let since = process.cpuUsage();
  raw.push(await timeIt(() => rawRound()));
  rawCpu.push(cpuMs(since));
  since = process.cpuUsage();
  pipeline.push(await timeIt(() => pipelineRound()));
  pipelineCpu.push(cpuMs(since));
}
// one request at a time: the JavaScript work cannot hide behind the HSM
const rawOne: number[] = [];
const pipelineOne: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  rawOne.push(await timeIt(() => rawRound(1)));
  pipelineOne.push(await timeIt(() => pipelineRound(1)));
}
const rawSequential = percentile(rawOne, 50);
const pipelineSequential = percentile(pipelineOne, 50);
const cpuRuns: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  cpuRuns.push(
    await timeIt(() => requests.forEach((bytes) => summarizeEvm(parseEvmRequest(bytes), [key], []))),
  );
}
const cpuOnly = percentile(cpuRuns, 50);
// Our whole path without the HSM: a throwaway in-memory key's signatures, made before timing, stand in for the
// HSM's (same key for parse, summarize and the check), so this is the process CPU our code adds per transaction.
const standInSecret = secp256k1.utils.randomSecretKey();
const standInPublic = secp256k1.getPublicKey(standInSecret, false);
const standInKey: KeyRecord = {
  ...key,
  publicKey: bytesToHex(standInPublic),
  address: evmAddress(standInPublic),
};
const standInSignatures = new Map<string, Uint8Array>();
for (const bytes of requests) {
  const digest = evmDigestBytes(parseEvmRequest(bytes));
  standInSignatures.set(bytesToHex(digest), secp256k1.sign(digest, standInSecret, { prehash: false }));
}
const standInSigner: DigestSigner = {
  signDigest: () => Promise.reject(new Error('not used: signRaw is offered')),
  signRaw: (_keyId, digest) => Promise.resolve(standInSignatures.get(bytesToHex(digest))!),
};
const ownCpuRuns: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const since = process.cpuUsage();
  for (const bytes of requests) {
    const parsed = parseEvmRequest(bytes);
    const { plan } = summarizeEvm(parsed, [standInKey], []);
    await signEvm(parsed, plan, standInSigner, fastVerifier);
  }
  ownCpuRuns.push(cpuMs(since));
}
const ownCpu = Math.min(...ownCpuRuns);
hsm.close();
token.cleanup();
if (signedCount !== N * (2 * ROUNDS + 1))
  throw new Error(`expected ${N * (2 * ROUNDS + 1)} signed transactions, got ${signedCount}`);

const load = loadavg()[0] ?? 0;
const rawMs = percentile(raw, 50);
const pipeMs = percentile(pipeline, 50);
const rawCpuMs = percentile(rawCpu, 50);
const pipeCpuMs = percentile(pipelineCpu, 50);
const perTx = (ms: number) => `${fmt((ms / N) * 1000, 0)} µs`;
writeSection(
  'evm',
  'EVM transactions: parse, summarize and sign',
  `
${N} EIP-1559 ERC-20 transfers (distinct recipients, amounts and nonces) against raw HSM signing of ${N} random digests,
same SoftHSM2 token and pool of ${IN_FLIGHT} sessions, ${IN_FLIGHT} requests in flight, median of ${ROUNDS} interleaved rounds;
signatures recovered with ${verifierName}.

| what | total | per transaction | ratio to raw signing |
|---|---|---|---|
| raw HSM signing, \`hsm.signer.signRaw\`, ${IN_FLIGHT} in flight (baseline) | ${fmt(rawMs, 0)} ms | ${perTx(rawMs)} | 1.00 |
| parseEvmRequest + summarizeEvm + signEvm, ${IN_FLIGHT} in flight | ${fmt(pipeMs, 0)} ms | ${perTx(pipeMs)} | **${fmt(pipeMs / rawMs)}** |
| raw HSM signing, one at a time | ${fmt(rawSequential, 0)} ms | ${perTx(rawSequential)} | ${fmt(rawSequential / rawMs)} |
| parse + summarize + sign, one at a time | ${fmt(pipelineSequential, 0)} ms | ${perTx(pipelineSequential)} | ${fmt(pipelineSequential / rawMs)} |
| parse + summarize only, no HSM, one at a time | ${fmt(cpuOnly, 0)} ms | ${perTx(cpuOnly)} | — |
| parse + summarize + sign with stand-in signatures (no HSM: our code alone, curve check included), process CPU, fastest of ${ROUNDS} | ${fmt(ownCpu, 0)} ms | ${perTx(ownCpu)} | — |
| process CPU of raw signing, ${IN_FLIGHT} in flight | ${fmt(rawCpuMs, 0)} ms | ${perTx(rawCpuMs)} | 1.00 |
| process CPU of parse + summarize + sign, ${IN_FLIGHT} in flight | ${fmt(pipeCpuMs, 0)} ms | ${perTx(pipeCpuMs)} | ${fmt(pipeCpuMs / rawCpuMs)} |

signEvm takes the HSM's raw r‖s (\`signRaw\`), makes it low-S, recovers the key with yParity 0 and, only when
that gives another key, verifies the signature under the key (then yParity is 1): one recovery and half a verify
per transaction on average. It appends (yParity, r, s) to the reviewed bytes (the list's items are copied, only its
header is rewritten) and hashes the result with hash-wasm's keccak-256 (WebAssembly), which also makes the digest
and the EIP-55 checksums of the recipient and the token contract. Transaction parsing is viem's
(docs/bench/evm-codec.md); the ERC-20 arguments are read from the canonical 32-byte words; each key's public key
and address are derived once, the digest once per request.

Goal (issue 16): at most 1.5x raw signing at the same concurrency — **${pipeMs / rawMs <= 1.5 ? 'met' : 'not met'}** in this run (load
average ${fmt(load, 1)} on the machine at the end of the run; both sides are measured in the same run, interleaved,
so the ratio is what to compare).

The stand-in row is the CPU our code adds per transaction with nothing else running (the same parse, summary,
curve check, signed bytes and hash; a throwaway in-memory key's signatures, made before timing, stand in for the
HSM's). Beside SoftHSM2 at ${IN_FLIGHT} in flight on this shared 2-core machine the difference of the two process CPU rows is
larger than that row (this session: about 1.5–2x); where the difference comes from is measured, not explained.

The process CPU rows count every thread of the benchmark process (the main thread and SoftHSM2's signing in the
thread pool): their ratio moves less with other load on the machine than the wall-clock one.

Notes. The JavaScript work of one request can only hide behind another request's C_Sign when the main thread is
free; with the pool on the main thread, C_SignInit is synchronous, so most of the EVM work adds to the baseline
and the ratio is close to (raw + EVM work) / raw. On a shared 2-core machine the in-flight ratio moves between
runs; the one-at-a-time rows show the same work without overlap.
`,
);
process.stdout.write(
  `evm: e2e-vs-raw=${fmt(pipeMs / rawMs)} e2e-vs-raw-cpu=${fmt(pipeCpuMs / rawCpuMs)} parse-summarize-us=${fmt((cpuOnly / N) * 1000, 0)} own-cpu-us=${fmt((ownCpu / N) * 1000, 0)} load=${fmt(load, 1)}\n`,
);
