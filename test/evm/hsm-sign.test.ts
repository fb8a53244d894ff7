/** signEvm with keys held in SoftHSM2: transactions, messages and typed data, each verified independently. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Signature,
  Transaction,
  getBytes,
  hashMessage,
  recoverAddress,
  verifyMessage,
  verifyTypedData,
} from 'ethers';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Hsm } from '../../hsm/index.js';
import type { DigestSigner, KeyRecord } from '../../core/signer.js';
import type { NormalizedSignature } from '../../core/signature.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { fastVerifier } from '../../hsm/native-verifier.js';
import { parseEvmRequest, signEvm, summarizeEvm } from '../../chains/evm/index.js';
import { doc, expectCodeAsync, keyRecord, PublishedKeySigner, utf8 } from './helpers.js';
import { BOB, SECRET_A, SECRET_B, authorization, unsignedHex } from './fixtures.js';

const HALF_ORDER = secp256k1.Point.CURVE().n / 2n;

let token: TestToken;
let hsm: Hsm;
let key: KeyRecord;
let other: KeyRecord;

/** Counts the digests that reach the HSM. */
class CountingSigner implements DigestSigner {
  calls = 0;
  constructor(private readonly inner: DigestSigner) {}
  signDigest(keyId: string, publicKey: Uint8Array, digest: Uint8Array): Promise<NormalizedSignature> {
    this.calls++;
    return this.inner.signDigest(keyId, publicKey, digest);
  }
}

beforeAll(async () => {
  token = createTestToken();
  hsm = token.open();
  const a = await hsm.keys.generate('evm-a');
  const b = await hsm.keys.generate('evm-b');
  key = keyRecord('evm-a', a.publicKey, a.keyId);
  other = keyRecord('evm-b', b.publicKey, b.keyId);
});

afterAll(() => {
  hsm?.close();
  token?.cleanup();
});

const TYPED = {
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ],
    Order: [
      { name: 'maker', type: 'address' },
      { name: 'amount', type: 'uint256' },
      { name: 'tags', type: 'string[]' },
    ],
  },
  primaryType: 'Order',
  domain: {
    name: 'Exchange',
    version: '1',
    chainId: 1,
    verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
  },
  message: { maker: BOB, amount: '42', tags: ['a', 'b'] },
};

