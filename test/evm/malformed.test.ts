/** Hostile input: malformed RLP, wrong field counts, oversized values, bad typed data, and fuzzing (fast-check). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRlp, encodeRlp, getBytes, hexlify, toBeHex } from 'ethers';
import { isColdsignError } from '../../core/errors.js';
import { parseEvmRequest, signEvm, summarizeEvm } from '../../chains/evm/index.js';
import { MAX_TX_BYTES } from '../../chains/evm/tx.js';
import { doc, expectCode, PublishedKeySigner, utf8 } from './helpers.js';
import { BOB, KEY_A, SECRET_A, SECRET_B, authorization, unsignedHex } from './fixtures.js';

type Rlp = string | Rlp[];
const fields = (hex: string): Rlp[] =>
  decodeRlp(
    hex.startsWith('0xc') || hex.startsWith('0xd') || hex.startsWith('0xe') || hex.startsWith('0xf')
      ? hex
      : `0x${hex.slice(4)}`,
  ) as Rlp[];
const typed = (type: number, list: Rlp[]) =>
  type === 0 ? encodeRlp(list) : `0x0${type}${encodeRlp(list).slice(2)}`;

describe('malformed transactions', () => {
  const legacy = unsignedHex({ type: 0 });
  const eip1559 = unsignedHex({ type: 2 });

  it('truncated RLP, trailing bytes and a list header longer than its payload', () => {
    expectCode(() => parseEvmRequest(utf8(eip1559.slice(0, -2))), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(utf8(`${legacy}00`)), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(utf8(`${eip1559}c0`)), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(utf8(`0xf9ffff${legacy.slice(6)}`)), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(utf8('0x02')), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(utf8('0x02820102')), 'EVM_TX_INVALID');
  });

  it('non-canonical integers (leading zeros) and non-minimal lengths', () => {
    const f = fields(eip1559);
    f[1] = '0x0007'; // nonce with a leading zero byte
    expectCode(() => parseEvmRequest(utf8(typed(2, f))), 'EVM_TX_INVALID');
    const l = fields(legacy);
    l[0] = '0x00';
    expectCode(() => parseEvmRequest(utf8(typed(0, l))), 'EVM_TX_INVALID');
    // RLP: a single byte below 0x80 is its own encoding; 0x8107 (a one-byte string) for nonce 7 is non-minimal.
    const header = Number(`0x${legacy.slice(2, 4)}`);
    expect(header).toBeLessThan(0xf8); // a short list: one header byte, then the nonce 0x07
    expect(legacy.slice(4, 6)).toBe('07');
    expectCode(() => parseEvmRequest(utf8(`${toBeHex(header + 1)}8107${legacy.slice(6)}`)), 'EVM_TX_INVALID');
  });

  it('wrong field counts for each type', () => {
    const l = fields(legacy);
    for (const n of [5, 7, 8, 10]) {
      const list = n <= l.length ? l.slice(0, n) : [...l, '0x'];
      expectCode(
        () => parseEvmRequest(utf8(typed(0, list))),
        n === 6 ? 'EVM_CHAIN_ID_MISSING' : 'EVM_TX_INVALID',
      );
    }
    const t = fields(eip1559);
    for (const list of [t.slice(0, 8), [...t, '0x']])
      expectCode(() => parseEvmRequest(utf8(typed(2, list))), 'EVM_TX_INVALID');
    const a = fields(unsignedHex({ type: 1 }));
    expectCode(() => parseEvmRequest(utf8(typed(1, a.slice(0, 7)))), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(utf8(typed(4, t))), 'EVM_TX_INVALID');
  });

  it('fields of the wrong shape: a list where an integer or address belongs, a 19-byte address', () => {
    const f = fields(eip1559);
    expectCode(() => parseEvmRequest(utf8(typed(2, [f[0]!, [], ...f.slice(2)]))), 'EVM_TX_INVALID');
    const g = [...f];
    g[5] = `0x${'11'.repeat(19)}`;
    expectCode(() => parseEvmRequest(utf8(typed(2, g))), 'EVM_TX_INVALID');
    const h = [...f];
    h[8] = '0x01'; // access list given as a string
    expectCode(() => parseEvmRequest(utf8(typed(2, h))), 'EVM_TX_INVALID');
  });

  it('oversized values: value > 2^256, nonce ≥ 2^64 - 1, gas limit > 2^64, chainId > 2^53, a transaction > 128 KiB', () => {
    const f = fields(eip1559);
    const set = (i: number, v: string) => {
      const g = [...f];
      g[i] = v;
      return utf8(typed(2, g));
    };
    expectCode(() => parseEvmRequest(set(6, `0x01${'00'.repeat(32)}`)), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(set(1, '0xffffffffffffffff')), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(set(4, '0x010000000000000000')), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(set(0, '0x20000000000000')), 'EVM_TX_INVALID');
    expectCode(() => parseEvmRequest(set(3, '0x01')), 'EVM_TX_INVALID'); // maxFeePerGas below the priority fee
    expectCode(() => parseEvmRequest(set(4, '0x')), 'EVM_TX_INVALID'); // gas limit 0
    const big = unsignedHex({ type: 2, gasLimit: 10_000_000n, data: `0x${'ab'.repeat(MAX_TX_BYTES)}` });
    expectCode(() => parseEvmRequest(getBytes(big)), 'INPUT_TOO_LARGE');
  });

  it('EIP-7702: empty authorization list and contract creation are refused', () => {
    const t = fields(unsignedHex({ type: 4, authorizationList: [authorization(SECRET_B, BOB)] }));
    const empty = [...t];
    empty[9] = [];
    expectCode(() => parseEvmRequest(utf8(typed(4, empty))), 'EVM_TX_INVALID');
    const create = [...t];
    create[5] = '0x';
    expectCode(() => parseEvmRequest(utf8(typed(4, create))), 'EVM_TX_INVALID');
  });
});

describe('bad typed data', () => {
  const good = {
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' },
        { name: 'chainId', type: 'uint256' },
      ],
      Person: [
        { name: 'name', type: 'string' },
        { name: 'wallet', type: 'address' },
      ],
      Mail: [
        { name: 'from', type: 'Person' },
        { name: 'contents', type: 'string' },
        { name: 'ids', type: 'uint8[2]' },
      ],
    },
    primaryType: 'Mail',
    domain: { name: 'Mail', chainId: 1 },
    message: { from: { name: 'Cow', wallet: BOB }, contents: 'hi', ids: [1, 2] },
  };
  type TD = typeof good & Record<string, unknown>;
  const clone = (): TD => JSON.parse(JSON.stringify(good)) as TD;
  const req = (typedData: unknown) => doc({ type: 'typed_data', typedData });
  const bad = (mutate: (t: TD) => unknown) => {
    const t = clone();
    const replaced = mutate(t);
    expectCode(() => parseEvmRequest(req(replaced ?? t)), 'EVM_TYPED_DATA_INVALID');
  };

  it('the unmodified document is valid', () => {
    expect(parseEvmRequest(req(good)).kind).toBe('typed_data');
  });
  it('missing types: an undeclared struct type, no EIP712Domain, no types at all', () => {
    bad((t) => void delete (t.types as Record<string, unknown>).Person);
    bad((t) => void delete (t.types as Record<string, unknown>).EIP712Domain);
    bad((t) => void delete (t as Record<string, unknown>).types);
  });
  it('recursive types: direct and mutual', () => {
    bad((t) => void t.types.Person.push({ name: 'friend', type: 'Person' }));
    bad((t) => void t.types.Person.push({ name: 'mail', type: 'Mail[]' }));
  });
  it('mismatched domain: declared fields missing, reordered, extra domain key, unknown domain key', () => {
    bad((t) => void t.types.EIP712Domain.push({ name: 'version', type: 'string' }));
    bad((t) => void t.types.EIP712Domain.reverse());
    bad((t) => void Object.assign(t.domain, { version: '1' }));
    bad((t) => void Object.assign(t.domain, { origin: 'x' }));
    bad((t) => void Object.assign(t.domain, { chainId: -1 }));
    bad((t) => void Object.assign(t.domain, { salt: '0x1234' }));
    bad((t) => void (t.types.EIP712Domain[1]!.type = 'uint64'));
  });
  it('primaryType, message shape and values', () => {
    bad((t) => void (t.primaryType = 'Person'));
    bad((t) => void (t.primaryType = 'EIP712Domain'));
    bad((t) => void Object.assign(t.message, { hidden: 'not hashed' }));
    bad((t) => void delete (t.message as Record<string, unknown>).contents);
    bad((t) => void (t.message.ids = [1, 300]));
    bad((t) => void (t.message.ids = [1, 2, 3]));
    bad((t) => void (t.message.from.wallet = '0x1234'));
    bad((t) => void Object.assign(t, { extra: 1 }));
    bad((t) => void t.types.Person.push({ name: 'name', type: 'string' }));
    bad(() => '{not json');
    bad(() => [good]);
  });
  it('deeply nested arrays are refused, not a stack overflow: EVM_TYPED_DATA_TOO_LARGE', () => {
    const depth = 40;
    const t = clone();
    t.types.Mail.push({ name: 'deep', type: `uint8${'[]'.repeat(depth)}` });
    let v: unknown = [1];
    for (let i = 1; i < depth; i++) v = [v];
    Object.assign(t.message, { deep: v });
    expectCode(() => parseEvmRequest(req(t)), 'EVM_TYPED_DATA_TOO_LARGE');
  });

  it('bounded work: a 60,000-element array and 9,000 values over small arrays end in EVM_TYPED_DATA_TOO_LARGE', () => {
    const long = clone();
    long.types.Mail.push({ name: 'list', type: 'uint8[]' });
    Object.assign(long.message, { list: new Array(60_000).fill(1) });
    expectCode(() => parseEvmRequest(req(long)), 'EVM_TYPED_DATA_TOO_LARGE');
    const wide = clone();
    wide.types.Mail.push({ name: 'grid', type: 'uint8[][]' });
    Object.assign(wide.message, { grid: new Array(9).fill(new Array(1000).fill(1)) });
    expectCode(() => parseEvmRequest(req(wide)), 'EVM_TYPED_DATA_TOO_LARGE');
    // Just inside both caps is still accepted.
    const fits = clone();
    fits.types.Mail.push({ name: 'list', type: 'uint8[]' });
    Object.assign(fits.message, { list: new Array(1024).fill(1) });
    expect(parseEvmRequest(req(fits)).kind).toBe('typed_data');
  });
});

describe('fuzzing (fast-check, 12,000 cases): every input ends in a ColdsignError or a verified signature', () => {
  const signer = new PublishedKeySigner(SECRET_A);
  const key = { ...KEY_A };

  /** Runs the whole chain; on error nothing may have been signed. */
  async function pipeline(input: Uint8Array): Promise<void> {
    const before = signer.calls.length;
    let parsed;
    try {
      parsed = parseEvmRequest(input);
      const { plan } = summarizeEvm(parsed, [key], []);
      const signed = await signEvm(parsed, plan, signer);
      expect(signed.address).toBe(key.address);
    } catch (error) {
      if (!isColdsignError(error)) throw error;
      expect(error.message.length).toBeGreaterThan(0);
      expect(signer.calls.length).toBe(before);
    }
  }

  const validTxs = [
    unsignedHex({ type: 0 }),
    unsignedHex({ type: 1, accessList: [{ address: BOB, storageKeys: [`0x${'00'.repeat(32)}`] }] }),
    unsignedHex({ type: 2, data: '0xa9059cbb' + '00'.repeat(64) }),
    unsignedHex({ type: 4, authorizationList: [authorization(SECRET_B, BOB)] }),
  ].map((h) => getBytes(h));

  it('arbitrary bytes (3,000 cases)', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), pipeline), { numRuns: 3000 });
  });

  it('mutated valid transactions, as binary and as hex (3,000 cases)', async () => {
    const mutation = fc.record({
      tx: fc.integer({ min: 0, max: validTxs.length - 1 }),
      at: fc.nat(),
      op: fc.constantFrom('replace', 'insert', 'delete', 'truncate'),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      asHex: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ tx, at, op, bytes, asHex }) => {
        const base = validTxs[tx]!;
        const i = at % base.length;
        const out =
          op === 'replace'
            ? Uint8Array.from([...base.slice(0, i), ...bytes, ...base.slice(i + bytes.length)])
            : op === 'insert'
              ? Uint8Array.from([...base.slice(0, i), ...bytes, ...base.slice(i)])
              : op === 'delete'
                ? Uint8Array.from([...base.slice(0, i), ...base.slice(i + bytes.length)])
                : base.slice(0, i);
        await pipeline(asHex ? utf8(hexlify(out)) : out);
      }),
      { numRuns: 3000 },
    );
  });

  it('JSON request documents with arbitrary fields (3,000 cases)', async () => {
    const document = fc.record(
      {
        type: fc.constantFrom('transaction', 'personal_sign', 'typed_data', 'eth_sign', 'other'),
        from: fc.oneof(fc.constant(KEY_A.address), fc.string()),
        chainId: fc.oneof(fc.nat(), fc.string(), fc.constant('0x1')),
        nonce: fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 1n << 70n }).map(String)),
        gasLimit: fc.oneof(fc.nat(), fc.constant('21000')),
        maxFeePerGas: fc.oneof(fc.nat(), fc.string()),
        maxPriorityFeePerGas: fc.nat(),
        gasPrice: fc.nat(),
        to: fc.oneof(fc.constant(BOB), fc.constant(null), fc.string()),
        value: fc.oneof(fc.bigInt({ min: 0n, max: 1n << 260n }).map(String), fc.integer()),
        data: fc.oneof(fc.uint8Array({ maxLength: 80 }).map(hexlify), fc.string()),
        message: fc.string(),
        messageHex: fc.uint8Array({ maxLength: 40 }).map(hexlify),
        typedData: fc.jsonValue(),
        raw: fc.constantFrom(...validTxs.map(hexlify)),
      },
      { requiredKeys: ['type'] },
    );
    await fc.assert(
      fc.asyncProperty(document, (d) => pipeline(doc(d))),
      { numRuns: 3000 },
    );
  });

  it('typed data with fuzzed types, domain and message (3,000 cases)', async () => {
    const field = fc.record({
      name: fc.constantFrom('a', 'b', 'from', 'to'),
      type: fc.constantFrom('uint256', 'address', 'string', 'bytes32', 'T', 'U', 'T[]', 'uint8[2]', 'bool'),
    });
    const typedData = fc.record({
      types: fc.record({
        EIP712Domain: fc.constantFrom(
          [{ name: 'name', type: 'string' }],
          [{ name: 'chainId', type: 'uint256' }],
          [],
        ),
        T: fc.array(field, { maxLength: 3 }),
        U: fc.array(field, { maxLength: 3 }),
      }),
      primaryType: fc.constantFrom('T', 'U', 'V'),
      domain: fc.oneof(
        fc.constant({ name: 'x' }),
        fc.constant({ chainId: 1 }),
        fc.dictionary(fc.string(), fc.jsonValue()),
      ),
      message: fc.dictionary(
        fc.constantFrom('a', 'b', 'from', 'to'),
        fc.oneof(fc.jsonValue(), fc.constant(BOB)),
      ),
    });
    await fc.assert(
      fc.asyncProperty(typedData, (t) => pipeline(doc({ type: 'typed_data', typedData: t }))),
      { numRuns: 3000 },
    );
  });
});
