/**
 * One initialised appliance for CLI tests: a temporary home (createCliHome), officer key pairs made with
 * `officer keygen`, `init --officer … --quorum N`, keys generated in the HSM and, optionally, a policy signed
 * by the officers and applied. Real `bin/coldsign` processes all the way; every step's exit code is asserted.
 */
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { auditKeyFromInit, createCliHome, type CliHome, type CliResult } from './cli.js';

/** Each test officer's private-key passphrase: `<name>-passphrase`. */
export const officerPassphrase = (officer: string): string => `${officer}-passphrase`;

export interface HomeKey {
  label: string;
  chain: string;
  address: string;
  publicKey: string;
}

export interface KeySpec {
  chain: 'btc' | 'evm';
  label: string;
  /** `--network` for a Bitcoin key (the CLI's default otherwise). */
  network?: string;
}

export interface ApplianceHomeOptions {
  /** Officers who get a key pair (`<dir>/<name>.pem`); default alice and bob. */
  officers?: string[];
  /** Officers enrolled by `init`; default the first two of `officers`. The rest are never enrolled. */
  enrol?: string[];
  quorum?: number;
  /** An existing home to initialise (for a custom PIN or a home whose environment the caller sets up). */
  cli?: CliHome;
  /** Environment added to every command (e.g. a preloaded PKCS#11 wrapper). */
  env?: Record<string, string | undefined>;
  /** Extra `init` arguments (e.g. `--module PATH --slot N`). */
  initArgs?: string[];
  keys?: KeySpec[];
  /** The first policy, built from the generated keys, signed by the enrolled officers and applied. */
  policy?: (keys: Record<string, HomeKey>) => object;
}

export interface ApplianceHome {
  cli: CliHome;
  /** A path in the test's temporary directory (outside the home). */
  file(name: string): string;
  /** Runs the CLI with the home's environment plus `env`. */
  run(args: string[], env?: Record<string, string | undefined>, input?: string): CliResult;
  /** As `run`, without blocking the test process (independent cases run concurrently). */
  runAsync(args: string[], env?: Record<string, string | undefined>, input?: string): Promise<CliResult>;
  /** The appliance's audit public key, as `init` printed it (what a policy names as its `appliance`). */
  auditPublicKey: string;
  /** Each officer's public key (hex), as `officer keygen` printed it. */
  officerKeys: Record<string, string>;
  /** The keys generated at set-up, by label. */
  keys: Record<string, HomeKey>;
  /** Signs the policy file at `path` with each officer's key (asserting success). */
  signPolicy(path: string, officers?: string[]): void;
  /**
   * Writes `document` to `name` (naming this appliance unless the document has an `appliance` member), has the
   * officers sign it and applies it; returns the apply result.
   */
  applyPolicy(document: object, options?: { name?: string; officers?: string[]; args?: string[] }): CliResult;
  cleanup(): void;
}

