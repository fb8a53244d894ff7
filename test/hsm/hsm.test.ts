/** The HSM layer against a real SoftHSM2 token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkcs11js from 'pkcs11js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { SigningKey } from 'ethers';
import { randomBytes } from 'node:crypto';
import { Hsm } from '../../hsm/index.js';
import type { HsmKey } from '../../hsm/keystore.js';
import { isColdsignError, type ErrorCode } from '../../core/errors.js';
import { bytesToHex } from '../../core/bytes.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';

const N = secp256k1.Point.CURVE().n;

async function codeOf(fn: () => unknown): Promise<ErrorCode | 'no error'> {
  try {
    await fn();
    return 'no error';
  } catch (error) {
    if (isColdsignError(error)) return error.code;
    throw error;
  }
}

let token: TestToken;
let hsm: Hsm;
let key: HsmKey;

beforeAll(async () => {
  token = createTestToken();
  hsm = token.open({ size: 4 });
  key = await hsm.keys.generate('vault-1');
});

afterAll(() => {
  hsm?.close();
  token?.cleanup();
});

describe('key generation', () => {
  it('makes private, sensitive, non-extractable, sign-only token keys', async () => {
    const protection = await hsm.keys.protection(key.keyId);
    expect(protection).toEqual({
      sensitive: true,
      extractable: false,
      alwaysSensitive: true,
      neverExtractable: true,
      sign: true,
      decrypt: false,
      derive: false,
    });
  });

  it('refuses to hand out the private key value (CKA_VALUE)', async () => {
    const code = await codeOf(() =>
      hsm.pool.run('C_GetAttributeValue', (session) => {
        const handle = hsm.keys.privateKeyHandle(session, key.keyId);
        return hsm.pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }]);
      }),
    );
    expect(code).toBe('HSM_ERROR');
  });

  it('derives CKA_ID from the public key and lists the key with its public key', async () => {
    const listed = await hsm.keys.list();
    const found = listed.find((k) => k.keyId === key.keyId);
    expect(found?.label).toBe('vault-1');
    expect(bytesToHex(found!.publicKey)).toBe(bytesToHex(key.publicKey));
    expect(key.publicKey.length).toBe(65);
  });

  it('reports an unsupported curve with its own code', async () => {
    const bogusCurve = Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x63]); // OID 1.3.132.0.99: no such curve
    expect(await codeOf(() => hsm.keys.generate('bogus', bogusCurve))).toBe('HSM_CURVE_UNSUPPORTED');
  });
});

describe('signing', () => {
  it('signs 1,000 random digests: all low-S, valid under @noble/curves, recovery id right every time', async () => {
    const digests = Array.from({ length: 1000 }, () => new Uint8Array(randomBytes(32)));
    const signatures = await Promise.all(
      digests.map((d) => hsm.signer.signDigest(key.keyId, key.publicKey, d)),
    );
    const expectedUncompressed = bytesToHex(key.publicKey);
    signatures.forEach((sig, i) => {
      const digest = digests[i]!;
      const s = BigInt(`0x${bytesToHex(sig.s)}`);
      expect(s <= N / 2n).toBe(true);
      const compact = new Uint8Array([...sig.r, ...sig.s]);
      expect(secp256k1.verify(compact, digest, key.publicKey, { prehash: false })).toBe(true);
      // recovery checked with ethers' independent SigningKey.recoverPublicKey
      const recovered = SigningKey.recoverPublicKey(digest, {
        r: `0x${bytesToHex(sig.r)}`,
        s: `0x${bytesToHex(sig.s)}`,
        v: 27 + sig.recovery,
      });
      expect(recovered.slice(2)).toBe(expectedUncompressed);
      // DER parses back to the same r and s
      const fromDer = secp256k1.Signature.fromBytes(sig.der, 'der');
      expect(bytesToHex(fromDer.toBytes('compact'))).toBe(bytesToHex(compact));
    });
  });

  it('signs correctly with many signatures in flight over the session pool', async () => {
    const other = await hsm.keys.generate('vault-2');
    const jobs = Array.from({ length: 64 }, (_, i) => {
      const which = i % 2 === 0 ? key : other;
      const digest = new Uint8Array(randomBytes(32));
      return hsm.signer
        .signDigest(which.keyId, which.publicKey, digest)
        .then((sig) => ({ sig, digest, which }));
    });
    for (const { sig, digest, which } of await Promise.all(jobs)) {
      expect(
        secp256k1.verify(new Uint8Array([...sig.r, ...sig.s]), digest, which.publicKey, { prehash: false }),
      ).toBe(true);
    }
  });

  it('refuses a signature that does not verify against the claimed key (fails closed)', async () => {
    const other = await hsm.keys.generate('vault-3');
    const code = await codeOf(() =>
      hsm.signer.signDigest(key.keyId, other.publicKey, new Uint8Array(32).fill(1)),
    );
    expect(code).toBe('HSM_SIGNATURE_INVALID');
  });

  it('verifies against a compressed (BTC) key parsed once per key: a cached key never verifies another key’s signature', async () => {
    const other = await hsm.keys.generate('vault-4');
    const compressed = secp256k1.Point.fromBytes(key.publicKey).toBytes(true);
    const otherCompressed = secp256k1.Point.fromBytes(other.publicKey).toBytes(true);
    const digest = new Uint8Array(randomBytes(32));
    // cached under key.keyId with its compressed key; the signature and its recovery id match the key
    const sig = await hsm.signer.signDigest(key.keyId, compressed, digest);
    const compact = new Uint8Array([...sig.r, ...sig.s]);
    expect(secp256k1.verify(compact, digest, compressed, { prehash: false })).toBe(true);
    expect(
      secp256k1.Signature.fromBytes(compact, 'compact')
        .addRecoveryBit(sig.recovery)
        .recoverPublicKey(digest)
        .toBytes(true),
    ).toEqual(compressed);
    // the same key id with another key's public key, and another key id with the cached public key: refused
    expect(await codeOf(() => hsm.signer.signDigest(key.keyId, otherCompressed, digest))).toBe(
      'HSM_SIGNATURE_INVALID',
    );
    expect(await codeOf(() => hsm.signer.signDigest(other.keyId, compressed, digest))).toBe(
      'HSM_SIGNATURE_INVALID',
    );
    // and the cached key still verifies its own signatures afterwards
    const again = await hsm.signer.signDigest(key.keyId, compressed, digest);
    expect(
      secp256k1.verify(new Uint8Array([...again.r, ...again.s]), digest, compressed, { prehash: false }),
    ).toBe(true);
  });

  it('recovers once from sessions closed underneath the signer', async () => {
    hsm.pkcs11.C_CloseAllSessions(hsm.slot);
    const digest = new Uint8Array(randomBytes(32));
    const sig = await hsm.signer.signDigest(key.keyId, key.publicKey, digest);
    expect(
      secp256k1.verify(new Uint8Array([...sig.r, ...sig.s]), digest, key.publicKey, { prehash: false }),
    ).toBe(true);
  });

  it('reports a missing key with its own code', async () => {
    expect(
      await codeOf(() => hsm.signer.signDigest('00'.repeat(20), key.publicKey, new Uint8Array(32))),
    ).toBe('HSM_KEY_NOT_FOUND');
  });
});

describe('token data objects', () => {
  it('stores, replaces and reads a private data object', async () => {
    expect(await hsm.keys.readData('checkpoint')).toBeUndefined();
    await hsm.keys.writeData('checkpoint', Uint8Array.from([1, 2, 3]));
    await hsm.keys.writeData('checkpoint', Uint8Array.from([4, 5]));
    expect((await hsm.keys.readAllData('checkpoint')).map((v) => Array.from(v))).toEqual([[4, 5]]);
  });
});

describe('connection failures', () => {
  it('wrong PIN, missing module and missing token each have their own code', async () => {
    expect(await codeOf(() => Hsm.open({ module: token.module, token: token.token }, '000000'))).toBe(
      'HSM_PIN_INCORRECT',
    );
    expect(
      await codeOf(() => Hsm.open({ module: '/nonexistent/libpkcs11.so', token: token.token }, token.pin)),
    ).toBe('HSM_MODULE_NOT_FOUND');
    expect(await codeOf(() => Hsm.open({ module: token.module, token: 'no-such-token' }, token.pin))).toBe(
      'HSM_TOKEN_NOT_FOUND',
    );
  });

  it('a wrong PIN is tried exactly once: the next correct login still works', async () => {
    expect(await codeOf(() => Hsm.open({ module: token.module, token: token.token }, '999999'))).toBe(
      'HSM_PIN_INCORRECT',
    );
    const again = Hsm.open({ module: token.module, token: token.token }, token.pin);
    again.close();
  });
});

describe('throttling (CKR_FUNCTION_FAILED simulated: SoftHSM2 never throttles)', () => {
  const failing = (times: number) => {
    let calls = 0;
    return {
      fn: () => {
        calls += 1;
        if (calls <= times)
          throw new pkcs11js.Pkcs11Error('CKR_FUNCTION_FAILED', pkcs11js.CKR_FUNCTION_FAILED, 'C_Sign');
        return 'signed';
      },
      calls: () => calls,
    };
  };

  it('backs off and succeeds when the HSM recovers', async () => {
    const pool = token.open({ size: 1, throttleBackoffMs: [1, 1, 1] });
    try {
      const op = failing(2);
      expect(await pool.pool.run('C_Sign', op.fn)).toBe('signed');
      expect(op.calls()).toBe(3);
    } finally {
      pool.close();
    }
  });

  it('gives up after a bounded number of retries', async () => {
    const pool = token.open({ size: 1, throttleBackoffMs: [1, 1] });
    try {
      const op = failing(100);
      expect(await codeOf(() => pool.pool.run('C_Sign', op.fn))).toBe('HSM_THROTTLED');
      expect(op.calls()).toBe(3);
    } finally {
      pool.close();
    }
  });
});
