// Bitcoin message signing: BIP-322's own vectors (message hash, to_spend / to_sign txids, and the official
// P2WPKH signatures verifying under coldsign's digest), then messages signed by a SoftHSM2 key and verified
// by an independent implementation, bip322-js (BIP-322 simple, and BIP-137 legacy signatures).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIP322, Verifier } from 'bip322-js';
import * as btc from '@scure/btc-signer';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { address as baddress } from 'bitcoinjs-lib';
import {
  bip322MessageHash,
  bip322P2wpkhDigest,
  bip322ToSign,
  bip322ToSpend,
  MAX_MESSAGE_BYTES,
  signBtcMessage,
} from '../../chains/btc/bip322.js';
import { parseWitness } from '../../chains/btc/finalize.js';
import { describeKey } from '../../appliance/keys.js';
import { fromHex, toHex } from '../../core/bytes.js';
import type { BtcScriptType, KeyRecord } from '../../core/signer.js';
import type { Hsm } from '../../hsm/index.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { codeOfAsync } from '../qr/support/errors.js';

interface Vectors {
  tx_hashes: {
    message: string;
    address: string;
    message_hash: string;
    to_spend_tx_hash: string;
    to_sign_tx_hash: string;
  }[];
  simple: {
    message: string;
    private_keys: string[];
    address: string;
    type: string;
    bip322_signatures: string[];
  }[];
  error: { description: string; message: string; address: string; signature: string }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../vectors/bip322/basic-test-vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const utf8 = (s: string) => new TextEncoder().encode(s);
const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** A simple signature of these vectors: "smp" then the base64 witness stack (the BIP's newer revision). */
function witnessOf(signature: string): Uint8Array[] {
  return parseWitness(fromBase64(signature.replace(/^smp/, '')));
}

/** Whether a simple P2WPKH signature verifies for (message, address) under coldsign's digest. */
function verifiesUnderOurDigest(message: string, address: string, signature: string): boolean {
  const stack = witnessOf(signature);
  if (stack.length !== 2) return false;
  const [sig, publicKey] = stack as [Uint8Array, Uint8Array];
  if (toHex(baddress.toOutputScript(address)) !== toHex(btc.p2wpkh(publicKey).script)) return false;
  const { digest } = bip322P2wpkhDigest(utf8(message), publicKey);
  return secp256k1.verify(sig.subarray(0, -1), digest, publicKey, {
    prehash: false,
    format: 'der',
    lowS: false,
  });
}

describe('BIP-322 vectors', () => {
  for (const v of vectors.tx_hashes) {
    it(`message hash and to_spend / to_sign txids: ${JSON.stringify(v.message)}`, () => {
      const message = utf8(v.message);
      expect(toHex(bip322MessageHash(message))).toBe(v.message_hash);
      const toSpend = bip322ToSpend(message, baddress.toOutputScript(v.address));
      expect(toSpend.getId()).toBe(v.to_spend_tx_hash);
      expect(bip322ToSign(toSpend).getId()).toBe(v.to_sign_tx_hash);
      // bip322-js builds the same to_spend transaction
      expect(BIP322.buildToSpendTx(v.message, Buffer.from(baddress.toOutputScript(v.address))).getId()).toBe(
        v.to_spend_tx_hash,
      );
    });
  }

  for (const v of vectors.simple.filter((s) => s.type === 'p2wpkh')) {
    it(`the official P2WPKH signatures verify under coldsign's digest: ${JSON.stringify(v.message)}`, () => {
      const privateKey = btc.WIF().decode(v.private_keys[0]!);
      const publicKey = secp256k1.getPublicKey(privateKey, true);
      expect(btc.p2wpkh(publicKey).address).toBe(v.address);
      const ours = bip322P2wpkhDigest(utf8(v.message), publicKey);
      expect(ours.toSpendTxid).toBe(vectors.tx_hashes.find((t) => t.message === v.message)!.to_spend_tx_hash);
      for (const signature of v.bip322_signatures) {
        expect(verifiesUnderOurDigest(v.message, v.address, signature)).toBe(true);
      }
    });
  }

  const p2wpkhErrors = vectors.error.filter((e) =>
    /wrong message for valid simple p2wpkh|wrong address|empty witness/.test(e.description),
  );
  it('the P2WPKH error vectors are the three expected', () => expect(p2wpkhErrors).toHaveLength(3));
  for (const e of p2wpkhErrors) {
    it(`does not verify: ${e.description}`, () => {
      expect(verifiesUnderOurDigest(e.message, e.address, e.signature)).toBe(false);
    });
  }
});

describe('messages signed in SoftHSM2, verified by bip322-js', () => {
  let token: TestToken;
  let hsm: Hsm;
  const keys = new Map<BtcScriptType, KeyRecord>();

  beforeAll(async () => {
    token = createTestToken();
    hsm = token.open();
    for (const script of ['p2wpkh', 'p2sh-p2wpkh', 'p2pkh'] as const) {
      const made = await hsm.keys.generate(`msg-${script}`);
      keys.set(
        script,
        describeKey(
          { chain: 'btc', label: `msg-${script}`, script, network: 'mainnet' },
          made.publicKey,
          made.keyId,
          new Date(0),
        ),
      );
    }
  });
  afterAll(() => {
    hsm?.close();
    token?.cleanup();
  });

  const messageKey = (script: BtcScriptType) => {
    const key = keys.get(script)!;
    return { keyId: key.keyId, publicKey: fromHex(key.publicKey), script };
  };

  for (const message of vectors.tx_hashes.map((t) => t.message)) {
    it(`BIP-322 simple, P2WPKH: ${JSON.stringify(message)}`, async () => {
      const signed = await signBtcMessage(utf8(message), messageKey('p2wpkh'), 'bip322', hsm.signer);
      const address = keys.get('p2wpkh')!.address;
      expect(Verifier.verifySignature(address, message, signed.signature)).toBe(true);
      expect(Verifier.verifySignature(address, `${message}!`, signed.signature)).toBe(false);
      expect(verifiesUnderOurDigest(message, address, signed.signature)).toBe(true);
    });
  }

  for (const script of ['p2wpkh', 'p2sh-p2wpkh', 'p2pkh'] as const) {
    it(`legacy Bitcoin Signed Message (BIP-137 header), ${script}`, async () => {
      const message = 'I control this address (Travel Rule proof 2026-11-30)';
      const signed = await signBtcMessage(utf8(message), messageKey(script), 'legacy', hsm.signer);
      expect(fromBase64(signed.signature)).toHaveLength(65);
      const address = keys.get(script)!.address;
      expect(Verifier.verifySignature(address, message, signed.signature)).toBe(true);
      expect(Verifier.verifySignature(address, 'another message', signed.signature)).toBe(false);
    });
  }

  it('refuses BIP-322 simple for a non-P2WPKH key and an oversized message, signing nothing', async () => {
    let calls = 0;
    const counting = {
      signDigest: (...args: Parameters<Hsm['signer']['signDigest']>) => {
        calls++;
        return hsm.signer.signDigest(...args);
      },
    };
    expect(await codeOfAsync(() => signBtcMessage(utf8('x'), messageKey('p2pkh'), 'bip322', counting))).toBe(
      'REQUEST_INVALID',
    );
    const big = new Uint8Array(MAX_MESSAGE_BYTES + 1);
    expect(await codeOfAsync(() => signBtcMessage(big, messageKey('p2wpkh'), 'bip322', counting))).toBe(
      'REQUEST_INVALID',
    );
    expect(await codeOfAsync(() => signBtcMessage(big, messageKey('p2pkh'), 'legacy', counting))).toBe(
      'REQUEST_INVALID',
    );
    expect(calls).toBe(0);
  });
});
