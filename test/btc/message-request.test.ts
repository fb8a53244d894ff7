// Bitcoin message requests (pure): detection by content before EVM JSON, strict parsing, routing to our key
// by address, the format per script type, and the request id. Keys are throwaway in-memory keys.
import { describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { detectPayload } from '../../core/pipeline/intake.js';
import { prepareRequest } from '../../core/pipeline/prepare.js';
import { btcAddress } from '../../chains/btc/address.js';
import { parseBtcMessageRequest, planBtcMessage } from '../../chains/btc/message-request.js';
import { toHex } from '../../core/bytes.js';
import type { BtcNetwork, BtcScriptType, KeyRecord } from '../../core/signer.js';
import { isColdsignError } from '../../core/errors.js';

function key(label: string, script: BtcScriptType, network: BtcNetwork = 'mainnet'): KeyRecord {
  const publicKey = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
  return {
    label,
    chain: 'btc',
    publicKey: toHex(publicKey),
    keyId: toHex(publicKey.subarray(1, 21)),
    address: btcAddress(publicKey, script, network),
    network,
    script,
    createdAt: '2026-01-01T00:00:00Z',
  };
}

const bytes = (doc: unknown) => new TextEncoder().encode(typeof doc === 'string' ? doc : JSON.stringify(doc));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isColdsignError(error) ? error.code : 'not a coldsign error';
  }
  return undefined;
}

const wpkh = key('w', 'p2wpkh');
const pkh = key('p', 'p2pkh');
const sh = key('s', 'p2sh-p2wpkh');
const tw = key('t', 'p2wpkh', 'testnet');
const keys = [wpkh, pkh, sh, tw];

describe('detection', () => {
  it('a "type": "bip322" document is a Bitcoin message request, not an EVM request', () => {
    const payload = detectPayload(bytes({ type: 'bip322', address: wpkh.address, message: 'hi' }), {
      kind: 'file',
    });
    expect(payload.chain).toBe('btc');
    expect('messageRequest' in payload).toBe(true);
    const evm = detectPayload(bytes({ type: 'personal_sign', message: 'hi' }), { kind: 'file' });
    expect(evm.chain).toBe('evm');
  });
});

describe('parsing and routing', () => {
  it('routes to our key by address (bech32 in upper case too) and picks the default format per script', () => {
    const plan = planBtcMessage(
      parseBtcMessageRequest(bytes({ type: 'bip322', address: wpkh.address.toUpperCase(), message: 'x' })),
      keys,
    );
    expect(plan).toMatchObject({ keyLabel: 'w', format: 'bip322', network: 'mainnet' });
    const legacy = planBtcMessage(
      parseBtcMessageRequest(bytes({ type: 'bip322', address: pkh.address, message: 'x' })),
      keys,
    );
    expect(legacy).toMatchObject({ keyLabel: 'p', format: 'legacy' });
    const testnet = planBtcMessage(
      parseBtcMessageRequest(bytes({ type: 'bip322', address: tw.address, message: 'x' })),
      keys,
    );
    expect(testnet).toMatchObject({ keyLabel: 't', network: 'testnet' });
  });

  it('refuses what it cannot sign, each with its code', () => {
    const plan = (doc: unknown) => () => planBtcMessage(parseBtcMessageRequest(bytes(doc)), keys);
    expect(codeOf(plan({ type: 'bip322', address: key('x', 'p2wpkh').address, message: 'x' }))).toBe(
      'BTC_MESSAGE_ADDRESS_NOT_OURS',
    );
    // Our key's hash on another network is another address: not ours.
    expect(
      codeOf(
        plan({
          type: 'bip322',
          address: btcAddress(Buffer.from(wpkh.publicKey, 'hex'), 'p2wpkh', 'testnet'),
          message: 'x',
        }),
      ),
    ).toBe('BTC_MESSAGE_ADDRESS_NOT_OURS');
    expect(codeOf(plan({ type: 'bip322', address: pkh.address, message: 'x', format: 'bip322' }))).toBe(
      'BTC_MESSAGE_FORMAT_UNSUPPORTED',
    );
    expect(codeOf(plan({ type: 'bip322', address: sh.address, message: 'x', format: 'legacy' }))).toBe(
      'BTC_MESSAGE_FORMAT_UNSUPPORTED',
    );
    expect(codeOf(plan({ type: 'bip322', address: 'not an address', message: 'x' }))).toBe(
      'BTC_MESSAGE_INVALID',
    );
    expect(codeOf(plan({ type: 'bip322', address: wpkh.address, message: '\ud800' }))).toBe(
      'BTC_MESSAGE_INVALID',
    );
    expect(codeOf(plan({ type: 'bip322', address: wpkh.address, message: 'abc', encoding: 'hex' }))).toBe(
      'BTC_MESSAGE_INVALID',
    );
    expect(codeOf(plan([1, 2]))).toBe('BTC_MESSAGE_INVALID');
    expect(codeOf(plan('{"type":"bip322","type":"bip322","address":"a","message":"m"}'))).toBe(
      'JSON_DUPLICATE_KEY',
    );
  });

  it('shows non-printable messages as hex only, with a warning', async () => {
    const doc = { type: 'bip322', address: wpkh.address, message: '00ff', encoding: 'hex' };
    const prepared = await prepareRequest(
      { chain: 'btc', messageRequest: bytes(doc), transport: { kind: 'file' } },
      keys,
      {
        tokens: [],
      },
    );
    expect(prepared.summary.message).toEqual({ text: null, hex: '0x00ff' });
    expect(prepared.summary.warnings.length).toBe(1);
  });

  it('the request id depends on address, format and message bytes, not on how the message was written', async () => {
    const id = async (doc: unknown) =>
      (
        await prepareRequest(
          { chain: 'btc', messageRequest: bytes(doc), transport: { kind: 'file' } },
          keys,
          { tokens: [] },
        )
      ).requestId;
    const text = await id({ type: 'bip322', address: wpkh.address, message: 'Hello' });
    expect(await id({ type: 'bip322', address: wpkh.address, message: '48656c6c6f', encoding: 'hex' })).toBe(
      text,
    );
    expect(await id({ type: 'bip322', address: wpkh.address, message: 'Hello', format: 'legacy' })).not.toBe(
      text,
    );
    expect(await id({ type: 'bip322', address: wpkh.address, message: 'Hello!' })).not.toBe(text);
  });
});
