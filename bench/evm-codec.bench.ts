/**
 * EVM codec benchmark (issue 16 item 4): ethers against viem and micro-eth-signer over the same 1,000 EIP-1559
 * ERC-20 transfers, in one run, each step as a ratio to one secp256k1 recovery (@noble/curves) measured in
 * the same round: parse the unsigned transaction, decode the ERC-20 calldata, keccak-256 of the unsigned
 * payload, and the signed serialization given (r, s, yParity). micro-eth-signer is bench-only.
 */
import './thread-pool.js';
import { loadavg } from 'node:os';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { Interface, Signature, Transaction, decodeRlp, encodeRlp, keccak256 as ethersKeccak } from 'ethers';
import { Transaction as MicroTransaction } from 'micro-eth-signer';
import { RLP as microRlp } from 'micro-eth-signer/core/rlp.js';
import {
  decodeAbiParameters,
  decodeFunctionData,
  encodeAbiParameters,
  keccak256 as viemKeccak,
  parseAbi,
  parseTransaction,
  serializeTransaction,
  type Hex,
} from 'viem';
import { bytesToHex, fromHex } from '../core/bytes.js';
import { isCanonicalStaticWords } from '../chains/evm/decode.js';
import { checksumLowerHex } from '../chains/evm/address.js';
import { keccak256Bytes, keccakImplementation, keccakReady } from '../chains/evm/keccak.js';
import { appendSignature } from '../chains/evm/signed-tx.js';
import { fastVerifier, verifierName } from '../hsm/native-verifier.js';
import { erc20Transfers, fmt, percentile, writeSection } from './support.js';

await keccakReady;
if (keccakImplementation() !== 'hash-wasm') throw new Error('the WebAssembly keccak-256 did not load');

const N = Number(process.env.BENCH_N ?? 1000);
const ROUNDS = 3;
const erc20 = new Interface(['function transfer(address to, uint256 amount)']);
const viemAbi = parseAbi(['function transfer(address to, uint256 amount)']);
const transferInputs = viemAbi[0].inputs;

// One throwaway in-memory key signs every transaction once, outside the timed steps.
const secretKey = secp256k1.utils.randomSecretKey();
const publicKey = secp256k1.getPublicKey(secretKey, false);
type Item = {
  hex: Hex;
  data: Hex;
  bytes: Uint8Array;
  digest: Uint8Array;
  r: bigint;
  s: bigint;
  yParity: 0 | 1;
  compact: Uint8Array;
  expected: string;
};
const items: Item[] = erc20Transfers(N).map((hex) => {
  const bytes = fromHex(hex);
  const digest = keccak_256(bytes);
  const recovered = secp256k1.sign(digest, secretKey, { prehash: false, format: 'recovered' });
  const sig = secp256k1.Signature.fromBytes(recovered, 'recovered');
  const yParity = sig.recovery as 0 | 1;
  const expected = Transaction.from(hex);
  expected.signature = Signature.from({
    r: `0x${sig.r.toString(16).padStart(64, '0')}`,
    s: `0x${sig.s.toString(16).padStart(64, '0')}`,
    yParity,
  });
  return {
    hex,
    data: expected.data as Hex,
    bytes,
    digest,
    r: sig.r,
    s: sig.s,
    yParity,
    compact: recovered.subarray(1),
    expected: expected.serialized,
  };
});

const hex32 = (n: bigint): Hex => `0x${n.toString(16).padStart(64, '0')}`;
/** RLP integer: minimal big-endian bytes, empty for zero (Yellow Paper appendix B). */
const rlpInt = (n: bigint): Uint8Array =>
  n === 0n
    ? new Uint8Array()
    : fromHex(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, '0'));

