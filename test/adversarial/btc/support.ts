/**
 * Support for the Bitcoin attacks: throwaway in-memory keys (never the HSM) that show a signature made the
 * old way would move the money, digests re-derived by @scure/btc-signer, and a real appliance (bin/coldsign,
 * SoftHSM2, SQLite) to show that coldsign now refuses and signs nothing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { checksum } from '@bitcoinerlab/descriptors';
import { sha256 } from '@noble/hashes/sha2.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { expect } from 'vitest';
import { btc } from '../../btc/support/fixtures.js';
import { type CliHome } from '../../support/cli.js';
import { createApplianceHome } from '../../support/appliance-home.js';

export const OPTS = {
  allowUnknownOutputs: true,
  allowLegacyWitnessUtxo: true,
  disableScriptCheck: true,
} as const;

export interface Throwaway {
  priv: Uint8Array;
  pub: Uint8Array;
}

/** A key that lives only in this test's memory. */
export function throwaway(seed: number): Throwaway {
  const priv = sha256(Uint8Array.of(seed, 0x5a, 0xa5));
  return { priv, pub: secp256k1.getPublicKey(priv, true) };
}

/** What the old appliance would have done: sign input `index` with the sighash type the PSBT asks for. */
export function signAsAsked(psbt: Uint8Array, index: number, key: Throwaway, sighash: number): Uint8Array {
  const tx = btc.Transaction.fromPSBT(psbt, OPTS);
  tx.signIdx(key.priv, index, [sighash]);
  return tx.getInput(index).partialSig![0]![1];
}

/** Does `signature` (DER + sighash byte) verify for input `index` of `tx`, by scure's own digest? */
export function verifiesIn(
  tx: btc.Transaction,
  index: number,
  spend: { scriptCode: Uint8Array; amount: bigint; segwit: boolean },
  signature: Uint8Array,
  pub: Uint8Array,
): boolean {
  const hashType = signature[signature.length - 1]!;
  const digest = spend.segwit
    ? tx.preimageWitnessV0(index, spend.scriptCode, hashType, spend.amount)
    : (tx as unknown as { preimageLegacy(i: number, s: Uint8Array, h: number): Uint8Array }).preimageLegacy(
        index,
        spend.scriptCode,
        hashType,
      );
  return secp256k1.verify(signature.subarray(0, -1), digest, pub, {
    prehash: false,
    format: 'der',
    lowS: false,
  });
}

/** The same inputs as `psbt` with other outputs: the attacker's rewrite. */
export function rewriteOutputs(
  psbt: Uint8Array,
  outputs: { script: Uint8Array; amount: bigint }[],
): btc.Transaction {
  const original = btc.Transaction.fromPSBT(psbt, OPTS);
  const tx = new btc.Transaction({ ...OPTS, version: original.version, lockTime: original.lockTime });
  for (let i = 0; i < original.inputsLength; i++) {
    const input = original.getInput(i);
    tx.addInput({ txid: input.txid!, index: input.index!, sequence: input.sequence });
  }
  for (const output of outputs) tx.addOutput(output);
  return tx;
}

export interface Appliance {
  cli: CliHome;
  file(name: string): string;
  /** Compressed public keys of the appliance's Bitcoin keys, by label. */
  pub: Record<string, Uint8Array>;
  /** Signs `psbt` with `coldsign sign`; returns the exit code, the error code and the report. */
  sign(
    psbt: Uint8Array,
    name: string,
  ): { code: number; error?: string; message?: string; report?: Record<string, unknown> };
  inspect(psbt: Uint8Array, name: string): { code: number; report: Record<string, unknown> };
  /** Signatures the HSM made, as the appliance's database records them. */
  signatureCount(): number;
  velocityRows(): { rule: string; raw: string }[];
  cleanup(): void;
}

/** A BIP-380 descriptor with its checksum. */
export function withChecksum(descriptor: string): string {
  return `${descriptor}#${checksum(descriptor)}`;
}

/**
 * A real appliance: two officers (quorum 2), Bitcoin mainnet keys `labels` in SoftHSM2, and the policy
 * `policyOf(pub)` signed by both officers and applied.
 */
export function createAppliance(
  labels: string[],
  policyOf: (pub: Record<string, Uint8Array>) => object,
): Appliance {
  const pub: Record<string, Uint8Array> = {};
  const appliance = createApplianceHome({
    keys: labels.map((label) => ({ chain: 'btc' as const, label, network: 'mainnet' })),
    policy: (keys) => {
      for (const [label, key] of Object.entries(keys))
        pub[label] = Uint8Array.from(Buffer.from(key.publicKey, 'hex'));
      return policyOf(pub);
    },
  });
  const { cli, file } = appliance;
  const db = () => new Database(join(cli.env.COLDSIGN_HOME!, 'coldsign.db'), { readonly: true });
  return {
    cli,
    file,
    pub,
    sign(psbt, name) {
      writeFileSync(file(`${name}.psbt`), Buffer.from(psbt).toString('base64'));
      const out = file(`${name}.signed`);
      const result = cli.run(['sign', file(`${name}.psbt`), '--out', out, '--json']);
      const parsed = JSON.parse(result.stdout || '{}') as {
        error?: { code: string; message: string };
        report?: Record<string, unknown>;
      };
      if (result.code !== 0) expect(existsSync(out)).toBe(false);
      return {
        code: result.code,
        ...(parsed.error ? { error: parsed.error.code, message: parsed.error.message } : {}),
        ...(result.code === 0 ? { report: parsed as Record<string, unknown> } : {}),
      };
    },
    inspect(psbt, name) {
      writeFileSync(file(`${name}.psbt`), Buffer.from(psbt).toString('base64'));
      const result = cli.run(['inspect', file(`${name}.psbt`), '--json']);
      return { code: result.code, report: JSON.parse(result.stdout) as Record<string, unknown> };
    },
    signatureCount() {
      const handle = db();
      try {
        return (handle.prepare('SELECT count(*) AS n FROM signatures').get() as { n: number }).n;
      } finally {
        handle.close();
      }
    },
    velocityRows() {
      const handle = db();
      try {
        return handle.prepare('SELECT rule, raw FROM velocity ORDER BY seq, pos').all() as {
          rule: string;
          raw: string;
        }[];
      } finally {
        handle.close();
      }
    },
    cleanup: () => cli.cleanup(),
  };
}
