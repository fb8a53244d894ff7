/**
 * The signed PSBT is the request's own records plus ours (chains/btc/signed-psbt.ts). Differential test against
 * the way it was made before, with bitcoinjs-lib/bip174 (partial signatures and final fields set on the decoded
 * PSBT, bip174's clearFinalizedInput, toBuffer): both decode to the same PSBT, field for field, for every
 * single-key kind, a supplied redeem script, a registered multisig, derivations, a sighash field and
 * proprietary records. The signatures come from throwaway in-memory keys (a serialization test: no HSM).
 */
import { Psbt } from 'bitcoinjs-lib';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { parsePsbt, signPsbt, summarizePsbt } from '../../chains/btc/index.js';
import { readPsbtMaps, writePsbtMaps } from '../../chains/btc/maps.js';
import { decodePsbtTransport } from '../../chains/btc/encoding.js';
import { serializeWitness } from '../../chains/btc/finalize.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { normalizeSignature } from '../../core/signature.js';
import type { DigestSigner, KeyRecord } from '../../core/signer.js';
import { buildPsbt, foreignScript, walletOf, type InputSpec } from './support/fixtures.js';

const privs = [1, 2, 3].map((i) => sha256(Uint8Array.of(i, 0x42)));
const pubs = privs.map((p) => secp256k1.getPublicKey(p, true));
const keys: KeyRecord[] = pubs.map((pub, i) => ({
  label: `k${i}`,
  chain: 'btc',
  publicKey: toHex(pub),
  keyId: `id${i}`,
  address: '',
  network: 'testnet',
  createdAt: '2026-01-01T00:00:00Z',
}));
const COSIGNER = secp256k1.getPublicKey(sha256(Uint8Array.of(9, 0x42)), true);

/** Throwaway in-memory keys behind the DigestSigner seam (normalized and verified like the HSM's). */
const memorySigner: DigestSigner = {
  async signDigest(keyId, publicKey, digest) {
    const priv = privs[Number(keyId.slice(2))]!;
    const raw = secp256k1.sign(digest, priv, { prehash: false, format: 'compact' } as never) as Uint8Array;
    return normalizeSignature(raw, digest, publicKey);
  },
};

/** The old output: bitcoinjs-lib's decoded PSBT with our signatures (or final fields) set, then toBuffer. */
function oracle(
  request: Uint8Array,
  signatures: { input: number; publicKey: string; signature: string }[],
  finalized: boolean,
  supplied: Map<number, Uint8Array>,
): Uint8Array {
  const psbt = Psbt.fromBuffer(request);
  for (const { input, publicKey, signature } of signatures) {
    const data = psbt.data.inputs[input]!;
    if (supplied.has(input) && !data.redeemScript) data.redeemScript = supplied.get(input)!;
    data.partialSig = [
      ...(data.partialSig ?? []),
      { pubkey: fromHex(publicKey), signature: fromHex(signature) },
    ];
    if (!finalized) continue;
    const sig = fromHex(signature);
    const pub = fromHex(publicKey);
    const kind = data.redeemScript ? 'p2sh-p2wpkh' : data.witnessUtxo ? 'p2wpkh' : 'p2pkh';
    if (kind === 'p2pkh') data.finalScriptSig = Uint8Array.of(sig.length, ...sig, pub.length, ...pub);
    else {
      data.finalScriptSig =
        kind === 'p2wpkh'
          ? new Uint8Array(0)
          : Uint8Array.of(data.redeemScript!.length, ...data.redeemScript!);
      data.finalScriptWitness = serializeWitness([sig, pub]);
    }
    psbt.data.clearFinalizedInput(input);
  }
  return psbt.toBuffer();
}

/** A request with a BIP-32 derivation, a sighash field and a proprietary record added to input `index`. */
function withExtraRecords(psbt: Uint8Array, index: number): Uint8Array {
  const { maps } = readPsbtMaps(psbt);
  maps.inputs[index]!.push(
    { key: Uint8Array.of(0x06, ...pubs[0]!), value: Uint8Array.of(1, 2, 3, 4, 0x54, 0, 0, 0x80) },
    { key: Uint8Array.of(0x03), value: Uint8Array.of(1, 0, 0, 0) },
    { key: Uint8Array.of(0xfc, 3, 0x61, 0x62, 0x63, 7), value: Uint8Array.of(0xde, 0xad) },
  );
  return writePsbtMaps(maps);
}

