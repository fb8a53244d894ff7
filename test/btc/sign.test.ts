// Signing against a real SoftHSM2 token; every result is checked by @scure/btc-signer (digests, signatures,
// finalization), not by bitcoinjs-lib checking itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parsePsbt,
  summarizePsbt,
  signPsbt,
  btcAddress,
  btcDescriptor,
  btcOutputScript,
} from '../../chains/btc/index.js';
import { encodePsbtTransport } from '../../chains/btc/encoding.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { isColdsignError } from '../../core/errors.js';
import { compressPublicKey, nobleVerifier } from '../../core/signature.js';
import { Psbt } from 'bitcoinjs-lib';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { DigestSigner, KeyRecord } from '../../core/signer.js';
import type { Hsm } from '../../hsm/index.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import {
  btc,
  buildPsbt,
  finalizeWithScure,
  foreignKey,
  foreignScript,
  verifyWithScure,
  walletOf,
  type InputSpec,
} from './support/fixtures.js';
import type { SummarizeOptions } from '../../chains/btc/index.js';

let token: TestToken;
let hsm: Hsm;
const keys: KeyRecord[] = [];
const pk = (i: number) => fromHex(keys[i]!.publicKey);

beforeAll(async () => {
  token = createTestToken();
  hsm = token.open();
  for (const label of ['vault-1', 'vault-2', 'vault-3']) {
    const key = await hsm.keys.generate(label);
    const publicKey = compressPublicKey(key.publicKey);
    keys.push({
      label,
      chain: 'btc',
      publicKey: toHex(publicKey),
      keyId: key.keyId,
      address: btcAddress(publicKey, 'p2wpkh', 'testnet'),
      network: 'testnet',
      script: 'p2wpkh',
      descriptor: btcDescriptor(toHex(publicKey), 'p2wpkh'),
      createdAt: '2026-01-01T00:00:00Z',
    });
  }
});

afterAll(() => {
  hsm?.close();
  token?.cleanup();
});

/** A signer that counts calls, around the real HSM signer. */
function countingSigner(): DigestSigner & { calls: number } {
  const s = {
    calls: 0,
    signDigest(keyId: string, publicKey: Uint8Array, digest: Uint8Array) {
      s.calls++;
      return hsm.signer.signDigest(keyId, publicKey, digest);
    },
  };
  return s;
}

/** The registered wallets of the multisig inputs among `inputs`. */
function walletsOf(inputs: InputSpec[]) {
  return inputs
    .filter((i) => i.m !== undefined)
    .map((i, n) => walletOf(i.kind, i.m!, i.pubkeys, `wallet-${n}`));
}

async function signFixture(
  inputs: InputSpec[],
  outputs = [
    { script: foreignScript(1), amount: 40_000n },
    { script: btcOutputScript(pk(0), 'p2wpkh'), amount: 55_000n },
  ],
  options: Omit<SummarizeOptions, 'network'> = {},
) {
  const unsigned = buildPsbt(inputs, outputs);
  const parsed = parsePsbt(unsigned);
  const { summary, plan } = summarizePsbt(parsed, keys, {
    network: 'testnet',
    wallets: walletsOf(inputs),
    ...options,
  });
  const signed = await signPsbt(parsed, plan, hsm.signer, { concurrency: 4, finalize: true });
  verifyWithScure(unsigned, signed, inputs);
  if (!plan.finalize) {
    // bitcoinjs-lib's own validator agrees on every partial signature of the output (second opinion)
    const out = Psbt.fromBuffer(signed.psbt);
    for (const s of signed.signatures) {
      expect(
        out.validateSignaturesOfInput(
          s.input,
          (p, d, sig) => nobleVerifier.verify(sig, d, p),
          fromHex(s.publicKey),
        ),
      ).toBe(true);
    }
  }
  return { unsigned, summary, plan, signed };
}

