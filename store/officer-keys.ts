/**
 * Officer keys (Node side): Ed25519 (RFC 8032) private keys as encrypted PKCS#8 PEM (RFC 5958,
 * PBES2 from RFC 8018 with AES-256-CBC as node:crypto/OpenSSL writes it). Node fixes PBES2's
 * PBKDF2 at 2048 iterations, so the passphrase is first stretched with scrypt (RFC 7914) and the
 * scrypt parameters kept, with the officer name, as RFC 7468 explanatory text above the PEM block.
 * The passphrase is passed in by the caller (COLDSIGN_PASSPHRASE or a TTY prompt) and never logged.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scryptSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { makeError } from '../core/errors.js';
import { toHex } from '../core/bytes.js';
import {
  approvalExpiryMs,
  approvalMessage,
  type Approval,
  type ApprovalBinding,
} from '../policy/approvals.js';
import type { PolicyDocument } from '../policy/schema.js';
import { policySigningBytes, toBase64, withPolicySignature } from '../policy/signing.js';
import { assertOfficerName } from './officers.js';

export const MIN_PASSPHRASE_LENGTH = 8;
const NAME_HEADER = 'Coldsign-Officer:';
/** scrypt cost: N = 2^16, r = 8, p = 1 (64 MiB, a fraction of a second per unlock). */
const SCRYPT = { N: 65536, r: 8, p: 1 } as const;

interface ScryptParams {
  N: number;
  r: number;
  p: number;
  salt: string;
}

/** The PKCS#8 passphrase: base64 of scrypt(passphrase, salt) (32 bytes). */
function stretch(passphrase: string, params: ScryptParams): string {
  const maxmem = 128 * params.N * params.r * 2;
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(params.salt, 'hex'), 32, {
    ...params,
    maxmem,
  }).toString('base64');
}

function parseKdf(text: string): ScryptParams | undefined {
  const match = /^Coldsign-KDF: *scrypt N=(\d+) r=(\d+) p=(\d+) salt=([0-9a-f]{32,64}) *$/m.exec(text);
  if (!match) return undefined;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (N < 2 ** 14 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
    throw makeError('OFFICER_KEY_INVALID', 'The officer key file has unusable scrypt parameters.');
  }
  return { N, r, p, salt: match[4] as string };
}

export interface OfficerKey {
  name: string;
  /** Raw 32-byte Ed25519 public key, 64 hex characters (the form `init --officer NAME=HEX` takes). */
  publicKey: string;
  privateKey: KeyObject;
}

/** Raw Ed25519 public key hex of a key object (the last 32 bytes of its SPKI, RFC 8410). */
export function rawPublicKeyHex(key: KeyObject): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return toHex(new Uint8Array(spki.subarray(spki.length - 32)));
}

/** Generates an officer key; returns the encrypted PEM text (with the name above it) and the public key hex. */
export function generateOfficerKey(name: string, passphrase: string): { pem: string; publicKey: string } {
  assertOfficerName(name);
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw makeError(
      'OFFICER_PASSPHRASE_WEAK',
      `An officer key passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters.`,
    );
  }
  const kdf: ScryptParams = { ...SCRYPT, salt: randomBytes(16).toString('hex') };
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: {
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: stretch(passphrase, kdf),
    },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  return {
    pem: `${NAME_HEADER} ${name}\nColdsign-KDF: scrypt N=${kdf.N} r=${kdf.r} p=${kdf.p} salt=${kdf.salt}\n${privateKey}`,
    publicKey: toHex(new Uint8Array(publicKey.subarray(publicKey.length - 32))),
  };
}

/**
 * Loads and decrypts an officer key file. OFFICER_PASSPHRASE_INCORRECT when the passphrase does not
 * decrypt it; OFFICER_KEY_INVALID when it is not an encrypted Ed25519 PKCS#8 PEM with a name.
 */
export function loadOfficerKey(text: string, passphrase: string): OfficerKey {
  const name = /^Coldsign-Officer: *(\S+) *$/m.exec(text)?.[1];
  if (!text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw makeError(
      'OFFICER_KEY_INVALID',
      'The officer key file is not an encrypted PKCS#8 PEM key (made by coldsign officer keygen).',
    );
  }
  if (!name)
    throw makeError(
      'OFFICER_KEY_INVALID',
      'The officer key file does not name its officer (Coldsign-Officer line missing).',
    );
  assertOfficerName(name);
  const kdf = parseKdf(text);
  let privateKey: KeyObject;
  try {
    const key = text.slice(text.indexOf('-----BEGIN'));
    privateKey = createPrivateKey({
      key,
      format: 'pem',
      passphrase: kdf ? stretch(passphrase, kdf) : passphrase,
    });
  } catch (error) {
    const detail =
      error instanceof Error ? `${(error as { code?: string }).code ?? ''} ${error.message}` : '';
    if (/bad decrypt|BAD_DECRYPT|passphrase|wrong tag|ERR_OSSL/i.test(detail)) {
      throw makeError(
        'OFFICER_PASSPHRASE_INCORRECT',
        `The passphrase does not decrypt the key of officer "${name}".`,
        { officer: name },
      );
    }
    throw makeError('OFFICER_KEY_INVALID', 'The officer key file is damaged.', { officer: name });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw makeError('OFFICER_KEY_INVALID', 'The officer key file does not hold an Ed25519 key.', {
      officer: name,
    });
  }
  return { name, publicKey: rawPublicKeyHex(privateKey), privateKey };
}

/** `coldsign policy sign`: adds the officer's signature (Ed25519 over RFC 8785 without "signatures"). */
export function signPolicy(doc: PolicyDocument, officer: OfficerKey): PolicyDocument {
  const signature = sign(null, policySigningBytes(doc), officer.privateKey);
  return withPolicySignature(doc, officer.name, new Uint8Array(signature));
}

/**
 * `coldsign approve`: the officer's approval of one request id, for its signing keys, under the
 * policy version in force, expiring after the policy's approval expiry (default 24 h).
 */
export function signApproval(
  binding: ApprovalBinding,
  officer: OfficerKey,
  now: Date,
  expiryMs: number = approvalExpiryMs(null),
): Approval {
  if (!/^[0-9a-f]{64}$/.test(binding.requestId))
    throw makeError('REQUEST_INVALID', 'A request id is 64 lower-case hex characters.');
  const body = {
    requestId: binding.requestId,
    keys: [...new Set(binding.keys)].sort(),
    policyVersion: binding.policyVersion,
    officer: officer.name,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + expiryMs).toISOString(),
  };
  const signature = sign(null, approvalMessage(body, binding.scope), officer.privateKey);
  return { type: 'coldsign-approval', ...body, signature: toBase64(new Uint8Array(signature)) };
}
