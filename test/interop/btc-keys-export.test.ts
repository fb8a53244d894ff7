// `keys generate --count` and `keys export` end to end (real CLI, embedded SoftHSM2 token, SQLite), each
// export read back by the library the online wallet uses: @bitcoinerlab/descriptors for descriptors and
// their BIP-380 checksums, @keystonehq/bc-ur-registry for the crypto-output / crypto-account UR,
// @caravan/bitcoin for the public keys Caravan's address page takes.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as descriptors from '@bitcoinerlab/descriptors';
import { CryptoAccount, CryptoOutput } from '@keystonehq/bc-ur-registry';
import { URDecoder } from '@ngraveio/bc-ur';
import { generateMultisigFromPublicKeys, multisigAddress } from '@caravan/bitcoin';
import * as btc from '@scure/btc-signer';
import { hasValidChecksum, withChecksum } from '../../appliance/btc-key-export.js';
import { nodeQrReader } from '../../appliance/qr-reader.js';
import { fromHex } from '../../core/bytes.js';
import { createCliHome, type CliHome } from '../support/cli.js';

interface Key {
  label: string;
  publicKey: string;
  address: string;
  script: string;
  network: string;
  createdAt: string;
}

let cli: CliHome;
let pool: Key[];
const out = (name: string) => join(cli.dir, name);
const { Output } = descriptors.DescriptorsFactory(descriptors.ecc);
const REGTEST = { ...btc.TEST_NETWORK, bech32: 'bcrt' };
/** `keys generate --chain btc --label ARGS…` as argv. */
const gen = (args: string) => ['keys', 'generate', '--chain', 'btc', '--label', ...args.split(' ')];

beforeAll(() => {
  cli = createCliHome();
  expect(cli.run(['init']).code).toBe(0);
  const made = cli.run(gen('deposit --count 3 --network regtest --json'));
  expect(made.stderr).toBe('');
  expect(made.code).toBe(0);
  pool = made.json<{ keys: Key[] }>().keys;
  expect(cli.run(gen('legacy --script p2pkh --network regtest')).code).toBe(0);
  expect(cli.run(gen('nested --script p2sh-p2wpkh --network regtest')).code).toBe(0);
  expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'treasury']).code).toBe(0);
});
afterAll(() => cli?.cleanup());

describe('keys generate --count', () => {
  it('makes a pool LABEL-1 … LABEL-N of distinct keys and addresses', () => {
    expect(pool.map((k) => k.label)).toEqual(['deposit-1', 'deposit-2', 'deposit-3']);
    expect(new Set(pool.map((k) => k.publicKey)).size).toBe(3);
    for (const key of pool) {
      expect(key.address).toBe(btc.p2wpkh(fromHex(key.publicKey), REGTEST).address);
    }
  });

  it('refuses a pool that would reuse a label, before generating any key', () => {
    const before = cli.run(['keys', 'list', '--json']).json<{ keys: Key[] }>().keys.length;
    const clash = cli.run(gen('deposit --count 2 --json'));
    expect(clash.code).toBe(3);
    expect(clash.json<{ error: { code: string } }>().error.code).toBe('KEY_LABEL_TAKEN');
    expect(cli.run(['keys', 'list', '--json']).json<{ keys: Key[] }>().keys.length).toBe(before);
  });

  it('refuses a count of 0 or above the pool limit as a usage error', () => {
    expect(cli.run(['keys', 'generate', '--chain', 'btc', '--label', 'x', '--count', '0']).code).toBe(2);
    expect(cli.run(['keys', 'generate', '--chain', 'btc', '--label', 'x', '--count', '1001']).code).toBe(2);
  });
});

describe('BIP-380 checksums (the BIP test vectors)', () => {
  const lines = readFileSync(
    new URL('../vectors/bip380/checksum-vectors.excerpt.txt', import.meta.url),
    'utf8',
  )
    .split('\n')
    .filter((l) => l.startsWith('* '));
  const vector = (i: number) => /<tt>(.*)<\/tt>/.exec(lines[i]!)![1]!;

  it('the excerpt holds the 8 checksum vectors', () => expect(lines).toHaveLength(8));
  it('computes the valid checksum', async () => {
    expect(await withChecksum('raw(deadbeef)')).toBe(vector(0));
    expect(await hasValidChecksum(vector(0))).toBe(true);
  });
  for (let i = 1; i < 8; i++) {
    it(`rejects: ${lines[i]!.replace(/<\/?tt>/g, '')}`, async () => {
      expect(await hasValidChecksum(vector(i))).toBe(false);
    });
  }
});