describe('single-key script types, signed in SoftHSM2 and finalized', () => {
  for (const kind of ['p2wpkh', 'p2sh-p2wpkh', 'p2pkh'] as const) {
    it(`${kind}: signature verifies under scure's digest, and scure extracts the same transaction`, async () => {
      const { signed, summary, plan } = await signFixture([{ kind, pubkeys: [pk(0)], amount: 100_000n }]);
      expect(plan.requests).toHaveLength(1);
      expect(plan.finalize).toBe(true);
      expect(signed.finalTxHex).toBeDefined();
      const scure = finalizeWithScure(signed.psbt);
      expect(scure.hex).toBe(signed.finalTxHex);
      expect(scure.id).toBe(signed.txid);
      expect(summary.fee).toEqual({ raw: '5000', amount: '0.00005', rate: expect.any(Number) });
      expect(summary.movements.map((m) => [m.channel, m.change])).toEqual([
        ['output', false],
        ['change', true],
        ['fee', false],
      ]);
      expect(summary.movements[2]!.raw).toBe('5000');
      // DER (BIP-66) + SIGHASH_ALL, low-S enforced by verifyWithScure
      expect(signed.signatures[0]!.signature.endsWith('01')).toBe(true);
    });
  }

  it('several inputs of every single-key type in one transaction, the output in the request encoding', async () => {
    const inputs: InputSpec[] = [
      { kind: 'p2wpkh', pubkeys: [pk(0)], amount: 30_000n },
      { kind: 'p2sh-p2wpkh', pubkeys: [pk(1)], amount: 40_000n },
      { kind: 'p2pkh', pubkeys: [pk(2)], amount: 30_000n },
    ];
    const unsigned = buildPsbt(inputs, [{ script: foreignScript(2), amount: 95_000n }]);
    const parsed = parsePsbt(encodePsbtTransport(unsigned, 'hex'));
    const { summary, plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    expect(summary.signingKeys.sort()).toEqual(['vault-1', 'vault-2', 'vault-3']);
    expect(summary.warnings).toContain('No output returns change to our keys.');
    const signed = await signPsbt(parsed, plan, hsm.signer, { finalize: true });
    expect(signed.encoding).toBe('hex');
    expect(new TextDecoder().decode(signed.psbt)).toMatch(/^70736274ff[0-9a-f]+$/);
    verifyWithScure(unsigned, signed, inputs);
    expect(finalizeWithScure(fromHex(new TextDecoder().decode(signed.psbt))).hex).toBe(signed.finalTxHex);
  });
});

describe('multisig inputs containing our keys', () => {
  for (const kind of ['p2wsh-multisig', 'p2sh-p2wsh-multisig', 'p2sh-multisig'] as const) {
    it(`${kind} 2-of-3 (two of ours): both partial signatures verify, scure finalizes the result`, async () => {
      const inputs: InputSpec[] = [{ kind, m: 2, pubkeys: [pk(0), foreignKey(1), pk(1)], amount: 100_000n }];
      const { signed, plan, summary } = await signFixture(inputs);
      expect(plan.requests.map((r) => r.label).sort()).toEqual(['vault-1', 'vault-2']);
      expect(plan.finalize).toBe(false);
      expect(signed.finalTxHex).toBeUndefined();
      expect(signed.signatures).toHaveLength(2);
      expect((summary.details.inputs as { multisig?: string }[])[0]!.multisig).toBe('2-of-3');
      expect((summary.details.inputs as { wallet?: string }[])[0]!.wallet).toBe('wallet-0');
      expect(summary.btc?.wallets).toEqual(['wallet-0']);
      expect(finalizeWithScure(signed.psbt).hex).toMatch(/^0[12]000000/);
    });
  }

  it('a 2-of-2 with a foreign cosigner gets our partial signature only', async () => {
    const inputs: InputSpec[] = [
      { kind: 'p2wsh-multisig', m: 2, pubkeys: [foreignKey(3), pk(2)], amount: 70_000n },
    ];
    const { signed } = await signFixture(inputs, [{ script: foreignScript(4), amount: 60_000n }]);
    expect(signed.signatures.map((s) => s.publicKey)).toEqual([keys[2]!.publicKey]);
  });
});

describe('sighash types other than ALL are signed only when a rule names them', () => {
  for (const [type, name] of [
    [0x02, 'NONE'],
    [0x03, 'SINGLE'],
    [0x81, 'ALL|ANYONECANPAY'],
    [0x82, 'NONE|ANYONECANPAY'],
    [0x83, 'SINGLE|ANYONECANPAY'],
  ] as const) {
    it(`SIGHASH_${name} is refused with PSBT_SIGHASH_REFUSED when no rule allows it`, () => {
      const unsigned = buildPsbt(
        [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n, sighashType: type }],
        [{ script: foreignScript(1), amount: 90_000n }],
      );
      expect(() => summarizePsbt(parsePsbt(unsigned), keys, { network: 'testnet' })).toThrow(
        expect.objectContaining({ code: 'PSBT_SIGHASH_REFUSED' }),
      );
      // allowing another type does not allow this one
      const other = type === 0x81 ? 0x82 : 0x81;
      expect(() =>
        summarizePsbt(parsePsbt(unsigned), keys, { network: 'testnet', sighashTypes: [other] }),
      ).toThrow(expect.objectContaining({ code: 'PSBT_SIGHASH_REFUSED' }));
    });
  }

  it('a plan altered to carry a sighash type the review did not allow is refused by the signer', async () => {
    const unsigned = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }],
      [{ script: foreignScript(1), amount: 90_000n }],
    );
    const parsed = parsePsbt(unsigned);
    const { plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    plan.requests[0]!.sighashType = 0x02;
    const signer = countingSigner();
    await expect(signPsbt(parsed, plan, signer)).rejects.toMatchObject({ code: 'PSBT_SIGHASH_REFUSED' });
    expect(signer.calls).toBe(0);
  });

  it('SIGHASH_NONE|ANYONECANPAY named by a rule is signed, reported as a warning, and verifies under scure', async () => {
    const inputs: InputSpec[] = [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n, sighashType: 0x82 }];
    const { signed, summary } = await signFixture(inputs, undefined, { sighashTypes: [0x82] });
    expect(summary.btc?.sighashTypes).toEqual(['NONE|ANYONECANPAY']);
    expect(summary.btc?.atRiskSats).toBe('100000');
    expect(summary.warnings.some((w) => w.includes('SIGHASH_NONE|ANYONECANPAY'))).toBe(true);
    expect(signed.signatures[0]!.signature.endsWith('82')).toBe(true);
  });

  it('an undefined sighash type is refused before signing', () => {
    const unsigned = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n, sighashType: 0x04 }],
      [{ script: foreignScript(1), amount: 1000n }],
    );
    expect(() => summarizePsbt(parsePsbt(unsigned), keys, { network: 'testnet' })).toThrow(
      expect.objectContaining({ code: 'PSBT_SIGHASH_UNSUPPORTED' }),
    );
  });
});

