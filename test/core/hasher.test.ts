// The SHA-256 port (core/hasher.ts): the appliance's native hasher and the pure-JS default agree byte for
// byte, and the PSBT codec and request id really use the one injected.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hash256With, pureSha256, type Sha256 } from '../../core/hasher.js';
import { nativeSha256 } from '../../appliance/native-sha256.js';
import { parsePsbt } from '../../chains/btc/index.js';
import { sighashFor } from '../../chains/btc/sighash.js';
import { prepareRequest } from '../../core/pipeline/prepare.js';
import { isColdsignError } from '../../core/errors.js';
import { toHex } from '../../core/bytes.js';
import type { KeyRecord } from '../../core/signer.js';
import { buildPsbt, foreignKey, foreignScript, payment, type InputSpec } from '../btc/support/fixtures.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A 3-input PSBT (P2WPKH, nested, legacy) with every previous transaction included. */
function threeInputPsbt(): { bytes: Uint8Array; specs: InputSpec[] } {
  const specs: InputSpec[] = [
    { kind: 'p2wpkh', pubkeys: [foreignKey(1)], amount: 40_000n },
    { kind: 'p2sh-p2wpkh', pubkeys: [foreignKey(2)], amount: 50_000n },
    { kind: 'p2pkh', pubkeys: [foreignKey(3)], amount: 60_000n },
  ];
  return { bytes: buildPsbt(specs, [{ script: foreignScript(9), amount: 140_000n }]), specs };
}

describe('SHA-256 port', () => {
  it('native and pure-JS give the FIPS 180-4 digest of "abc" and of the empty string', () => {
    for (const hash of [nativeSha256, pureSha256]) {
      expect(toHex(hash(utf8('abc')))).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      );
      expect(toHex(hash(new Uint8Array()))).toBe(
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      );
    }
  });

  it('native and pure-JS agree on random inputs of every length across the block boundaries, and on 1 MiB', () => {
    const inputs = Array.from({ length: 300 }, (_, n) => new Uint8Array(randomBytes(n)));
    inputs.push(new Uint8Array(randomBytes(1 << 20)));
    // a view into a larger buffer: only the viewed bytes are hashed
    const backing = new Uint8Array(randomBytes(200));
    inputs.push(backing.subarray(17, 150));
    for (const bytes of inputs) {
      expect(toHex(nativeSha256(bytes))).toBe(toHex(pureSha256(bytes)));
      expect(toHex(hash256With(nativeSha256, bytes))).toBe(toHex(hash256With(pureSha256, bytes)));
    }
  });

  it('a PSBT parsed with the native hasher has the same txid, previous transactions and BIP-143/legacy digests', () => {
    const { bytes, specs } = threeInputPsbt();
    const pure = parsePsbt(bytes);
    const native = parsePsbt(bytes, { sha256: nativeSha256 });
    expect(native.txid).toBe(pure.txid);
    expect(native.prevTxs.map((t) => t && toHex(t.hash))).toEqual(
      pure.prevTxs.map((t) => t && toHex(t.hash)),
    );
    specs.forEach((spec, input) => {
      const segwit = spec.kind !== 'p2pkh';
      const pay = payment(spec);
      const scriptCode =
        spec.kind === 'p2pkh'
          ? pay.script
          : Uint8Array.of(
              0x76,
              0xa9,
              0x14,
              ...(segwit ? (pay.redeemScript ?? pay.script).subarray(2) : []),
              0x88,
              0xac,
            );
      const args = [input, scriptCode, spec.amount, 0x01, segwit] as const;
      expect(toHex(sighashFor(native.tx, ...args, nativeSha256))).toBe(toHex(sighashFor(pure.tx, ...args)));
    });
  });

  it('the previous-transaction txid check uses the injected hasher: a wrong one makes every prevout mismatch', () => {
    const { bytes } = threeInputPsbt();
    const wrong: Sha256 = (b) => pureSha256(Uint8Array.of(...b, 0));
    let code: string | undefined;
    try {
      parsePsbt(bytes, { sha256: wrong });
    } catch (error) {
      code = isColdsignError(error) ? error.code : 'not a coldsign error';
    }
    expect(code).toBe('PSBT_UTXO_MISMATCH');
  });

  it('the request id is the injected hasher’s SHA-256 of the canonical PSBT bytes', async () => {
    const { bytes } = threeInputPsbt();
    const keys: KeyRecord[] = [
      {
        keyId: 'k',
        label: 'ours',
        chain: 'btc',
        publicKey: toHex(foreignKey(1)),
        address: 'not read here',
        network: 'testnet',
        createdAt: '2026-01-01T00:00:00.000Z',
      },
    ];
    const seen: number[] = [];
    const counting: Sha256 = (b) => {
      seen.push(b.length);
      return nativeSha256(b);
    };
    const prepared = await prepareRequest({ chain: 'btc', psbt: bytes, transport: { kind: 'file' } }, keys, {
      tokens: [],
      sha256: counting,
    });
    expect(prepared.requestId).toBe(toHex(pureSha256(bytes)));
    expect(seen).toContain(bytes.length);
  });
});