describe('keys export', () => {
  it('descriptor: one descriptor a line with its checksum; @bitcoinerlab/descriptors derives each address', async () => {
    const result = cli.run(['keys', 'export', '--format', 'descriptor']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    const keys = cli.run(['keys', 'list', '--json']).json<{ keys: (Key & { chain: string })[] }>().keys;
    const btcKeys = keys.filter((k) => k.chain === 'btc');
    for (const [i, line] of lines.entries()) {
      expect(line).toMatch(/#[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{8}$/);
      const output = new Output({
        descriptor: line,
        network: descriptors.networks.regtest,
        checksumRequired: true,
      });
      expect(output.getAddress()).toBe(btcKeys[i]!.address);
    }
    expect(lines[3]).toMatch(/^pkh\(/);
    expect(lines[4]).toMatch(/^sh\(wpkh\(/);
  });

  it('core: an importdescriptors request with labels and creation times', async () => {
    const file = out('core.json');
    const result = cli.run(['keys', 'export', 'deposit-1', 'deposit-2', '--format', 'core', '--out', file]);
    expect(result.code).toBe(0);
    const request = JSON.parse(readFileSync(file, 'utf8')) as {
      desc: string;
      timestamp: number;
      label: string;
    }[];
    expect(request.map((r) => r.label)).toEqual(['deposit-1', 'deposit-2']);
    for (const [i, r] of request.entries()) {
      expect(await hasValidChecksum(r.desc)).toBe(true);
      expect(r.desc.startsWith(`wpkh(${pool[i]!.publicKey})#`)).toBe(true);
      expect(r.timestamp).toBe(Math.floor(Date.parse(pool[i]!.createdAt) / 1000));
    }
    // never overwrites
    const again = cli.run(['keys', 'export', '--format', 'core', '--out', file, '--json']);
    expect(again.code).toBe(2);
    expect(again.json<{ error: { code: string } }>().error.code).toBe('OUTPUT_EXISTS');
  });

  it('electrum: the addresses, one a line', () => {
    const result = cli.run([
      'keys',
      'export',
      'deposit-3',
      'legacy',
      'nested',
      '--format',
      'electrum',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const report = result.json<{ content: string; keys: string[] }>();
    expect(report.keys).toEqual(['deposit-3', 'legacy', 'nested']);
    const [segwit, legacy, nested] = report.content.trim().split('\n');
    expect(segwit).toBe(pool[2]!.address);
    expect(legacy).toMatch(/^[mn]/);
    expect(nested).toMatch(/^2/);
  });

  it('caravan: public keys that @caravan/bitcoin turns into the same 2-of-3 P2WSH address as scure', () => {
    const result = cli.run(['keys', 'export', 'deposit-1', 'deposit-2', 'deposit-3', '--format', 'caravan']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      network: string;
      publicKeys: { name: string; publicKey: string }[];
    };
    expect(doc.network).toBe('regtest');
    const keys = doc.publicKeys.map((k) => k.publicKey).sort();
    const multisig = generateMultisigFromPublicKeys('regtest', 'P2WSH', 2, ...keys);
    const scure = btc.p2wsh(btc.p2ms(2, keys.map(fromHex)), REGTEST);
    expect(multisigAddress(multisig)).toBe(scure.address);
  });

  it('descriptor --qr: a crypto-account UR whose outputs are the keys; one key gives a crypto-output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coldsign-ur-'));
    const result = cli.run([
      'keys',
      'export',
      'deposit-1',
      'deposit-2',
      'nested',
      '--format',
      'descriptor',
      '--qr',
      dir,
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(result.json<{ qr: { type: string } }>().qr.type).toBe('crypto-account');
    const decoded = await decodeFrames(dir);
    expect(decoded.type).toBe('crypto-account');
    const account = CryptoAccount.fromCBOR(decoded.cbor);
    const outputs = account.getOutputDescriptors().map((o) => o.toString());
    const nested = cli.run(['keys', 'show', 'nested', '--json']).json<Key>();
    expect(outputs).toEqual([
      `wpkh(${pool[0]!.publicKey})`,
      `wpkh(${pool[1]!.publicKey})`,
      `sh(wpkh(${nested.publicKey}))`,
    ]);
    expect(account.getMasterFingerprint()).toHaveLength(4);

    const single = mkdtempSync(join(tmpdir(), 'coldsign-ur-'));
    expect(cli.run(['keys', 'export', 'legacy', '--format', 'descriptor', '--qr', single]).code).toBe(0);
    const one = await decodeFrames(single);
    expect(one.type).toBe('crypto-output');
    const legacy = cli.run(['keys', 'show', 'legacy', '--json']).json<Key>();
    expect(CryptoOutput.fromCBOR(one.cbor).toString()).toBe(`pkh(${legacy.publicKey})`);
  });

  it('refuses an EVM key in a Bitcoin format, an unknown label and an unknown format', () => {
    const evm = cli.run(['keys', 'export', 'treasury', '--format', 'descriptor', '--json']);
    expect(evm.code).toBe(3);
    expect(evm.json<{ error: { code: string } }>().error.code).toBe('KEY_CHAIN_MISMATCH');
    const missing = cli.run(['keys', 'export', 'nope', '--format', 'descriptor', '--json']);
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('KEY_NOT_FOUND');
    expect(cli.run(['keys', 'export', '--format', 'bogus']).code).toBe(2);
    expect(cli.run(['keys', 'export', '--format', 'core', '--qr', out('no-qr')]).code).toBe(2);
    expect(existsSync(out('no-qr'))).toBe(false);
  });
});

async function decodeFrames(dir: string): Promise<{ type: string; cbor: Buffer }> {
  const decoder = new URDecoder();
  for (const name of readdirSync(dir).sort()) {
    for (const text of await nodeQrReader.readImage(new Uint8Array(readFileSync(join(dir, name))))) {
      decoder.receivePart(text.toLowerCase());
    }
  }
  expect(decoder.isSuccess()).toBe(true);
  const ur = decoder.resultUR();
  return { type: ur.type, cbor: ur.cbor };
}