describe('refusals end in a ColdsignError before any signature', () => {
  async function refusal(
    unsigned: Uint8Array,
    options: { allowWitnessUtxoOnly?: boolean; network?: 'testnet' | 'mainnet' } = {},
  ) {
    const signer = countingSigner();
    try {
      const parsed = parsePsbt(unsigned);
      const { plan } = summarizePsbt(parsed, keys, {
        network: options.network ?? 'testnet',
        allowWitnessUtxoOnly: options.allowWitnessUtxoOnly,
      });
      await signPsbt(parsed, plan, signer);
    } catch (error) {
      expect(signer.calls).toBe(0);
      return isColdsignError(error) ? error.code : String(error);
    }
    return 'signed';
  }
  const out = [{ script: foreignScript(9), amount: 50_000n }];

  it('CVE-2020-14199: a segwit input without its previous transaction is refused (strict by default)', async () => {
    const unsigned = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n, nonWitnessUtxo: false }],
      out,
    );
    expect(await refusal(unsigned)).toBe('PSBT_UTXO_MISSING');
  });

  it('CVE-2020-14199: witness_utxo lying about the amount (two requests, each understating one input) is refused', async () => {
    // The attack: the coordinator shows each signing round a different, smaller amount for one input,
    // so the fee (the difference) is much larger than the operator believes.
    const honest = buildPsbt(
      [
        { kind: 'p2wpkh', pubkeys: [pk(0)], amount: 1_000_000n },
        { kind: 'p2wpkh', pubkeys: [pk(1)], amount: 1_000_000n },
      ],
      [{ script: foreignScript(9), amount: 1_990_000n }],
    );
    for (const lie of [0, 1]) {
      const parsed = parsePsbt(honest);
      parsed.psbt.data.inputs[lie]!.witnessUtxo!.value = 10_000n; // what the hostile request claims
      const lying = parsed.psbt.toBuffer();
      expect(await refusal(lying)).toBe('PSBT_UTXO_MISMATCH');
      // ... and even with the check relaxed by policy the mismatch is refused
      expect(await refusal(lying, { allowWitnessUtxoOnly: true })).toBe('PSBT_UTXO_MISMATCH');
    }
  });

  it('with the check relaxed by policy, witness_utxo alone is signed and the relaxation is reported', async () => {
    const unsigned = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n, nonWitnessUtxo: false }],
      out,
    );
    const parsed = parsePsbt(unsigned);
    const { summary, plan } = summarizePsbt(parsed, keys, { network: 'testnet', allowWitnessUtxoOnly: true });
    expect(summary.warnings.some((w) => w.includes('CVE-2020-14199'))).toBe(true);
    const signed = await signPsbt(parsed, plan, hsm.signer);
    verifyWithScure(unsigned, signed, [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }]);
  });

  it('a legacy input without its previous transaction is refused even when relaxed', async () => {
    const unsigned = buildPsbt(
      [{ kind: 'p2pkh', pubkeys: [pk(0)], amount: 100_000n, nonWitnessUtxo: false, witnessUtxo: true }],
      out,
    );
    expect(await refusal(unsigned, { allowWitnessUtxoOnly: true })).toBe('PSBT_UTXO_MISSING');
  });

  it('a Taproot input is refused', async () => {
    const unsigned = buildPsbt(
      [
        { kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n },
        { kind: 'p2tr', pubkeys: [pk(1)], amount: 100_000n },
      ],
      out,
    );
    expect(await refusal(unsigned)).toBe('PSBT_TAPROOT_UNSUPPORTED');
  });

  it('a PSBT where none of the inputs is ours is refused', async () => {
    const unsigned = buildPsbt([{ kind: 'p2wpkh', pubkeys: [foreignKey(5)], amount: 100_000n }], out);
    expect(await refusal(unsigned)).toBe('PSBT_NOTHING_TO_SIGN');
  });

  it('keys registered for another network do not sign', async () => {
    const unsigned = buildPsbt([{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }], out);
    expect(await refusal(unsigned, { network: 'mainnet' })).toBe('PSBT_NOTHING_TO_SIGN');
  });

  it('a transaction above the 400,000 weight units the network relays is refused before any (quadratic) signing', async () => {
    const many = Array.from({ length: 1500 }, () => ({
      kind: 'p2wpkh' as const,
      pubkeys: [pk(0)],
      amount: 1_000n,
    }));
    const unsigned = buildPsbt(many, [{ script: foreignScript(9), amount: 1_000_000n }]);
    expect(await refusal(unsigned)).toBe('PSBT_TX_TOO_LARGE');
  });

  it('outputs worth more than the inputs are refused', async () => {
    const unsigned = buildPsbt([{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 10_000n }], out);
    expect(await refusal(unsigned)).toBe('PSBT_INCONSISTENT');
  });

  it('a signer that signs another digest is caught before anything is returned (mock: a faulty HSM cannot be provoked)', async () => {
    const unsigned = buildPsbt([{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }], out);
    const parsed = parsePsbt(unsigned);
    const { plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    const faulty: DigestSigner = {
      signDigest: (keyId, publicKey, digest) =>
        hsm.signer.signDigest(
          keyId,
          publicKey,
          digest.map((b, i) => (i === 0 ? b ^ 1 : b)),
        ),
    };
    await expect(signPsbt(parsed, plan, faulty)).rejects.toMatchObject({ code: 'HSM_SIGNATURE_INVALID' });
  });
});

