/**
 * Keystone's SDK (@keystonehq/keystone-sdk, what Keystone-compatible wallets build on) as the online side:
 * it reads coldsign's crypto-account pairing, builds an eth-sign-request for the exported path and fingerprint
 * and reads coldsign's eth-signature back; it writes a crypto-psbt that coldsign signs and reads the signed
 * crypto-psbt back. The real CLI signs in SoftHSM2.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import KeystoneSDKModule, { KeystoneEthereumSDK, URDecoder, type UR } from '@keystonehq/keystone-sdk';
import { joinQRs, splitQRs } from 'bbqr';
import * as bitcoin from 'bitcoinjs-lib';
import { Signature, Transaction, parseEther, parseUnits } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPsbt } from '../../scripts/demo/coordinator.js';
import { fromHex } from '../../core/bytes.js';
import {
  assembleUr,
  collectPartsFromText,
  decodeCryptoPsbt,
  encodeUrParts,
  type UrType,
} from '../../qr/index.js';
import { type CliHome } from '../support/cli.js';
import { createApplianceHome } from '../support/appliance-home.js';

type Sdk = InstanceType<typeof import('@keystonehq/keystone-sdk').KeystoneSDK>;
const KeystoneSDK = ((KeystoneSDKModule as unknown as { default?: new () => Sdk }).default ??
  KeystoneSDKModule) as unknown as new () => Sdk;

const RECIPIENT = '0x3535353535353535353535353535353535353535';
const EXCHANGE = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';

let cli: CliHome;
let sdk: Sdk;
let ethAddress: string;
let btcAddress: string;
const file = (name: string) => join(cli.dir, name);

/** The UR as the SDK's own decoder reassembles it from coldsign's parts (one, or the frames of an animated UR). */
function readUr(path: string): UR {
  const decoder = new URDecoder();
  for (const part of collectPartsFromText(readFileSync(path, 'utf8'))) decoder.receivePart(part);
  expect(decoder.isSuccess()).toBe(true);
  return decoder.resultUR();
}