describe('signEvm with the HSM', () => {
  for (const type of [0, 1, 2] as const) {
    it(`signs a type ${type} transaction: low-S, the recovered sender is the HSM key, hash matches`, async () => {
      const parsed = parseEvmRequest(utf8(unsignedHex({ type, value: 1n })));
      const { plan } = summarizeEvm(parsed, [key], []);
      const signed = await signEvm(parsed, plan, hsm.signer);
      const decoded = Transaction.from(signed.rawTransaction!);
      expect(decoded.from).toBe(key.address);
      expect(decoded.hash).toBe(signed.hash);
      expect(decoded.unsignedSerialized).toBe(unsignedHex({ type, value: 1n }));
      expect(BigInt(signed.s)).toBeLessThanOrEqual(HALF_ORDER);
      expect(signed.v).toBe(type === 0 ? String(37 + signed.yParity) : String(signed.yParity));
      expect(signed.digest).toBe(plan.digest);
    });
  }

  it('recovers with the HSM layer’s libsecp256k1 verifier when given one (same result as @noble/curves)', async () => {
    const parsed = parseEvmRequest(utf8(unsignedHex({ type: 2, nonce: 99 })));
    const { plan } = summarizeEvm(parsed, [key], []);
    const signed = await signEvm(parsed, plan, hsm.signer, fastVerifier);
    expect(Transaction.from(signed.rawTransaction!).from).toBe(key.address);
    expect(signed.address).toBe(key.address);
  });

  it('signs an EIP-7702 transaction (the authorizations are the authorities’ own signatures)', async () => {
    const raw = unsignedHex({ type: 4, authorizationList: [authorization(SECRET_B, BOB)] });
    const parsed = parseEvmRequest(utf8(raw));
    const { plan } = summarizeEvm(parsed, [key], []);
    const signed = await signEvm(parsed, plan, hsm.signer);
    const decoded = Transaction.from(signed.rawTransaction!);
    expect(decoded.type).toBe(4);
    expect(decoded.from).toBe(key.address);
  });

  it('signs a personal message: 65-byte r‖s‖v with v = 27/28, verified by ethers and by @noble/curves', async () => {
    const parsed = parseEvmRequest(
      doc({ type: 'personal_sign', from: key.address, message: 'I approve payroll batch 7' }),
    );
    const { plan } = summarizeEvm(parsed, [key, other], []);
    const signed = await signEvm(parsed, plan, hsm.signer);
    const bytes = getBytes(signed.signature!);
    expect(bytes.length).toBe(65);
    expect([27, 28]).toContain(bytes[64]);
    expect(verifyMessage('I approve payroll batch 7', signed.signature!)).toBe(key.address);
    const ok = secp256k1.verify(
      bytes.slice(0, 64),
      getBytes(hashMessage('I approve payroll batch 7')),
      getBytes(`0x${key.publicKey}`),
      { prehash: false },
    );
    expect(ok).toBe(true);
  });

  it('signs EIP-712 typed data, verified by ethers verifyTypedData', async () => {
    const parsed = parseEvmRequest(doc({ type: 'typed_data', from: other.address, typedData: TYPED }));
    const { plan } = summarizeEvm(parsed, [key, other], []);
    const signed = await signEvm(parsed, plan, hsm.signer);
    const { EIP712Domain: _, ...types } = TYPED.types;
    expect(verifyTypedData(TYPED.domain, types, TYPED.message, signed.signature!)).toBe(other.address);
    expect(recoverAddress(plan.digest, Signature.from(signed.signature!))).toBe(other.address);
  });

  it('refuses a plan whose digest or kind does not match the request, before the HSM is used', async () => {
    const counting = new CountingSigner(hsm.signer);
    const parsed = parseEvmRequest(doc({ type: 'personal_sign', message: 'a' }));
    const { plan } = summarizeEvm(parsed, [key], []);
    const otherRequest = parseEvmRequest(doc({ type: 'personal_sign', message: 'b' }));
    await expectCodeAsync(() => signEvm(otherRequest, plan, counting), 'STATE_INCONSISTENT');
    await expectCodeAsync(
      () => signEvm(parsed, { ...plan, kind: 'typed_data' }, counting),
      'STATE_INCONSISTENT',
    );
    expect(counting.calls).toBe(0);
  });

  it('refuses a plan for another key than the request’s "from"', async () => {
    const parsed = parseEvmRequest(doc({ type: 'personal_sign', from: key.address, message: 'a' }));
    const { plan } = summarizeEvm(parsed, [key], []);
    const counting = new CountingSigner(hsm.signer);
    await expectCodeAsync(
      () =>
        signEvm(
          parsed,
          { ...plan, address: other.address, keyId: other.keyId, publicKey: other.publicKey },
          counting,
        ),
      'EVM_FROM_MISMATCH',
    );
    expect(counting.calls).toBe(0);
  });

  it('returns nothing when the signer answers with another key’s valid signature (faulty-signer mock: an HSM cannot be made to do this)', async () => {
    const parsed = parseEvmRequest(utf8(unsignedHex({ type: 2 })));
    const { plan } = summarizeEvm(parsed, [key], []);
    const wrongKey = new PublishedKeySigner(SECRET_A);
    const faulty: DigestSigner = {
      signDigest: (_id, _pk, digest) => wrongKey.signDigest('x', wrongKey.publicKey, digest),
    };
    await expectCodeAsync(() => signEvm(parsed, plan, faulty), 'HSM_SIGNATURE_INVALID');
  });
});
