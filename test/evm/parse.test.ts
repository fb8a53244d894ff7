/** parseEvmRequest / fromEthSignRequest: content detection, the JSON documents, canonical bytes, refusals. */
import { describe, expect, it } from 'vitest';
import { Transaction, Wallet, encodeRlp, getAddress, getBytes, hexlify, toUtf8Bytes } from 'ethers';
import { fromEthSignRequest, parseEvmRequest, summarizeEvm } from '../../chains/evm/index.js';
import { MAX_REQUEST_BYTES } from '../../chains/evm/request.js';
import { doc, expectCode, utf8 } from './helpers.js';
import { BOB, KEY_A, SECRET_B, authorization, unsignedHex } from './fixtures.js';

const MAIL = {
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'chainId', type: 'uint256' },
    ],
    Note: [{ name: 'text', type: 'string' }],
  },
  primaryType: 'Note',
  domain: { name: 'Notes', chainId: 1 },
  message: { text: 'hello' },
};

describe('unsigned transaction hex', () => {
  for (const type of [0, 1, 2] as const) {
    it(`parses a type ${type} transaction from hex text, and its canonical bytes are the unsigned serialization`, () => {
      const hex = unsignedHex({ type });
      const parsed = parseEvmRequest(utf8(hex));
      expect(parsed.kind).toBe('transaction');
      if (parsed.kind !== 'transaction') return;
      expect(parsed.txType).toBe(type);
      expect(parsed.chainId).toBe(1);
      expect(hexlify(parsed.canonical)).toBe(hex);
      expect(parsed.source).toEqual({ format: 'hex' });
    });
  }

  it('accepts hex without 0x, with surrounding whitespace, and raw binary bytes', () => {
    const hex = unsignedHex({ type: 2 });
    for (const input of [utf8(hex.slice(2)), utf8(`\n  ${hex}\r\n`), getBytes(hex)]) {
      const parsed = parseEvmRequest(input);
      expect(hexlify(parsed.canonical)).toBe(hex);
    }
    expect(parseEvmRequest(getBytes(hex)).source).toEqual({ format: 'binary' });
  });

  it('parses an EIP-7702 (type 4) transaction and shows each authorization with its recovered authority', () => {
    const auth = authorization(SECRET_B, '0x000000000000000000000000000000000000c0de');
    const hex = unsignedHex({ type: 4, to: BOB, authorizationList: [auth] });
    const parsed = parseEvmRequest(utf8(hex));
    expect(parsed.kind === 'transaction' && parsed.txType).toBe(4);
    const { summary } = summarizeEvm(parsed, [KEY_A], []);
    const expectedAuthority = new Wallet(hexlify(SECRET_B)).address;
    expect(summary.details.authorizations).toEqual([
      {
        chainId: '1',
        address: getAddress('0x000000000000000000000000000000000000c0de'),
        nonce: '0',
        authority: expectedAuthority,
      },
    ]);
    expect(summary.warnings.join(' ')).toContain(`account ${expectedAuthority} delegates its code`);
  });

  it('refuses a legacy transaction without EIP-155 chainId (6 fields) with EVM_CHAIN_ID_MISSING', () => {
    const hex = Transaction.from({
      type: 0,
      chainId: 0n,
      nonce: 1,
      gasLimit: 21000n,
      gasPrice: 1n,
      to: BOB,
      value: 1n,
    }).unsignedSerialized;
    expectCode(() => parseEvmRequest(utf8(hex)), 'EVM_CHAIN_ID_MISSING');
  });

  it('refuses chainId 0 in a 9-field legacy transaction and in a typed transaction', () => {
    const legacy = encodeRlp(['0x01', '0x01', '0x5208', BOB, '0x01', '0x', '0x', '0x', '0x']);
    expectCode(() => parseEvmRequest(utf8(legacy)), 'EVM_CHAIN_ID_MISSING');
    expectCode(() => parseEvmRequest(utf8(unsignedHex({ type: 2, chainId: 0n }))), 'EVM_CHAIN_ID_MISSING');
  });

  it('refuses EIP-4844 blob transactions and unknown types with EVM_TX_UNSUPPORTED', () => {
    expectCode(() => parseEvmRequest(utf8('0x03f8c0')), 'EVM_TX_UNSUPPORTED');
    expectCode(() => parseEvmRequest(utf8('0x05c0')), 'EVM_TX_UNSUPPORTED');
  });

  it('refuses already signed transactions', () => {
    const wallet = new Wallet(hexlify(SECRET_B));
    const signed = wallet.signingKey.sign(Transaction.from(unsignedHex({ type: 2 })).unsignedHash);
    const tx = Transaction.from(unsignedHex({ type: 2 }));
    tx.signature = signed;
    expectCode(() => parseEvmRequest(utf8(tx.serialized)), 'EVM_TX_INVALID');
  });

  it('refuses a bare 32-byte hash as eth_sign', () => {
    expectCode(() => parseEvmRequest(utf8(`0x${'ab'.repeat(32)}`)), 'EVM_ETH_SIGN_REFUSED');
  });

  it('refuses empty, unrecognized and oversized input', () => {
    expectCode(() => parseEvmRequest(utf8('  \n')), 'INPUT_EMPTY');
    expectCode(() => parseEvmRequest(utf8('hello world')), 'INPUT_UNRECOGNIZED');
    expectCode(() => parseEvmRequest(utf8('0x123')), 'INPUT_UNRECOGNIZED');
    expectCode(() => parseEvmRequest(new Uint8Array([0x80, 0xff, 0xfe])), 'INPUT_UNRECOGNIZED');
    expectCode(() => parseEvmRequest(new Uint8Array(MAX_REQUEST_BYTES + 1).fill(0x30)), 'INPUT_TOO_LARGE');
  });
});

