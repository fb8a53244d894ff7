// Fuzzing: mutated PSBTs (fast-check) end in a ColdsignError with a stable code, and nothing is signed.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { parsePsbt, signPsbt, summarizePsbt } from '../../chains/btc/index.js';
import { encodePsbtTransport } from '../../chains/btc/encoding.js';
import { sighashFor } from '../../chains/btc/sighash.js';
import { toHex } from '../../core/bytes.js';
import { isColdsignError } from '../../core/errors.js';
import type { DigestSigner, KeyRecord } from '../../core/signer.js';
import { buildPsbt, foreignScript } from './support/fixtures.js';
import { Transaction } from 'bitcoinjs-lib';

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/bip174/rpc_psbt.excerpt.json', import.meta.url), 'utf8'),
) as { valid: string[] };
const seeds = vectors.valid
  .filter((_, i) => i !== 5)
  .map((v) => Uint8Array.from(atob(v), (c) => c.charCodeAt(0)));

// Public keys only: the fuzzer must never reach a signature, so no HSM is involved.
const keyPub = (n: number) => secp256k1.getPublicKey(sha256(Uint8Array.of(n, 99)), true);
const keys: KeyRecord[] = [1, 2].map((n) => ({
  label: `k${n}`,
  chain: 'btc',
  publicKey: toHex(keyPub(n)),
  keyId: `id${n}`,
  address: '',
  network: 'testnet',
  createdAt: '2026-01-01T00:00:00Z',
}));

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    op: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0x00, 0x01, 0xfc, 0xfd, 0xfe, 0xff, 0x22, 0x47),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 80 }) }),
);

function mutate(seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = seed;
  for (const m of mutations) {
    const at = m.at % Math.max(1, b.length);
    const copy = (parts: Uint8Array[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    };
    switch (m.op) {
      case 'flip':
        b = b.slice();
        b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        b = b.slice();
        b[at] = m.value;
        break;
      case 'delete':
        b = copy([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'insert':
        b = copy([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'duplicate':
        b = copy([b.subarray(0, at + m.length), b.subarray(at)]);
        break;
    }
  }
  return b;
}

const countingSigner = (): DigestSigner & { calls: number } => {
  const s = {
    calls: 0,
    async signDigest(): Promise<never> {
      s.calls++;
      throw new Error('the fuzzer reached the signer');
    },
  };
  return s;
};

describe('fuzzed official vectors', () => {
  it('10,000 mutations of the BIP-174 valid vectors all end in a ColdsignError and sign nothing', async () => {
    const signer = countingSigner();
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('binary', 'base64', 'hex') as fc.Arbitrary<'binary' | 'base64' | 'hex'>,
        async (seedIndex, mutations, encoding) => {
          const input = encodePsbtTransport(mutate(seeds[seedIndex]!, mutations), encoding);
          try {
            const parsed = parsePsbt(input);
            const { plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
            await signPsbt(parsed, plan, signer);
          } catch (error) {
            if (!isColdsignError(error)) throw error;
            expect(error.family).toBe('input');
            expect(error.message).toMatch(/^[A-Z].*\.$/);
            codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
            return;
          }
          throw new Error('a mutated foreign PSBT was accepted for signing');
        },
      ),
      { numRuns: 10_000, seed: 174 },
    );
    expect(signer.calls).toBe(0);
    // the mutations reach deep into the checks, not only the magic
    expect(codes.size).toBeGreaterThanOrEqual(6);
  });
});

describe('fuzzed signable PSBTs', () => {
  it('2,000 mutations of our own signable PSBT never crash: a ColdsignError or a consistent summary', () => {
    const pk = keyPub(1);
    const seed = buildPsbt(
      [
        { kind: 'p2wpkh', pubkeys: [pk], amount: 50_000n },
        { kind: 'p2sh-p2wpkh', pubkeys: [pk], amount: 50_000n },
        { kind: 'p2pkh', pubkeys: [pk], amount: 50_000n },
      ],
      [{ script: foreignScript(3), amount: 140_000n }],
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 2 }), (mutations) => {
        try {
          const { summary, plan } = summarizePsbt(parsePsbt(mutate(seed, mutations)), keys, {
            network: 'testnet',
          });
          // whatever survives is still self-consistent
          expect(plan.requests.length).toBeGreaterThan(0);
          expect(BigInt(summary.fee!.raw)).toBeGreaterThanOrEqual(0n);
        } catch (error) {
          if (!isColdsignError(error)) throw error;
        }
      }),
      { numRuns: 2_000, seed: 143 },
    );
  });
});

describe('linear BIP-143 digests', () => {
  it('equal bitcoinjs-lib hashForWitnessV0 for every input of random transactions', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
            index: fc.nat(),
            sequence: fc.nat(),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.array(
          fc.record({
            script: fc.uint8Array({ maxLength: 60 }),
            value: fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n }),
          }),
          { maxLength: 6 },
        ),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        (ins, outs, version, locktime) => {
          const tx = new Transaction();
          tx.version = version;
          tx.locktime = locktime;
          for (const i of ins) tx.addInput(i.hash, i.index, i.sequence);
          for (const o of outs) tx.addOutput(o.script, o.value);
          const reference = ins.map((_, i) =>
            toHex(tx.hashForWitnessV0(i, Uint8Array.of(0x76, 0xa9), 1234n, Transaction.SIGHASH_ALL)),
          );
          const linear = ins.map((_, i) =>
            toHex(sighashFor(tx, i, Uint8Array.of(0x76, 0xa9), 1234n, Transaction.SIGHASH_ALL, true)),
          );
          expect(linear).toEqual(reference);
        },
      ),
      { numRuns: 300, seed: 143 },
    );
  });
});
