/** Helpers for the EVM tests. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { expect } from 'vitest';
import { bytesToHex } from '../../core/bytes.js';
import { isColdsignError, type ErrorCode } from '../../core/errors.js';
import { normalizeSignature, type NormalizedSignature } from '../../core/signature.js';
import type { DigestSigner, KeyRecord } from '../../core/signer.js';
import { evmAddress } from '../../chains/evm/address.js';

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * A software DigestSigner holding a PUBLISHED test key (RFC 6979, deterministic). Used only to reproduce
 * official vectors signed with published keys, which an HSM cannot import; every other test signs in SoftHSM2.
 */
export class PublishedKeySigner implements DigestSigner {
  readonly calls: Uint8Array[] = [];
  constructor(private readonly secretKey: Uint8Array) {}
  get publicKey(): Uint8Array {
    return secp256k1.getPublicKey(this.secretKey, false);
  }
  async signDigest(_keyId: string, publicKey: Uint8Array, digest: Uint8Array): Promise<NormalizedSignature> {
    this.calls.push(digest);
    const raw = secp256k1.sign(digest, this.secretKey, { prehash: false, lowS: true });
    return normalizeSignature(raw, digest, publicKey);
  }
}

export function keyRecord(label: string, publicKey: Uint8Array, keyId = label): KeyRecord {
  return {
    label,
    chain: 'evm',
    publicKey: bytesToHex(publicKey),
    keyId,
    address: evmAddress(publicKey),
    createdAt: '2026-01-01T00:00:00Z',
  };
}

/** Runs fn and expects a ColdsignError with `code`; returns it. */
export function expectCode(fn: () => unknown, code: ErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).toBeDefined();
  expect(isColdsignError(caught) ? caught.code : String(caught)).toBe(code);
}

export async function expectCodeAsync(fn: () => Promise<unknown>, code: ErrorCode): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).toBeDefined();
  expect(isColdsignError(caught) ? caught.code : String(caught)).toBe(code);
}

/** JSON request document bytes. */
export function doc(value: unknown): Uint8Array {
  return utf8(JSON.stringify(value));
}
