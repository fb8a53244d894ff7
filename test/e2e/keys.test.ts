/** `coldsign init` and `coldsign keys` end to end: real CLI process, embedded SoftHSM2 token, SQLite. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { computeAddress } from 'ethers';
import * as btc from '@scure/btc-signer';
import { hexToBytes } from '@noble/curves/utils.js';
import { createCliHome, type CliHome } from '../support/cli.js';

let cli: CliHome;
beforeAll(() => {
  cli = createCliHome();
  const init = cli.run(['init', '--json']);
  expect(init.stderr).toBe('');
  expect(init.code).toBe(0);
});
afterAll(() => cli?.cleanup());

describe('init', () => {
  it('keeps everything inside COLDSIGN_HOME, with its own softhsm2.conf', () => {
    const home = cli.env.COLDSIGN_HOME!;
    expect(existsSync(join(home, 'config.json'))).toBe(true);
    expect(existsSync(join(home, 'coldsign.db'))).toBe(true);
    expect(readFileSync(join(home, 'softhsm2.conf'), 'utf8')).toContain(join(home, 'softhsm-tokens'));
  });

  it('refuses to initialize twice (usage error, exit 2)', () => {
    const again = cli.run(['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already a coldsign home/);
  });

  it('without a PIN and without a terminal, fails cleanly (exit 5) and leaves no home', () => {
    const other = createCliHome();
    try {
      const result = other.run(['init', '--json'], { COLDSIGN_PIN: undefined });
      expect(result.code).toBe(5);
      expect(result.json<{ error: { code: string } }>().error.code).toBe('HSM_PIN_REQUIRED');
      expect(existsSync(other.env.COLDSIGN_HOME!)).toBe(false);
    } finally {
      other.cleanup();
    }
  });
});

describe('keys', () => {
  it('generates a Bitcoin key and lists it with its address and descriptor', () => {
    const gen = cli.run(['keys', 'generate', '--chain', 'btc', '--label', 'vault-1', '--json']);
    expect(gen.code).toBe(0);
    const list = cli.run(['keys', 'list', '--json']).json<{ keys: Array<Record<string, string>> }>();
    const key = list.keys.find((k) => k.label === 'vault-1')!;
    expect(key).toMatchObject({ chain: 'btc', network: 'mainnet', script: 'p2wpkh' });
    expect(key.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(key.descriptor).toBe(`wpkh(${key.publicKey})`);
    // address checked with an independent implementation (@scure/btc-signer)
    expect(key.address).toBe(btc.p2wpkh(hexToBytes(key.publicKey!)).address);
  });

  it('generates testnet P2SH-P2WPKH and P2PKH keys', () => {
    for (const [label, script] of [
      ['t-sh', 'p2sh-p2wpkh'],
      ['t-pkh', 'p2pkh'],
    ] as const) {
      const gen = cli.run([
        'keys',
        'generate',
        '--chain',
        'btc',
        '--label',
        label,
        '--script',
        script,
        '--network',
        'testnet',
        '--json',
      ]);
      expect(gen.code).toBe(0);
      const key = gen.json<Record<string, string>>();
      const pk = hexToBytes(key.publicKey!);
      const expected =
        script === 'p2pkh'
          ? btc.p2pkh(pk, btc.TEST_NETWORK).address
          : btc.p2sh(btc.p2wpkh(pk, btc.TEST_NETWORK), btc.TEST_NETWORK).address;
      expect(key.address).toBe(expected);
    }
  });

  it('generates an EVM key whose address matches its public key', () => {
    const gen = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'treasury-eth', '--json']);
    expect(gen.code).toBe(0);
    const key = gen.json<Record<string, string>>();
    expect(secp256k1.Point.fromHex(key.publicKey!).toBytes(false).length).toBe(65);
    expect(key.address).toBe(computeAddress(`0x${key.publicKey}`));
  });

  it('refuses a duplicate label (exit 3) and an unknown key (exit 3)', () => {
    const dup = cli.run(['keys', 'generate', '--chain', 'btc', '--label', 'vault-1', '--json']);
    expect(dup.code).toBe(3);
    expect(dup.json<{ error: { code: string } }>().error.code).toBe('KEY_LABEL_TAKEN');
    const missing = cli.run(['keys', 'show', 'nope', '--json']);
    expect(missing.code).toBe(3);
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('KEY_NOT_FOUND');
  });

  it('shows a key and writes its address as a QR code', () => {
    const show = cli.run(['keys', 'show', 'vault-1', '--qr', 'vault-1.png']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('descriptor: wpkh(');
    expect(readFileSync(join(cli.dir, 'vault-1.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a wrong PIN fails with exit 5 and one sentence', () => {
    const wrong = cli.run(['keys', 'generate', '--chain', 'btc', '--label', 'x'], { COLDSIGN_PIN: '000000' });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/PIN/);
    expect(wrong.stderr).not.toContain('000000');
  });

  it('usage errors exit 2; --help exits 0 on every command', () => {
    expect(cli.run(['keys', 'generate', '--chain', 'xrp', '--label', 'a']).code).toBe(2);
    expect(cli.run(['frobnicate']).code).toBe(2);
    for (const args of [
      ['--help'],
      ['init', '--help'],
      ['keys', 'generate', '--help'],
      ['keys', 'list', '--help'],
    ]) {
      const help = cli.run(args);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Usage: coldsign/);
    }
  });
});