describe('JSON request documents', () => {
  it('a transaction document gives the same canonical bytes as the equivalent hex, and keeps "from"', () => {
    const parsed = parseEvmRequest(
      doc({
        type: 'transaction',
        from: KEY_A.address.toLowerCase(),
        chainId: 1,
        nonce: 7,
        to: BOB,
        value: '0',
        gasLimit: '21000',
        maxFeePerGas: '0x6fc23ac00',
        maxPriorityFeePerGas: '1000000000',
      }),
    );
    expect(hexlify(parsed.canonical)).toBe(unsignedHex({ type: 2 }));
    expect(parsed.from).toBe(KEY_A.address);
  });

  it('a transaction document may carry the unsigned hex as "raw"', () => {
    const hex = unsignedHex({ type: 1 });
    const parsed = parseEvmRequest(doc({ type: 'transaction', from: KEY_A.address, raw: hex }));
    expect(hexlify(parsed.canonical)).toBe(hex);
    expect(parsed.from).toBe(KEY_A.address);
  });

  it('infers the type: gasPrice → legacy, gasPrice + accessList → 1, fee caps → 2', () => {
    const base = { type: 'transaction', chainId: 5, nonce: 0, to: BOB, gasLimit: 21000 };
    const t = (extra: object) => {
      const p = parseEvmRequest(doc({ ...base, ...extra }));
      return p.kind === 'transaction' ? p.txType : -1;
    };
    expect(t({ gasPrice: 1 })).toBe(0);
    expect(t({ gasPrice: 1, accessList: [] })).toBe(1);
    expect(t({ maxFeePerGas: 2, maxPriorityFeePerGas: 1 })).toBe(2);
  });

  it('refuses inconsistent or unknown transaction fields', () => {
    const base = { type: 'transaction', chainId: 1, nonce: 0, to: BOB, gasLimit: 21000 };
    expectCode(
      () => parseEvmRequest(doc({ ...base, gasPrice: 1, maxFeePerGas: 2, maxPriorityFeePerGas: 1 })),
      'REQUEST_INVALID',
    );
    expectCode(() => parseEvmRequest(doc({ ...base, gasPrice: 1, colour: 'red' })), 'REQUEST_INVALID');
    expectCode(() => parseEvmRequest(doc({ ...base, txType: 2, gasPrice: 1 })), 'REQUEST_INVALID');
    expectCode(() => parseEvmRequest(doc({ ...base, gasPrice: 1, value: '-1' })), 'REQUEST_INVALID');
    expectCode(() => parseEvmRequest(doc({ ...base, gasPrice: 1, to: '0x1234' })), 'REQUEST_INVALID');
    expectCode(() => parseEvmRequest(doc({ ...base, gasPrice: 1, chainId: 0 })), 'EVM_CHAIN_ID_MISSING');
    expectCode(
      () =>
        parseEvmRequest(doc({ ...base, gasPrice: 1, from: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbb' })),
      'REQUEST_INVALID',
    );
  });

  it('personal_sign: text and hex forms of the same bytes have the same canonical JSON', () => {
    const a = parseEvmRequest(doc({ type: 'personal_sign', message: 'hi' }));
    const b = parseEvmRequest(doc({ type: 'personal_sign', messageHex: '0x6869' }));
    expect(new TextDecoder().decode(a.canonical)).toBe(
      '{"from":null,"messageHex":"0x6869","type":"personal_sign"}',
    );
    expect(b.canonical).toEqual(a.canonical);
    expectCode(
      () => parseEvmRequest(doc({ type: 'personal_sign', message: 'x', messageHex: '0x78' })),
      'EVM_MESSAGE_INVALID',
    );
    expectCode(() => parseEvmRequest(doc({ type: 'personal_sign' })), 'EVM_MESSAGE_INVALID');
  });

  it('typed_data: an object and its JSON text give the same canonical JSON, independent of key order', () => {
    const a = parseEvmRequest(doc({ type: 'typed_data', typedData: MAIL }));
    const b = parseEvmRequest(doc({ type: 'typed_data', typedData: JSON.stringify(MAIL) }));
    const reordered = {
      message: MAIL.message,
      domain: { chainId: 1, name: 'Notes' },
      primaryType: 'Note',
      types: MAIL.types,
    };
    const c = parseEvmRequest(doc({ typedData: reordered, type: 'typed_data' }));
    expect(b.canonical).toEqual(a.canonical);
    expect(c.canonical).toEqual(a.canonical);
  });

  it('refuses eth_sign and unknown request types', () => {
    expectCode(
      () => parseEvmRequest(doc({ type: 'eth_sign', hash: `0x${'00'.repeat(32)}` })),
      'EVM_ETH_SIGN_REFUSED',
    );
    expectCode(() => parseEvmRequest(doc({ type: 'sign_everything' })), 'REQUEST_INVALID');
    expectCode(() => parseEvmRequest(utf8('[1,2]')), 'INPUT_UNRECOGNIZED');
    expectCode(() => parseEvmRequest(utf8('{"type": "personal_sign",')), 'REQUEST_INVALID');
  });
});

describe('ERC-4527 eth-sign-request data types', () => {
  it('1: legacy RLP; 4: typed transaction; the request chainId and address are checked and kept', () => {
    const legacy = getBytes(unsignedHex({ type: 0 }));
    const typed = getBytes(unsignedHex({ type: 2 }));
    const a = fromEthSignRequest({ dataType: 1, signData: legacy, chainId: 1, address: KEY_A.address });
    expect(a.kind === 'transaction' && a.txType).toBe(0);
    expect(a.from).toBe(KEY_A.address);
    expect(a.source).toEqual({ format: 'eth-sign-request', dataType: 1, chainId: 1, address: KEY_A.address });
    const b = fromEthSignRequest({ dataType: 4, signData: typed });
    expect(b.kind === 'transaction' && b.txType).toBe(2);
    expectCode(() => fromEthSignRequest({ dataType: 1, signData: typed }), 'EVM_TX_INVALID');
    expectCode(() => fromEthSignRequest({ dataType: 4, signData: legacy }), 'EVM_TX_INVALID');
    expectCode(() => fromEthSignRequest({ dataType: 4, signData: typed, chainId: 137 }), 'EVM_TX_INVALID');
  });

  it('2: typed data JSON; 3: personal message bytes', () => {
    const t = fromEthSignRequest({ dataType: 2, signData: toUtf8Bytes(JSON.stringify(MAIL)) });
    expect(t.kind).toBe('typed_data');
    expect(t.canonical).toEqual(parseEvmRequest(doc({ type: 'typed_data', typedData: MAIL })).canonical);
    const m = fromEthSignRequest({ dataType: 3, signData: toUtf8Bytes('hi') });
    expect(m.kind === 'message' && hexlify(m.message)).toBe('0x6869');
    expectCode(
      () => fromEthSignRequest({ dataType: 2, signData: new Uint8Array([0xff]) }),
      'EVM_TYPED_DATA_INVALID',
    );
    expect(
      fromEthSignRequest({ dataType: 2, signData: toUtf8Bytes(JSON.stringify(MAIL)), chainId: 1 }).kind,
    ).toBe('typed_data');
    expectCode(
      () => fromEthSignRequest({ dataType: 2, signData: toUtf8Bytes(JSON.stringify(MAIL)), chainId: 10 }),
      'EVM_TYPED_DATA_INVALID',
    );
    expectCode(() => fromEthSignRequest({ dataType: 7 as 1, signData: new Uint8Array() }), 'UR_INVALID');
    expectCode(
      () => fromEthSignRequest({ dataType: 3, signData: toUtf8Bytes('hi'), address: '0xnothex' }),
      'REQUEST_INVALID',
    );
  });
});