// Each case returns a value checked against the expected signed bytes (correctness outside the timings).
type Case = { step: string; name: string; run: (item: Item) => unknown };
const cases: Case[] = [
  {
    step: 'unit',
    name: 'secp256k1 recovery, `@noble/curves` (the unit)',
    run: (it) =>
      secp256k1.Signature.fromBytes(it.compact, 'compact')
        .addRecoveryBit(it.yParity)
        .recoverPublicKey(it.digest),
  },
  {
    step: 'e. check',
    name: 'secp256k1 recovery, libsecp256k1 (signEvm, yParity 0)',
    run: (it) => fastVerifier.recover(it.compact, it.yParity, it.digest),
  },
  {
    step: 'e. check',
    name: 'secp256k1 verify, libsecp256k1 (signEvm, when yParity 0 gives another key)',
    run: (it) => fastVerifier.verify(it.compact, it.digest, publicKey),
  },
  { step: 'a. parse', name: 'ethers `Transaction.from`', run: (it) => Transaction.from(it.hex) },
  { step: 'a. parse', name: 'viem `parseTransaction`', run: (it) => parseTransaction(it.hex) },
  {
    step: 'a. parse',
    name: 'micro-eth-signer `Transaction.fromBytes`',
    run: (it) => MicroTransaction.fromBytes(it.bytes),
  },
  {
    step: 'b. calldata',
    name: 'ethers `Interface.parseTransaction`',
    run: (it) => erc20.parseTransaction({ data: it.data }),
  },
  {
    step: 'b. calldata',
    name: 'viem `decodeAbiParameters` + re-encode and compare (exact canonical test)',
    run: (it) => {
      const body = `0x${it.data.slice(10)}` as Hex;
      const args = decodeAbiParameters(transferInputs, body);
      return encodeAbiParameters(transferInputs, args) === body ? args : null;
    },
  },
  {
    step: 'b. calldata',
    name: 'word check + viem `decodeAbiParameters` (the same test, coldsign for ERC-20 before)',
    run: (it) =>
      isCanonicalStaticWords(it.data.slice(10), [true, false])
        ? decodeAbiParameters(transferInputs, `0x${it.data.slice(10)}`)
        : null,
  },
  {
    step: 'b. calldata',
    name: 'word check + words read, EIP-55 by hash-wasm keccak (the same test, coldsign for ERC-20 now)',
    run: (it) => {
      const body = it.data.slice(10);
      return isCanonicalStaticWords(body, [true, false])
        ? [checksumLowerHex(body.slice(24, 64)), BigInt(`0x${body.slice(64, 128)}`)]
        : null;
    },
  },
  {
    step: 'b. calldata',
    name: 'viem `decodeFunctionData`',
    run: (it) => decodeFunctionData({ abi: viemAbi, data: it.data }),
  },
  { step: 'c. keccak', name: 'ethers `keccak256` (noble, hex in/out)', run: (it) => ethersKeccak(it.bytes) },
  { step: 'c. keccak', name: 'viem `keccak256` (noble, hex out)', run: (it) => viemKeccak(it.bytes) },
  {
    step: 'c. keccak',
    name: '`@noble/hashes` `keccak_256` (bytes; micro-eth-signer uses it)',
    run: (it) => keccak_256(it.bytes),
  },
  {
    step: 'c. keccak',
    name: 'hash-wasm keccak-256 (WebAssembly, bytes; coldsign now)',
    run: (it) => keccak256Bytes(it.bytes),
  },
  {
    step: 'd. signed',
    name: 'ethers: parse, set signature, `serialized`',
    run: (it) => {
      const tx = Transaction.from(it.hex);
      tx.signature = Signature.from({ r: hex32(it.r), s: hex32(it.s), yParity: it.yParity });
      return tx.serialized;
    },
  },
  {
    step: 'd. signed',
    name: 'viem: `parseTransaction` + `serializeTransaction`',
    run: (it) =>
      serializeTransaction(parseTransaction(it.hex), { r: hex32(it.r), s: hex32(it.s), yParity: it.yParity }),
  },
  {
    step: 'd. signed',
    name: 'append (yParity, r, s) to the RLP list, ethers `decodeRlp`/`encodeRlp`',
    run: (it) => {
      const fields = decodeRlp(it.bytes.subarray(1)) as string[];
      return `0x02${encodeRlp([...fields, rlpInt(BigInt(it.yParity)), rlpInt(it.r), rlpInt(it.s)]).slice(2)}`;
    },
  },
  {
    step: 'd. signed',
    name: 'append (yParity, r, s) to the RLP list, micro-eth-signer `RLP`',
    run: (it) => {
      const fields = microRlp.decode(it.bytes.subarray(1)) as Uint8Array[];
      return `0x02${bytesToHex(microRlp.encode([...fields, BigInt(it.yParity), it.r, it.s]))}`;
    },
  },
  {
    step: 'd. signed',
    name: 'append (yParity, r, s) after the list’s items, header rewritten (coldsign now)',
    run: (it) =>
      `0x${bytesToHex(appendSignature(it.bytes, 2, { v: BigInt(it.yParity), r: it.compact.subarray(0, 32), s: it.compact.subarray(32) }))}`,
  },
];

// Correctness first: every signed serialization must be byte-identical to ethers'.
for (const c of cases.filter((c) => c.step === 'd. signed')) {
  for (const it of items.slice(0, 50)) {
    const out = String(c.run(it)).toLowerCase();
    if (out !== it.expected.toLowerCase()) throw new Error(`${c.name}: signed bytes differ from ethers'`);
  }
}

function timeCase(c: Case): number {
  const start = performance.now();
  for (const it of items) c.run(it);
  return ((performance.now() - start) * 1000) / items.length; // µs per transaction
}