describe('BIP-174 roles: partial signatures by default, finalized only when asked', () => {
  it('by default the complete single-key input gets a partial signature, not final scripts; the coordinator finalizes', async () => {
    const spec: InputSpec = { kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n };
    const unsigned = buildPsbt([spec], [{ script: foreignScript(1), amount: 90_000n }]);
    const parsed = parsePsbt(unsigned);
    const { plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    expect(plan.finalize).toBe(true);
    const signed = await signPsbt(parsed, plan, hsm.signer);
    expect(signed.finalTxHex).toBeUndefined();
    const out = Psbt.fromBuffer(signed.psbt);
    expect(out.data.inputs[0]!.finalScriptWitness).toBeUndefined();
    expect(out.data.inputs[0]!.partialSig?.map((p) => toHex(p.pubkey))).toEqual([keys[0]!.publicKey]);
    verifyWithScure(unsigned, signed, [spec]);
    // the coordinator (scure here) finalizes and extracts the same transaction coldsign would have
    const parsedAgain = parsePsbt(unsigned);
    const finalized = await signPsbt(
      parsedAgain,
      summarizePsbt(parsedAgain, keys, { network: 'testnet' }).plan,
      hsm.signer,
      { finalize: true },
    );
    expect(finalizeWithScure(signed.psbt).id).toBe(finalized.txid);
  });
});

describe('unknown and proprietary PSBT fields are kept and reported', () => {
  it('a proprietary (0xFC) and an unknown field survive signing byte for byte, and the review says so', async () => {
    const base = Psbt.fromBuffer(
      buildPsbt(
        [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }],
        [{ script: foreignScript(1), amount: 90_000n }],
      ),
    );
    const proprietary = {
      key: Uint8Array.of(0xfc, 0x03, 0x61, 0x62, 0x63, 0x00),
      value: Uint8Array.of(1, 2, 3),
    };
    const unknown = { key: Uint8Array.of(0x4f, 0x01), value: Uint8Array.of(9) };
    base.addUnknownKeyValToInput(0, proprietary);
    base.addUnknownKeyValToGlobal(unknown);
    const parsed = parsePsbt(base.toBuffer());
    const { summary, plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    expect(summary.warnings).toContain(
      'Input 0 carries 1 proprietary (0xFC) field(s), kept unchanged and not reviewed.',
    );
    expect(summary.warnings).toContain(
      'The PSBT carries 1 unknown field(s), kept unchanged and not reviewed.',
    );
    const signed = await signPsbt(parsed, plan, hsm.signer, { finalize: true });
    const out = Psbt.fromBuffer(signed.psbt);
    expect(out.data.globalMap.unknownKeyVals?.map((kv) => toHex(kv.key))).toEqual([toHex(unknown.key)]);
    // a finalized input keeps its unknown fields too (BIP-174: the Finalizer clears only the signing data)
    expect(out.data.inputs[0]!.unknownKeyVals?.map((kv) => toHex(kv.value))).toEqual([
      toHex(proprietary.value),
    ]);
  });
});

describe('the cross-check re-derives every digest with bitcoinjs-lib alone', () => {
  it('a digest bug (locktime ^ 1 in our BIP-143 code, injected through the test seam) is refused: HSM_SIGNATURE_INVALID', async () => {
    const { sighashFor } = await import('../../chains/btc/sighash.js');
    for (const kind of ['p2wpkh', 'p2pkh'] as const) {
      const unsigned = buildPsbt(
        [{ kind, pubkeys: [pk(0)], amount: 100_000n }],
        [{ script: foreignScript(1), amount: 90_000n }],
      );
      const parsed = parsePsbt(unsigned);
      const { plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
      // The same algorithm with the transaction's locktime flipped: self-consistent, but not Bitcoin's digest.
      const buggy: typeof sighashFor = (tx, ...rest) => {
        const copy = tx.clone();
        copy.locktime = tx.locktime ^ 1;
        return sighashFor(copy, ...rest);
      };
      await expect(signPsbt(parsed, plan, hsm.signer, { digest: buggy })).rejects.toMatchObject({
        code: 'HSM_SIGNATURE_INVALID',
      });
    }
  });

  it('the unaltered digest passes the same cross-check (the seam changes nothing by default)', async () => {
    const { sighashFor } = await import('../../chains/btc/sighash.js');
    const unsigned = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }],
      [{ script: foreignScript(1), amount: 90_000n }],
    );
    const parsed = parsePsbt(unsigned);
    const { plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    const signed = await signPsbt(parsed, plan, hsm.signer, { digest: sighashFor });
    expect(signed.signatures).toHaveLength(1);
  });
});

