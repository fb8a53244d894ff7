/**
 * The audit public key as people compare it: the full key (SEC 1 compressed, hex) and a short fingerprint,
 * the first 8 bytes of its SHA-256 in groups of four hex digits (read aloud or on paper, like an SSH key's).
 */
import { createHash } from 'node:crypto';
import { makeError } from '../core/errors.js';

export function auditKeyFingerprint(publicKeyHex: string): string {
  const digest = createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex');
  return digest.slice(0, 16).match(/.{4}/g)!.join(' ');
}

/** The key a user gives with --audit-key: a compressed secp256k1 public key, 66 hex digits. */
export function parseAuditKeyOption(value: string): string {
  const key = value.trim().toLowerCase();
  if (!/^0[23][0-9a-f]{64}$/.test(key)) {
    throw makeError(
      'USAGE',
      '--audit-key must be the audit public key as coldsign init and audit verify print it (66 hex digits starting 02 or 03).',
    );
  }
  return key;
}

/** Lines that name the key and its fingerprint. */
export function describeAuditKey(publicKeyHex: string): string {
  return `  Audit public key: ${publicKeyHex}\n  Fingerprint:      ${auditKeyFingerprint(publicKeyHex)}`;
}