for (const c of cases) timeCase(c); // warm-up (JIT)
// ratios[case][round]: per-transaction time over the unit's in the same round; cases interleaved per round
const perTx: number[][] = cases.map(() => []);
const ratios: number[][] = cases.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  const times = cases.map(timeCase);
  times.forEach((t, i) => {
    perTx[i]!.push(t);
    ratios[i]!.push(t / times[0]!);
  });
}
const load = loadavg().map((x) => x.toFixed(1));

const rows = cases.map((c, i) => {
  const r = ratios[i]!;
  return `| ${c.step} | ${c.name} | ${fmt(percentile(perTx[i]!, 50), 1)} µs | ${fmt(Math.min(...r), 3)} / **${fmt(percentile(r, 50), 3)}** / ${fmt(Math.max(...r), 3)} |`;
});
const table = [
  '| step | implementation | per transaction (median) | ratio to one recovery: min / **median** / max |',
  '|---|---|---|---|',
  ...rows,
].join('\n');
console.log(table);

const median = (i: number) => percentile(ratios[i]!, 50);
const m = (i: number) => fmt(median(i), 3);
const idx = (name: string) => cases.findIndex((c) => c.name.startsWith(name));
writeSection(
  'evm-codec',
  'EVM codecs: ethers, viem and micro-eth-signer',
  `
Command: \`npx tsx bench/evm-codec.bench.ts\` (BENCH_N=${N}). The same ${N} unsigned EIP-1559 ERC-20 transfers
(distinct recipients, amounts and nonces) through each step, one at a time on the main thread, ${ROUNDS} rounds
with every case timed in each round; each figure is a ratio to one secp256k1 public-key recovery
(\`@noble/curves\`, the unit) timed in the same round, so a loaded machine moves the times but much less the ratios.
Load average at the end of the run: ${load.join(' / ')} (1 / 5 / 15 minutes). Before timing, every signed
serialization was checked byte-identical to ethers' on 50 of the transactions.

${table}

The curve work of signEvm (rows e., ${verifierName}) is what the unit is not: one recovery with yParity 0 is
${m(idx('secp256k1 recovery, libsecp256k1'))} of the unit and a verify ${m(idx('secp256k1 verify, libsecp256k1'))}; signEvm makes one recovery
and, for half of the signatures, one verify. Against that recovery, a keccak of the unsigned payload
(\`@noble/hashes\`) is ${fmt(median(idx('`@noble/hashes`')) / median(idx('secp256k1 recovery, libsecp256k1')), 2)} of a recovery and hash-wasm's WebAssembly one
${fmt(median(idx('hash-wasm')) / median(idx('secp256k1 recovery, libsecp256k1')), 2)}; a transaction takes two (digest and hash) and one more per address shown with its EIP-55
checksum. Node's OpenSSL offers SHA3-256 but not Keccak-256 (a different padding); the JavaScript keccaks of ethers
and viem are @noble/hashes underneath.

Picked (by these figures and by \`npx tsx bench/evm.bench.ts\`): viem parses the transaction (with a
re-serialization that must give the same bytes) and decodes ERC-20 and Safe calldata. The exact canonical test of
calldata is a re-encode and compare for Safe; for the ERC-20 functions (address and uint256 words only) it is the
word check (row b.), which accepts exactly the same calldata (test/evm/calldata-canonical.test.ts), and the
arguments are then read from the checked words. hash-wasm's keccak gives the digest, the transaction hash and the
EIP-55 checksums; the signed transaction is the reviewed unsigned RLP list's items, unchanged, under a new list
header and followed by (v or yParity, r, s) (\`chains/evm/signed-tx.ts\`), never a re-serialization or a re-parse.
ethers v6 stays for what it does well: transactions built from JSON fields, EIP-712, EIP-191, EIP-7702
authorities. Every signature is checked once: a recovery with yParity 0, and a verify under the key only when
that recovery gives another key (then yParity is 1).

viem and hash-wasm are runtime dependencies; micro-eth-signer is bench-only.

\`evm-codec: parse-ethers=${m(idx('ethers `Transaction.from`'))} parse-viem=${m(idx('viem `parseTransaction`'))} parse-micro=${m(idx('micro-eth-signer `Transaction'))} signed-ethers=${m(idx('ethers: parse'))} signed-append-ethers-rlp=${m(idx('append (yParity, r, s) to the RLP list, ethers'))} signed-append-micro-rlp=${m(idx('append (yParity, r, s) to the RLP list, micro'))} calldata-reencode=${m(idx('viem `decodeAbiParameters` + re-encode'))} calldata-words=${m(idx('word check + viem'))} calldata-words-read=${m(idx('word check + words read'))} keccak-noble=${m(idx('`@noble/hashes`'))} keccak-wasm=${m(idx('hash-wasm'))} signed-append-coldsign=${m(idx('append (yParity, r, s) after'))} recover-native=${m(idx('secp256k1 recovery, libsecp256k1'))} verify-native=${m(idx('secp256k1 verify, libsecp256k1'))}\`
`,
);
