/**
 * MetaMask's QR keyring (@metamask/eth-qr-keyring, the code MetaMask runs) as the online side of coldsign:
 * paired from `keys export --format metamask` (read back from the QR frame), it builds eth-sign-requests that the
 * real CLI signs in SoftHSM2, reads the eth-signatures back, and ganache mines the transactions. With one and
 * with two EVM keys; requests for another signer's path or fingerprint are refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Common, Hardfork } from '@ethereumjs/common';
import { TransactionFactory, type TypedTransaction } from '@ethereumjs/tx';
import { EthSignRequest, DataType, URRegistryDecoder } from '@keystonehq/bc-ur-registry-eth';
import ganache from 'ganache';
import jsQRModule from 'jsqr';
import { hexlify, parseEther, parseUnits, toUtf8Bytes, verifyMessage, verifyTypedData } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile, encodeUrParts } from '../../qr/index.js';
import { type CliHome } from '../support/cli.js';
import { createApplianceHome } from '../support/appliance-home.js';
import type { QrKeyring } from '@metamask/eth-qr-keyring';
import { pairedKeyring } from './support/metamask.js';

type JsQr = typeof import('jsqr').default;
const jsQR: JsQr = ((jsQRModule as unknown as { default?: JsQr }).default ?? jsQRModule) as JsQr;
type Hex = `0x${string}`;

const RECIPIENT = '0x3535353535353535353535353535353535353535';
const MAIL_DOMAIN = { name: 'Mail', version: '1', chainId: 1337, verifyingContract: RECIPIENT };

const MAIL_TYPES = { Mail: [{ name: 'contents', type: 'string' }] };
/** EIP-712 v4 typed data as a dapp hands it to eth_signTypedData_v4. */
const MAIL = {
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ],
    ...MAIL_TYPES,
  },
  domain: MAIL_DOMAIN,
  primaryType: 'Mail',
  message: { contents: 'Hello, Bob' },
};

type Provider = ReturnType<typeof ganache.provider>;
let cli: CliHome;
const nodes: Record<number, Provider> = {};
const nonces: Record<string, number> = {};
const file = (name: string) => join(cli.dir, name);

/** The `keys export --json` report of a pairing format. */
interface PairingReport {
  fingerprint: string;
  accounts: Array<{ label: string; address: string; path: string }>;
  /** The crypto-account UR parts, one per line. */
  content: string;
  qr: { type: string; frames: string[] } | null;
  warnings: string[];
}

function policy() {
  return {
    version: 1,
    rules: [
      {
        id: 'eth-out',
        chain: 'evm',
        chainIds: [1, 1337],
        kinds: ['transfer'],
        destinations: [{ address: RECIPIENT, label: 'Recipient' }],
        maxAmount: '1',
        maxFee: '0.1',
      },
      { id: 'login', chain: 'evm', chainIds: [1, 1337], kinds: ['message'] },
      // Mail is no typed data coldsign decodes: signing it is blind, and the rule says so
      {
        id: 'mail',
        chain: 'evm',
        chainIds: [1337],
        kinds: ['typed_data'],
        typedDataDomains: [MAIL_DOMAIN],
        allowBlind: true,
      },
    ],
  };
}