/** Makes and initialises an appliance home; see ApplianceHomeOptions for the defaults. */
export function createApplianceHome(options: ApplianceHomeOptions = {}): ApplianceHome {
  const officers = options.officers ?? ['alice', 'bob'];
  const enrolled = options.enrol ?? officers.slice(0, 2);
  const cli = options.cli ?? createCliHome();
  const file = (name: string) => join(cli.dir, name);
  const run: ApplianceHome['run'] = (args, env = {}, input) =>
    cli.run(args, { ...options.env, ...env }, input);
  const runAsync: ApplianceHome['runAsync'] = (args, env = {}, input) =>
    cli.runAsync(args, { ...options.env, ...env }, input);

  const officerKeys: Record<string, string> = {};
  for (const officer of officers) {
    const keygen = run(['officer', 'keygen', officer, '--out', file(`${officer}.pem`)], {
      COLDSIGN_PASSPHRASE: officerPassphrase(officer),
    });
    expect(keygen.code, keygen.stderr).toBe(0);
    officerKeys[officer] = keygen.stdout.trim().split('\n').at(-1)!;
    expect(officerKeys[officer]).toMatch(/^[0-9a-f]{64}$/);
  }
  const init = run([
    'init',
    ...(options.initArgs ?? []),
    ...enrolled.flatMap((officer) => ['--officer', `${officer}=${officerKeys[officer]}`]),
    '--quorum',
    String(options.quorum ?? 2),
  ]);
  expect(init.code, init.stderr).toBe(0);
  const auditPublicKey = auditKeyFromInit(init.stdout);
  expect(auditPublicKey, init.stdout).not.toBe('');

  const keys: Record<string, HomeKey> = {};
  for (const spec of options.keys ?? []) {
    const network = spec.network ? ['--network', spec.network] : [];
    const made = run([
      'keys',
      'generate',
      '--chain',
      spec.chain,
      '--label',
      spec.label,
      ...network,
      '--json',
    ]);
    expect(made.code, made.stderr).toBe(0);
    keys[spec.label] = made.json<HomeKey>();
    expect(keys[spec.label]!.label).toBe(spec.label);
  }

  const signPolicy: ApplianceHome['signPolicy'] = (path, signers = enrolled) => {
    for (const officer of signers) {
      const signed = run(['policy', 'sign', path, '--key', file(`${officer}.pem`)], {
        COLDSIGN_PASSPHRASE: officerPassphrase(officer),
      });
      expect(signed.code, signed.stderr).toBe(0);
    }
  };
  const applyPolicy: ApplianceHome['applyPolicy'] = (document, applyOptions = {}) => {
    const path = file(applyOptions.name ?? 'policy.json');
    writeFileSync(path, JSON.stringify({ appliance: auditPublicKey, ...document }));
    signPolicy(path, applyOptions.officers);
    return run(['policy', 'apply', path, ...(applyOptions.args ?? [])]);
  };

  if (options.policy) {
    const applied = applyPolicy(options.policy(keys));
    expect(applied.code, applied.stderr).toBe(0);
  }
  return {
    cli,
    file,
    run,
    runAsync,
    auditPublicKey,
    officerKeys,
    keys,
    signPolicy,
    applyPolicy,
    cleanup: () => cli.cleanup(),
  };
}

/**
 * A second appliance for the officers of `first` (same officers and quorum 2) with keys `keys` and, when given,
 * `policy` signed by the officers for it (naming its audit public key) and applied: a fleet sharing its officers
 * and key labels. Returns its CLI home and its audit public key.
 */
export function createSiblingHome(
  first: ApplianceHome,
  keys: KeySpec[],
  policy?: object,
): { cli: CliHome; auditPublicKey: string } {
  const cli = createCliHome();
  const officers = Object.entries(first.officerKeys).slice(0, 2);
  const init = cli.run([
    'init',
    ...officers.flatMap(([name, key]) => ['--officer', `${name}=${key}`]),
    '--quorum',
    '2',
  ]);
  expect(init.code, init.stderr).toBe(0);
  for (const spec of keys) {
    const made = cli.run(['keys', 'generate', '--chain', spec.chain, '--label', spec.label]);
    expect(made.code, made.stderr).toBe(0);
  }
  const auditPublicKey = auditKeyFromInit(init.stdout);
  expect(auditPublicKey, init.stdout).not.toBe('');
  if (policy) {
    const path = first.file(`sibling-policy-${auditPublicKey.slice(0, 8)}.json`);
    writeFileSync(path, JSON.stringify({ ...policy, appliance: auditPublicKey }));
    first.signPolicy(path);
    const applied = cli.run(['policy', 'apply', path]);
    expect(applied.code, applied.stderr).toBe(0);
  }
  return { cli, auditPublicKey };
}

/**
 * Copies a built home (database and embedded token) to `target` for a test of its own: the database's WAL is
 * checkpointed into the main file first and the SoftHSM2 configuration left out, so the first command run on
 * the copy points it at the copy's own token. Copies share nothing: cases on copies may run concurrently.
 */
export function copyHome(source: string, target: string): string {
  const db = new Database(join(source, 'coldsign.db'));
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  rmSync(target, { recursive: true, force: true });
  cpSync(source, target, { recursive: true });
  rmSync(join(target, 'softhsm2.conf'), { force: true });
  return target;
}