async function compare(specs: InputSpec[], finalize: boolean, extra = true) {
  let request = buildPsbt(specs, [{ script: foreignScript(5), amount: 10_000n }]);
  if (extra) request = withExtraRecords(request, 0);
  const wallets = [walletOf('p2wsh-multisig', 2, [pubs[2]!, COSIGNER])];
  const parsed = parsePsbt(request);
  const { plan } = summarizePsbt(parsed, keys, { network: 'testnet', wallets });
  const supplied = new Map(
    plan.requests.flatMap((r) => (r.supplied?.redeemScript ? [[r.input, r.supplied.redeemScript]] : [])) as [
      number,
      Uint8Array,
    ][],
  );
  const signed = await signPsbt(parsed, plan, memorySigner, { finalize });
  const ours = decodePsbtTransport(signed.psbt).bytes;
  const expected = oracle(request, signed.signatures, finalize && plan.finalize, supplied);
  // Same PSBT once decoded (bip174 writes its fields in its own order; ours keeps the request's order).
  expect(toHex(Psbt.fromBuffer(ours).toBuffer())).toBe(toHex(expected));
  return { request, ours, signed, plan };
}

describe('signed PSBT records against bitcoinjs-lib/bip174', () => {
  const single: InputSpec[] = [
    { kind: 'p2wpkh', pubkeys: [pubs[0]!], amount: 40_000n },
    { kind: 'p2sh-p2wpkh', pubkeys: [pubs[1]!], amount: 30_000n },
    { kind: 'p2pkh', pubkeys: [pubs[0]!], amount: 20_000n },
    { kind: 'p2sh-p2wpkh', pubkeys: [pubs[0]!], amount: 25_000n, omitScripts: true },
  ];

  it('partial signatures of every single-key kind, a supplied redeem script and extra records', async () => {
    const { ours, signed } = await compare(single, false);
    expect(signed.signatures).toHaveLength(4);
    expect(signed.finalTxHex).toBeUndefined();
    expect(Psbt.fromBuffer(ours).data.inputs[3]!.redeemScript).toBeDefined();
  });

  it('finalized: UTXOs, final scripts and the proprietary record kept, the rest cleared', async () => {
    const { ours, signed } = await compare(single, true);
    expect(signed.finalTxHex).toBeDefined();
    const first = Psbt.fromBuffer(ours).data.inputs[0]!;
    expect(first.finalScriptWitness).toBeDefined();
    expect(first.bip32Derivation).toBeUndefined();
    expect(first.sighashType).toBeUndefined();
    expect(first.unknownKeyVals).toHaveLength(1);
    // bitcoinjs-lib extracts the same transaction from our PSBT.
    expect(Psbt.fromBuffer(ours).extractTransaction().toHex()).toBe(signed.finalTxHex);
  });

  it('a registered 2-of-2 beside a single-key input: partial signatures only, request records kept byte for byte', async () => {
    const { request, ours } = await compare(
      [
        { kind: 'p2wsh-multisig', m: 2, pubkeys: [pubs[2]!, COSIGNER], amount: 50_000n },
        { kind: 'p2wpkh', pubkeys: [pubs[1]!], amount: 40_000n },
      ],
      true,
      false,
    );
    const before = readPsbtMaps(request).maps;
    const after = readPsbtMaps(ours).maps;
    expect(after.global).toEqual(before.global);
    expect(after.outputs).toEqual(before.outputs);
    // each input: the request's records first, then one partial signature
    after.inputs.forEach((records, i) => {
      expect(records.slice(0, before.inputs[i]!.length)).toEqual(before.inputs[i]);
      expect(records.slice(before.inputs[i]!.length).map((r) => r.key[0])).toEqual([0x02]);
    });
  });
});