describe('summary', () => {
  it('names inputs, outputs with addresses and change, fee, fee rate from the signed vsize, and warnings', async () => {
    const inputs: InputSpec[] = [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }];
    const opReturn = Uint8Array.of(0x6a, 0x04, 1, 2, 3, 4);
    const unsigned = buildPsbt(inputs, [
      { script: foreignScript(7), amount: 10_000n },
      { script: btcOutputScript(pk(1), 'p2sh-p2wpkh'), amount: 80_000n },
      { script: opReturn, amount: 0n },
    ]);
    const parsed = parsePsbt(unsigned);
    const { summary } = summarizePsbt(parsed, keys, { network: 'testnet' });
    const d = summary.details as Record<string, unknown> & {
      outputs: { address: string | null; change: boolean; label?: string }[];
    };
    expect(d.outputs[1]).toMatchObject({
      address: btcAddress(pk(1), 'p2sh-p2wpkh', 'testnet'),
      change: true,
      label: 'vault-2',
    });
    expect(d.outputs[2]).toMatchObject({ address: null, change: false, script: 'op_return' });
    expect(d.fee).toBe('0.0001');
    expect(d.totalSpent).toBe('0.0002');
    expect(d.amountSent).toBe('0.0001');
    // The estimate (DER signatures counted at their 72-byte maximum) is within a vbyte of the real signed size.
    const signed = await signPsbt(
      parsed,
      summarizePsbt(parsed, keys, { network: 'testnet' }).plan,
      hsm.signer,
      { finalize: true },
    );
    const real = btc.Transaction.fromRaw(fromHex(signed.finalTxHex!), { allowUnknownOutputs: true });
    expect(d.vsize).toBeGreaterThanOrEqual(Math.ceil(real.weight / 4));
    expect((d.vsize as number) - Math.ceil(real.weight / 4)).toBeLessThanOrEqual(1);
    expect(d.feeRate).toBe(Math.round((10_000 / (d.vsize as number)) * 100) / 100);
    expect(summary.warnings.some((w) => w.includes('OP_RETURN'))).toBe(true);
    expect(summary.warnings.some((w) => w.includes('more than 5%'))).toBe(true);
  });
});