function generate(label: string): string {
  const result = cli.run(['keys', 'generate', '--chain', 'evm', '--label', label, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return result.json<{ address: string }>().address;
}

/** `keys export --format metamask --qr DIR`, and the pairing UR as a camera reads it from the first frame. */
function exportPairing(name: string): { report: PairingReport; scanned: string } {
  const result = cli.run(['keys', 'export', '--format', 'metamask', '--qr', file(name), '--json']);
  expect(result.code, result.stderr).toBe(0);
  const report = result.json<PairingReport>();
  expect(report.qr?.type).toBe('crypto-account');
  expect(report.qr?.frames).toHaveLength(1);
  const image = decodeImageFile(readFileSync(report.qr!.frames[0]!));
  const read = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  expect(read).not.toBeNull();
  return { report, scanned: read!.data.toLowerCase() };
}

const rpc = <T>(chainId: number, method: string, params: unknown[] = []): Promise<T> =>
  nodes[chainId]!.request({ method, params } as never) as Promise<T>;

function common(chainId: number): Common {
  return chainId === 1
    ? new Common({ chain: 1, hardfork: Hardfork.Shanghai })
    : Common.custom({ chainId, networkId: chainId }, { hardfork: Hardfork.Shanghai });
}

function unsignedTx(chainId: number, from: string, type: 0 | 2): TypedTransaction {
  const nonce = nonces[`${chainId}:${from}`] ?? 0;
  const base = { nonce, to: RECIPIENT, value: parseEther('0.25'), gasLimit: 21000 };
  const data =
    type === 0
      ? { ...base, type, gasPrice: parseUnits('20', 'gwei') }
      : {
          ...base,
          type,
          maxFeePerGas: parseUnits('20', 'gwei'),
          maxPriorityFeePerGas: parseUnits('1', 'gwei'),
        };
  return TransactionFactory.fromTxData(data as never, { common: common(chainId) });
}

/** Sends the keyring's signed transaction to ganache and returns the receipt status. */
async function mine(chainId: number, from: string, signed: TypedTransaction): Promise<string> {
  expect(signed.getSenderAddress().toString().toLowerCase()).toBe(from.toLowerCase());
  const hash = await rpc<string>(chainId, 'eth_sendRawTransaction', [hexlify(signed.serialize())]);
  nonces[`${chainId}:${from}`] = (nonces[`${chainId}:${from}`] ?? 0) + 1;
  const receipt = await rpc<{ status: string; from: string }>(chainId, 'eth_getTransactionReceipt', [hash]);
  expect(receipt.from.toLowerCase()).toBe(from.toLowerCase());
  return receipt.status;
}

/** The keyring returns the signed transaction object (its type says TypedTxData). */
async function signTx(keyring: QrKeyring, from: string, tx: TypedTransaction): Promise<TypedTransaction> {
  return (await keyring.signTransaction(from as Hex, tx)) as unknown as TypedTransaction;
}

let first: string;

beforeAll(async () => {
  const appliance = createApplianceHome({ keys: [{ chain: 'evm', label: 'mm-1' }], policy });
  cli = appliance.cli;
  first = appliance.keys['mm-1']!.address;
  for (const chainId of [1, 1337]) {
    nodes[chainId] = ganache.provider({
      chain: { chainId, hardfork: 'shanghai' },
      wallet: { totalAccounts: 0 },
      logging: { quiet: true },
    });
    // the provider starts asynchronously; it must be up before it can be disconnected cleanly
    expect(Number(await rpc<string>(chainId, 'eth_chainId'))).toBe(chainId);
  }
});

afterAll(async () => {
  for (const node of Object.values(nodes)) await node.disconnect();
  cli?.cleanup();
});

async function fund(address: string): Promise<void> {
  for (const chainId of [1, 1337])
    await rpc(chainId, 'evm_setAccountBalance', [address, `0x${parseEther('10').toString(16)}`]);
}

describe('MetaMask QR keyring with one EVM key', () => {
  let report: PairingReport;
  let scanned: string;

  beforeAll(async () => {
    ({ report, scanned } = exportPairing('pair-one'));
    await fund(first);
  });

  it("the pairing QR is a crypto-account holding only the HSM key, at m/44'/60'/0'/0/0", () => {
    expect(scanned).toMatch(/^ur:crypto-account\//);
    expect(report.accounts).toEqual([{ label: 'mm-1', address: first, path: "m/44'/60'/0'/0/0" }]);
    expect(report.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    // the MetaMask note: fewer than 5 accounts
    expect(report.warnings.join(' ')).toMatch(/Address not found for index 1/);
  });

  it('the keyring reads the key, fingerprint and path; its 5-account first page fails, as MetaMask does', async () => {
    const { keyring } = pairedKeyring(cli, scanned);
    const state = (await keyring.serialize()) as {
      keyringMode: string;
      xfp: string;
      paths: Record<string, string>;
    };
    expect(state.keyringMode).toBe('account');
    expect(state.xfp).toBe(report.fingerprint);
    expect(state.paths).toEqual({ [first]: "M/44'/60'/0'/0/0" });
    // MetaMask's connect screen asks for a page of 5 accounts; the keyring cannot list what is not there.
    await expect(keyring.getFirstPage()).rejects.toThrow('Address not found for index 1');
  });

  it('pairs by unlocking account 0 (what MetaMask does when an account is chosen) and nothing else', async () => {
    const { keyring } = pairedKeyring(cli, scanned);
    keyring.setAccountToUnlock(0);
    expect(await keyring.addAccounts(1)).toEqual([first]);
    expect(await keyring.getAccounts()).toEqual([first]);
  });

  it.each([
    ['EIP-1559 on chain 1', 1, 2],
    ['EIP-1559 on chain 1337', 1337, 2],
    ['legacy (EIP-155) on chain 1', 1, 0],
    ['legacy (EIP-155) on chain 1337, v needs two bytes', 1337, 0],
  ] as const)(
    'signs %s; the keyring reads the signature back and ganache mines it',
    async (_name, chainId, type) => {
      const { keyring, bridge } = pairedKeyring(cli, scanned);
      keyring.setAccountToUnlock(0);
      await keyring.addAccounts(1);
      const signed = await signTx(keyring, first, unsignedTx(chainId, first, type));
      // EIP-155: v = chainId × 2 + 35 + yParity (2709 or 2710 on chain 1337, more than one byte)
      if (type === 0) expect([chainId * 2 + 35, chainId * 2 + 36]).toContain(Number(signed.v));
      expect(await mine(chainId, first, signed)).toBe('0x1');
      const pairing = bridge.signed[0]!.report.summary.pairing as Record<string, unknown>;
      expect(pairing).toMatchObject({
        path: "m/44'/60'/0'/0/0",
        fingerprint: report.fingerprint,
        key: 'mm-1',
      });
    },
  );

  it('signs personal_sign; the signature recovers to the key', async () => {
    const { keyring } = pairedKeyring(cli, scanned);
    keyring.setAccountToUnlock(0);
    await keyring.addAccounts(1);
    // not 32 bytes: a 32-byte message may be a hash and is blind (docs/evm-requests.md personal_sign)
    const message = 'Sign in to example.org, nonce 4242';
    const signature = await keyring.signPersonalMessage(first as Hex, hexlify(toUtf8Bytes(message)) as Hex);
    expect(verifyMessage(message, signature)).toBe(first);
  });

  it('signs EIP-712 typed data; the signature recovers to the key', async () => {
    const { keyring } = pairedKeyring(cli, scanned);
    keyring.setAccountToUnlock(0);
    await keyring.addAccounts(1);
    const signature = await keyring.signTypedData(first as Hex, MAIL as never);
    expect(verifyTypedData(MAIL_DOMAIN, MAIL_TYPES, MAIL.message, signature)).toBe(first);
  });
});

describe('MetaMask QR keyring with two EVM keys', () => {
  let second: string;
  let report: PairingReport;
  let scanned: string;

  beforeAll(async () => {
    second = generate('mm-2');
    ({ report, scanned } = exportPairing('pair-two'));
    await fund(second);
  });

  it('the first key keeps its path; the second gets the next one', () => {
    expect(report.accounts).toEqual([
      { label: 'mm-1', address: first, path: "m/44'/60'/0'/0/0" },
      { label: 'mm-2', address: second, path: "m/44'/60'/0'/0/1" },
    ]);
  });

  it('routes each transaction (which names only path and fingerprint) to its key; ganache mines both', async () => {
    const { keyring, bridge } = pairedKeyring(cli, scanned);
    keyring.setAccountToUnlock(0);
    expect(await keyring.addAccounts(2)).toEqual([first, second]);
    for (const from of [second, first]) {
      const signed = await signTx(keyring, from, unsignedTx(1337, from, 2));
      expect(await mine(1337, from, signed)).toBe('0x1');
    }
    expect(bridge.signed.map((s) => (s.report.summary.pairing as { key: string }).key)).toEqual([
      'mm-2',
      'mm-1',
    ]);
  });

  it('personal_sign and EIP-712 by the second key recover to it', async () => {
    const { keyring } = pairedKeyring(cli, scanned);
    keyring.setAccountToUnlock(1);
    expect(await keyring.addAccounts(1)).toEqual([second]);
    const signature = await keyring.signPersonalMessage(second as Hex, hexlify(toUtf8Bytes('hello')) as Hex);
    expect(verifyMessage('hello', signature)).toBe(second);
    const typed = await keyring.signTypedData(second as Hex, MAIL as never);
    expect(verifyTypedData(MAIL_DOMAIN, MAIL_TYPES, MAIL.message, typed)).toBe(second);
  });
});

describe('requests meant for another signer are refused (EVM_PAIRING_MISMATCH, nothing signed)', () => {
  function requestFile(name: string, path: string, xfp: string, address?: string): string {
    const tx = unsignedTx(1337, first, 2);
    const request = EthSignRequest.constructETHRequest(
      Buffer.from(tx.getMessageToSign() as Uint8Array),
      DataType.typedTransaction,
      path,
      xfp,
      '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d',
      1337,
      address,
      'evil dapp',
    );
    const target = file(name);
    writeFileSync(target, encodeUrParts('eth-sign-request', new Uint8Array(request.toCBOR())).join('\n'));
    return target;
  }

  function refusal(input: string): string {
    const out = `${input}.out`;
    const result = cli.run(['sign', input, '--out', out, '--json']);
    expect(result.code).toBe(3);
    expect(() => readFileSync(out)).toThrow();
    return (JSON.parse(result.stdout) as { error: { code: string } }).error.code;
  }

  it("another wallet's fingerprint, with our only path", () => {
    expect(refusal(requestFile('other-xfp.ur.txt', "m/44'/60'/0'/0/0", '0badf00d'))).toBe(
      'EVM_PAIRING_MISMATCH',
    );
  });

  it('a path we never exported, with our fingerprint and our address', () => {
    const fingerprint = cli
      .run(['keys', 'export', '--format', 'keystone', '--json'])
      .json<PairingReport>().fingerprint;
    expect(refusal(requestFile('other-path.ur.txt', "m/44'/60'/7'/0/99", fingerprint, first))).toBe(
      'EVM_PAIRING_MISMATCH',
    );
  });

  it('the path of one key with the address of the other', () => {
    const fingerprint = cli
      .run(['keys', 'export', '--format', 'keystone', '--json'])
      .json<PairingReport>().fingerprint;
    expect(refusal(requestFile('crossed.ur.txt', "m/44'/60'/0'/0/1", fingerprint, first))).toBe(
      'EVM_PAIRING_MISMATCH',
    );
  });

  it('the review shows origin, path and fingerprint of a request that is ours', () => {
    const fingerprint = cli
      .run(['keys', 'export', '--format', 'keystone', '--json'])
      .json<PairingReport>().fingerprint;
    const result = cli.run(['inspect', requestFile('ours.ur.txt', "m/44'/60'/0'/0/0", fingerprint)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `Requested by: "evil dapp" for path m/44'/60'/0'/0/0, fingerprint ${fingerprint}`,
    );
  });

  it('the crypto-account decodes with the registry library the keyring uses', () => {
    const scannedAgain = cli
      .run(['keys', 'export', '--format', 'metamask', '--json'])
      .json<PairingReport>()
      .content.split('\n')[0]!;
    expect(URRegistryDecoder.decode(scannedAgain).type).toBe('crypto-account');
  });
});