/** Hands a UR built by the SDK to `coldsign sign` and returns the file it wrote. */
function signUr(name: string, ur: UR, extra: string[] = []): string {
  const input = file(`${name}.ur.txt`);
  const output = file(`${name}.signed.ur.txt`);
  writeFileSync(input, encodeUrParts(ur.type as UrType, new Uint8Array(ur.cbor)).join('\n'));
  const result = cli.run(['sign', input, '--out', output, ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return output;
}

beforeAll(() => {
  sdk = new KeystoneSDK();
  const policy = () => ({
    version: 1,
    rules: [
      {
        id: 'eth-out',
        chain: 'evm',
        chainIds: [1],
        kinds: ['transfer'],
        destinations: [{ address: RECIPIENT, label: 'Recipient' }],
        maxAmount: '1',
        maxFee: '0.1',
      },
      {
        id: 'btc-out',
        chain: 'btc',
        network: 'mainnet',
        destinations: [{ address: EXCHANGE, label: 'Exchange' }],
        maxAmount: '1',
        maxFeeRate: 100,
      },
    ],
  });
  const appliance = createApplianceHome({
    keys: [
      { chain: 'evm', label: 'ks-evm' },
      { chain: 'btc', label: 'ks-btc' },
    ],
    policy,
  });
  cli = appliance.cli;
  ethAddress = appliance.keys['ks-evm']!.address;
  btcAddress = appliance.keys['ks-btc']!.address;
});

afterAll(() => cli?.cleanup());

describe('Keystone SDK: EVM', () => {
  it('reads the keystone pairing, asks for a signature at the exported path, and reads it back', () => {
    const exported = cli.run(['keys', 'export', '--format', 'keystone', '--out', file('pairing.ur.txt')]);
    expect(exported.code, exported.stderr).toBe(0);
    const account = sdk.parseAccount(readUr(file('pairing.ur.txt')));
    expect(account.keys).toHaveLength(1);
    const [key] = account.keys;
    expect(key!.path).toBe("m/44'/60'/0'/0/0");

    const tx = Transaction.from({
      type: 2,
      chainId: 1,
      nonce: 7,
      to: RECIPIENT,
      value: parseEther('0.1'),
      gasLimit: 21000,
      maxFeePerGas: parseUnits('30', 'gwei'),
      maxPriorityFeePerGas: parseUnits('1', 'gwei'),
    });
    const requestId = randomUUID();
    const request = sdk.eth.generateSignRequest({
      requestId,
      signData: tx.unsignedSerialized.slice(2),
      dataType: KeystoneEthereumSDK.DataType.typedTransaction,
      path: key!.path,
      xfp: account.masterFingerprint,
      chainId: 1,
      origin: 'keystone sdk test',
    });
    const answer = sdk.eth.parseSignature(readUr(signUr('eth', request)));
    expect(answer.requestId).toBe(requestId);
    const signature = fromHex(answer.signature);
    expect(signature).toHaveLength(65);
    tx.signature = Signature.from({
      r: `0x${answer.signature.slice(0, 64)}`,
      s: `0x${answer.signature.slice(64, 128)}`,
      v: signature[64]!,
    });
    expect(tx.from).toBe(ethAddress);
  });
});

describe('Keystone SDK: crypto-psbt both ways', () => {
  it('signs the PSBT the SDK wrote as crypto-psbt; the SDK reads the signed PSBT back', () => {
    const psbtBase64 = buildPsbt(btcAddress, EXCHANGE, 10_000_000n, 2_000n, [8_000_000n, 5_000_000n]);
    const request = sdk.btc.generatePSBT(Buffer.from(psbtBase64, 'base64'));
    expect(request.type).toBe('crypto-psbt');
    const signedHex = sdk.btc.parsePSBT(readUr(signUr('btc', request)));
    const signed = bitcoin.Psbt.fromHex(signedHex);
    expect(signed.inputCount).toBe(2);
    // every input carries our signature (partial, or final when coldsign finalized it)
    signed.data.inputs.forEach((input) => {
      expect(Boolean(input.partialSig?.length || input.finalScriptWitness)).toBe(true);
    });
    expect(signed.txOutputs[0]!.address).toBe(EXCHANGE);
  });

  it('--ur-type psbt answers the same crypto-psbt request as ur:psbt', () => {
    const psbtBase64 = buildPsbt(btcAddress, EXCHANGE, 20_000_000n, 2_000n, [25_000_000n]);
    const request = sdk.btc.generatePSBT(Buffer.from(psbtBase64, 'base64'));
    const output = signUr('btc-as-psbt', request, ['--ur-type', 'psbt']);
    const parts = collectPartsFromText(readFileSync(output, 'utf8'));
    expect(parts.every((part) => part.startsWith('ur:psbt/'))).toBe(true);
    const signed = bitcoin.Psbt.fromBuffer(Buffer.from(decodeCryptoPsbt(assembleUr(parts))));
    expect(signed.txOutputs[0]!.address).toBe(EXCHANGE);
  });
});

describe('BBQr (the bbqr package as the online side, as Sparrow or a Coldcard Q writes it)', () => {
  it('a PSBT sent as compressed BBQr is signed and answered as BBQr that bbqr reads back', () => {
    const psbt = Buffer.from(buildPsbt(btcAddress, EXCHANGE, 30_000_000n, 2_000n, [35_000_000n]), 'base64');
    const { parts } = splitQRs(new Uint8Array(psbt), 'P', { encoding: 'Z', maxVersion: 10 });
    const input = file('bbqr-request.txt');
    const output = file('bbqr-signed.txt');
    writeFileSync(input, parts.join('\n'));
    const result = cli.run(['sign', input, '--out', output]);
    expect(result.code, result.stderr).toBe(0);
    const answer = collectPartsFromText(readFileSync(output, 'utf8'));
    expect(answer.every((part) => part.startsWith('B$2P'))).toBe(true);
    const joined = joinQRs(answer);
    expect(joined.fileType).toBe('P');
    const signed = bitcoin.Psbt.fromBuffer(Buffer.from(joined.raw));
    expect(signed.txOutputs[0]!.address).toBe(EXCHANGE);
    expect(
      Boolean(signed.data.inputs[0]!.partialSig?.length || signed.data.inputs[0]!.finalScriptWitness),
    ).toBe(true);
  });
});