describe('a PSBT another signer already finalized in part', () => {
  it('signs our input, finalizes, and extracts a transaction carrying both parties’ final scripts', async () => {
    const foreignSecret = new Uint8Array(32).fill(7);
    const foreignPub = secp256k1.getPublicKey(foreignSecret, true);
    const specs: InputSpec[] = [
      { kind: 'p2wpkh', pubkeys: [foreignPub], amount: 60_000n },
      { kind: 'p2wpkh', pubkeys: [pk(0)], amount: 40_000n },
    ];
    const tx = btc.Transaction.fromPSBT(buildPsbt(specs, [{ script: foreignScript(8), amount: 99_000n }]), {
      allowUnknownOutputs: true,
    });
    tx.signIdx(foreignSecret, 0);
    tx.finalizeIdx(0);
    const unsigned = tx.toPSBT(0);
    const parsed = parsePsbt(unsigned);
    const { summary, plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    expect(
      (summary.details.inputs as { ours: boolean; finalized?: boolean }[]).map((i) => [
        i.ours,
        i.finalized ?? false,
      ]),
    ).toEqual([
      [false, true],
      [true, false],
    ]);
    expect(plan.finalize).toBe(true);
    const signed = await signPsbt(parsed, plan, hsm.signer, { finalize: true });
    verifyWithScure(unsigned, signed, specs);
    expect(finalizeWithScure(signed.psbt).hex).toBe(signed.finalTxHex);
  });
});

describe('signPsbt misuse', () => {
  it('refuses to sign the same parsed PSBT twice', async () => {
    const unsigned = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }],
      [{ script: foreignScript(1), amount: 90_000n }],
    );
    const parsed = parsePsbt(unsigned);
    const { plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    await signPsbt(parsed, plan, hsm.signer);
    await expect(signPsbt(parsed, plan, hsm.signer)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('a PSBT we signed in part before', () => {
  it('signs only the inputs still missing our signature and leaves finalization to the coordinator', async () => {
    const specs: InputSpec[] = [
      { kind: 'p2wpkh', pubkeys: [pk(0)], amount: 50_000n },
      { kind: 'p2wpkh', pubkeys: [pk(1)], amount: 50_000n },
    ];
    const unsigned = buildPsbt(specs, [{ script: foreignScript(1), amount: 90_000n }]);
    // first round: only vault-1 is registered
    const first = parsePsbt(unsigned);
    const round1 = await signPsbt(
      first,
      summarizePsbt(first, [keys[0]!], { network: 'testnet' }).plan,
      hsm.signer,
    );
    expect(round1.finalTxHex).toBeUndefined();
    // second round, with both keys: input 0 already carries vault-1's signature
    const second = parsePsbt(round1.psbt);
    const { plan } = summarizePsbt(second, keys, { network: 'testnet' });
    expect(plan.requests.map((r) => r.input)).toEqual([1]);
    expect(plan.finalize).toBe(false);
    const round2 = await signPsbt(second, plan, hsm.signer);
    verifyWithScure(unsigned, { ...round2, signatures: [...round1.signatures, ...round2.signatures] }, specs);
    expect(finalizeWithScure(round2.psbt).hex).toMatch(/^02000000/);
  });
});

describe('multisig change is a registered wallet, recognised from its descriptor', () => {
  const multisigInput = (): InputSpec => ({
    kind: 'p2wsh-multisig',
    m: 2,
    pubkeys: [pk(0), foreignKey(1), pk(1)],
    amount: 100_000n,
  });
  const registered = () => [walletOf('p2wsh-multisig', 2, [pk(0), foreignKey(1), pk(1)], 'treasury')];

  it('an output to the registered 2-of-3 is change and names the wallet, even without a witness script (descriptor tools add none)', () => {
    const change = btc.p2wsh(btc.p2ms(2, [pk(0), foreignKey(1), pk(1)]));
    const unsigned = buildPsbt(
      [multisigInput()],
      [
        { script: foreignScript(2), amount: 30_000n },
        { script: change.script, amount: 60_000n },
      ],
    );
    const { summary } = summarizePsbt(parsePsbt(unsigned), keys, {
      network: 'testnet',
      wallets: registered(),
    });
    expect(summary.movements.map((m) => [m.channel, m.change, m.wallet])).toEqual([
      ['output', false, undefined],
      ['change', true, 'treasury'],
      ['fee', false, undefined],
    ]);
    expect((summary.details.outputs as { label?: string }[])[1]!.label).toBe('wallet treasury (2-of-3)');
  });

  it('a wallet registered for another network is not change', () => {
    const change = btc.p2wsh(btc.p2ms(2, [pk(0), foreignKey(1), pk(1)]));
    const unsigned = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [pk(0)], amount: 100_000n }],
      [{ script: change.script, amount: 99_000n }],
    );
    const wallets = [walletOf('p2wsh-multisig', 2, [pk(0), foreignKey(1), pk(1)], 'treasury', 'mainnet')];
    const { summary } = summarizePsbt(parsePsbt(unsigned), keys, { network: 'testnet', wallets });
    expect(summary.movements[0]!.change).toBe(false);
  });

  it('a 1-of-2 of our key and a stranger’s is not change, even with its witness script (the stranger could spend it)', () => {
    const hostile = btc.p2wsh(btc.p2ms(1, [pk(0), foreignKey(66)]));
    const unsigned = buildPsbt(
      [multisigInput()],
      [{ script: hostile.script, amount: 90_000n, witnessScript: hostile.witnessScript }],
    );
    const { summary } = summarizePsbt(parsePsbt(unsigned), keys, {
      network: 'testnet',
      wallets: registered(),
    });
    expect(summary.movements[0]!.change).toBe(false);
    expect(summary.warnings).toContain('No output returns change to our keys.');
  });

  it('a multisig input with our key that is not a registered wallet is refused: PSBT_WALLET_UNREGISTERED', () => {
    const unsigned = buildPsbt([multisigInput()], [{ script: foreignScript(2), amount: 90_000n }]);
    expect(() => summarizePsbt(parsePsbt(unsigned), keys, { network: 'testnet' })).toThrow(
      expect.objectContaining({ code: 'PSBT_WALLET_UNREGISTERED' }),
    );
  });

  it('a registered wallet input without witness script is signed with the script from the descriptor', async () => {
    const spec: InputSpec = { ...multisigInput(), omitScripts: true };
    const unsigned = buildPsbt([spec], [{ script: foreignScript(2), amount: 90_000n }]);
    const parsed = parsePsbt(unsigned);
    const { plan } = summarizePsbt(parsed, keys, { network: 'testnet', wallets: registered() });
    expect(plan.requests.map((r) => r.wallet)).toEqual(['treasury', 'treasury']);
    const signed = await signPsbt(parsed, plan, hsm.signer);
    verifyWithScure(unsigned, signed, [multisigInput()]);
    expect(finalizeWithScure(signed.psbt).hex).toMatch(/^0[12]000000/);
  });
});

describe('P2SH-P2WPKH without a redeem script (address-only watch-only wallets)', () => {
  it('the redeem script is supplied from our key, signed, and added to the PSBT', async () => {
    const spec: InputSpec = { kind: 'p2sh-p2wpkh', pubkeys: [pk(1)], amount: 100_000n, omitScripts: true };
    const unsigned = buildPsbt([spec], [{ script: foreignScript(2), amount: 95_000n }]);
    const parsed = parsePsbt(unsigned);
    expect(parsed.psbt.data.inputs[0]!.redeemScript).toBeUndefined();
    const { plan } = summarizePsbt(parsed, keys, { network: 'testnet' });
    expect(plan.requests.map((r) => r.label)).toEqual(['vault-2']);
    const signed = await signPsbt(parsed, plan, hsm.signer);
    verifyWithScure(unsigned, signed, [spec]);
    expect(finalizeWithScure(signed.psbt).hex).toMatch(/^0[12]000000/);
  });
});
