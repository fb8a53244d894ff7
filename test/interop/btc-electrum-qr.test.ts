// Electrum's QR export of a PSBT (base43 text, made by Electrum's own `to_qr_data`, which replaces every
// input's previous transaction with a witness_utxo) through the real CLI `inspect`: the base43 is read and,
// under the strict default, refused with PSBT_UTXO_MISSING and a word on Electrum's QR. The chain-level round
// trip (P2WPKH, a rule allowing witness_utxo only) checks that the base43 answer is what Electrum reads back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as btc from '@scure/btc-signer';
import { toHex } from '../../core/bytes.js';
import { createCliHome, type CliHome } from '../support/cli.js';
import { foreignScript, previousTx } from '../btc/support/fixtures.js';

const PYTHON = '/usr/bin/python3';
const SIDE = join(import.meta.dirname, 'electrum', 'electrum_side.py');
const REGTEST = { ...btc.TEST_NETWORK, bech32: 'bcrt' };
const BASE43 = /^[0-9A-Z$*+\-./:]+$/;

function electrum(args: string[]): string {
  return execFileSync(PYTHON, [SIDE, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Electrum's wallet for `address` makes the unsigned PSBT; returns it (base64) and its QR text (base43). */
function electrumPsbt(address: string): { psbt: string; qr: string } {
  const funding = previousTx(btc.OutScript.encode(btc.Address(REGTEST).decode(address)), 100_000n);
  const destination = btc.Address(REGTEST).encode(btc.OutScript.decode(foreignScript(3)));
  const datadir = mkdtempSync(join(tmpdir(), 'coldsign-electrum-qr-'));
  try {
    const psbt = electrum(['create', datadir, address, toHex(funding.bytes), destination, '60000', '1000']);
    return { psbt, qr: electrum(['qr', psbt]) };
  } finally {
    rmSync(datadir, { recursive: true, force: true });
  }
}

let cli: CliHome;
const addresses: Record<string, string> = {};

beforeAll(() => {
  cli = createCliHome();
  const keygen = cli.run(['officer', 'keygen', 'alice', '--out', join(cli.dir, 'alice.pem')], {
    COLDSIGN_PASSPHRASE: 'passphrase-alice-123',
  });
  expect(keygen.code, keygen.stderr).toBe(0);
  const officer = keygen.stdout.trim().split('\n').at(-1)!;
  const init = cli.run(['init', '--officer', `alice=${officer}`, '--quorum', '1']);
  expect(init.code, init.stderr).toBe(0);
  for (const script of ['p2pkh', 'p2wpkh']) {
    const made = cli.run([
      'keys',
      'generate',
      '--chain',
      'btc',
      '--label',
      `e-${script}`,
      '--script',
      script,
      '--network',
      'regtest',
    ]);
    expect(made.code, made.stderr).toBe(0);
  }
  const keys = cli
    .run(['keys', 'list', '--json'])
    .json<{ keys: { label: string; address: string }[] }>().keys;
  for (const key of keys) addresses[key.label] = key.address;
});
afterAll(() => cli?.cleanup());

describe("Electrum's base43 QR text through `coldsign inspect`", () => {
  for (const script of ['p2pkh', 'p2wpkh']) {
    it(`${script}: Electrum's QR drops the previous transaction; coldsign reads the base43 and says so`, () => {
      const { psbt, qr } = electrumPsbt(addresses[`e-${script}`]!);
      expect(qr).toMatch(BASE43);
      expect(qr).not.toBe(psbt);
      const file = join(cli.dir, `electrum-${script}.txt`);
      writeFileSync(file, qr);
      const result = cli.run(['inspect', file, '--json']);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('PSBT_UTXO_MISSING');
      expect(result.stdout + result.stderr).toContain("Electrum's QR export (base43)");
    });
  }
});
