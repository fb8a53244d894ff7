/** Official vectors: EIP-155 example, EIP-712 Mail example, ethereum/tests signature cases. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { parseEvmRequest, signEvm, summarizeEvm, verifySignedTransaction } from '../../chains/evm/index.js';
import { expectCode, keyRecord, PublishedKeySigner, utf8 } from './helpers.js';

const vectors = (path: string): string =>
  readFileSync(fileURLToPath(new URL(`../vectors/${path}`, import.meta.url)), 'utf8');

/** Every 0x hex string of the given length found after `label` in the text. */
function hexAfter(text: string, label: string, hexChars: number | '+'): string {
  const at = text.indexOf(label);
  expect(at, label).toBeGreaterThanOrEqual(0);
  const match = text
    .slice(at)
    .match(new RegExp(`0x[0-9a-f]${hexChars === '+' ? '+' : `{${hexChars}}`}(?![0-9a-f])`));
  expect(match, label).not.toBeNull();
  return match![0];
}

describe('EIP-155 example (EIPS/eip-155.md)', () => {
  const eip = vectors('eip155/eip-155.md');
  const signingData = hexAfter(eip, 'The "signing data" becomes', '+');
  const signingHash = hexAfter(eip, 'The "signing hash" becomes', 64);
  const signedTx = eip.match(/0xf86c[0-9a-f]+/)![0];
  const secretKey = fromHex(eip.match(/private key `0x([0-9a-f]{64})`/)![1]!);
  const [, v, r, s] = eip.match(/\((\d+), (\d+), (\d+)\)/)!.map((x) => x);

  it('parses the signing data as an unsigned legacy transaction with chainId 1 and keeps it byte for byte', () => {
    const parsed = parseEvmRequest(utf8(signingData));
    expect(parsed.kind).toBe('transaction');
    if (parsed.kind !== 'transaction') return;
    expect(parsed.txType).toBe(0);
    expect(parsed.chainId).toBe(1);
    expect(`0x${toHex(parsed.canonical)}`).toBe(signingData);
    expect(parsed.fields.nonce).toBe(9);
    expect(parsed.fields.value).toBe(10n ** 18n);
  });

  it('computes the published signing hash, independently of ethers (keccak of the signing data)', () => {
    const signer = new PublishedKeySigner(secretKey);
    const parsed = parseEvmRequest(utf8(signingData));
    const { plan, summary } = summarizeEvm(parsed, [keyRecord('eip155', signer.publicKey)], []);
    expect(plan.digest).toBe(signingHash);
    expect(`0x${toHex(keccak_256(fromHex(signingData)))}`).toBe(signingHash);
    expect(summary.details.maxFee).toBe((21000n * 20n * 10n ** 9n).toString());
    expect(summary.movements).toEqual([
      {
        channel: 'native',
        from: summary.details.from,
        to: '0x3535353535353535353535353535353535353535',
        raw: '1000000000000000000',
        amount: '1.0',
        asset: { type: 'native', symbol: 'ETH' },
        change: false,
      },
    ]);
  });

  it('recovers the published key from the published v, r, s with @noble/curves (not ethers)', () => {
    const recovery = Number(v) - 35 - 2 * 1;
    const sig = new secp256k1.Signature(BigInt(r!), BigInt(s!)).addRecoveryBit(recovery);
    const recovered = sig.recoverPublicKey(fromHex(signingHash)).toBytes(false);
    expect(toHex(recovered)).toBe(toHex(secp256k1.getPublicKey(secretKey, false)));
  });

  it('signs with the published key through signEvm and reproduces the published signed transaction (RFC 6979)', async () => {
    const signer = new PublishedKeySigner(secretKey);
    const parsed = parseEvmRequest(utf8(signingData));
    const { plan } = summarizeEvm(parsed, [keyRecord('eip155', signer.publicKey)], []);
    const signed = await signEvm(parsed, plan, signer);
    expect(signed.rawTransaction).toBe(signedTx);
    expect(signed.v).toBe(v);
    expect(BigInt(signed.r)).toBe(BigInt(r!));
    expect(BigInt(signed.s)).toBe(BigInt(s!));
    expect(signed.address).toBe('0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
    expect(verifySignedTransaction(signedTx, { chainId: 1n }).from).toBe(signed.address);
  });

  it('refuses the published signed transaction as a request (already signed)', () => {
    expectCode(() => parseEvmRequest(utf8(signedTx)), 'EVM_TX_INVALID');
  });
});

describe('EIP-712 Mail example (assets/eip-712/Example.js)', () => {
  const example = vectors('eip712/Example.js');
  const expected = (label: string, chars = 64) => hexAfter(example, label, chars);
  // The typedData object literal of Example.js, read from the file and turned into the JSON eth_signTypedData_v4 carries.
  const literal = example.slice(
    example.indexOf('const typedData = ') + 'const typedData = '.length,
    example.indexOf('\n};\n') + 2,
  );
  const typedData = JSON.parse(
    literal
      .replace(/'/g, '"')
      .replace(/([A-Za-z0-9_]+):/g, '"$1":')
      .replace(/,(\s*[}\]])/g, '$1'),
  ) as Record<string, unknown>;
  it('reads the Mail typed data from the example', () => {
    expect(typedData.primaryType).toBe('Mail');
    expect((typedData.domain as Record<string, unknown>).name).toBe('Ether Mail');
  });
  const secretKey = keccak_256(utf8('cow'));
  const signer = new PublishedKeySigner(secretKey);
  const request = utf8(JSON.stringify({ type: 'typed_data', typedData }));

  it('computes the published domain separator and digest', () => {
    const parsed = parseEvmRequest(request);
    const { summary, plan } = summarizeEvm(parsed, [keyRecord('cow', signer.publicKey)], []);
    expect(summary.details.domainSeparator).toBe(expected("structHash('EIP712Domain', typedData.domain)))"));
    expect(plan.digest).toBe(expected('signHash())).to.equal('));
    expect(plan.address.toLowerCase()).toBe(expected("bufferToHex(address)).to.equal('", 40));
    expect(summary.blind).toBe(true);
    expect(summary.typedData?.primaryType).toBe('Mail');
    expect(summary.chainId).toBe(1);
  });

  it('signs with the published key (keccak("cow")) and reproduces the published v, r, s', async () => {
    const parsed = parseEvmRequest(request);
    const { plan } = summarizeEvm(parsed, [keyRecord('cow', signer.publicKey)], []);
    const signed = await signEvm(parsed, plan, signer);
    expect(signed.r).toBe(expected("bufferToHex(sig.r)).to.equal('"));
    expect(signed.s).toBe(expected("bufferToHex(sig.s)).to.equal('"));
    expect(example).toContain(`expect(sig.v).to.equal(${27 + signed.yParity});`);
    expect(signed.signature).toBe(`${signed.r}${signed.s.slice(2)}${(27 + signed.yParity).toString(16)}`);
  });
});

describe('ethereum/tests TransactionTests signature cases', () => {
  const load = (file: string): string => {
    const json = JSON.parse(vectors(`ethereum-tests/${file}`)) as Record<
      string,
      { rlp?: string; txbytes?: string }
    >;
    const test = Object.values(json)[0]!;
    return (test.txbytes ?? test.rlp)!;
  };

  it('TransactionWithSvalueHigh: a signature with s above n/2 is refused (EIP-2)', () => {
    expectCode(
      () => verifySignedTransaction(load('TransactionWithSvalueHigh.json'), { chainId: 1n }),
      'EVM_SIGNATURE_INVALID',
    );
  });
  it('TransactionWithSvalueLargerThan_c_secp256k1n_x05: s = n/2 + 1 is refused (EIP-2)', () => {
    expectCode(
      () =>
        verifySignedTransaction(load('TransactionWithSvalueLargerThan_c_secp256k1n_x05.json'), {
          chainId: 1n,
        }),
      'EVM_SIGNATURE_INVALID',
    );
  });
  it('V_wrongvalue_121: a v that encodes another chain id is refused', () => {
    expectCode(
      () => verifySignedTransaction(load('V_wrongvalue_121.json'), { chainId: 1n }),
      'EVM_SIGNATURE_INVALID',
    );
  });
  it('InvalidChainID0ValidV0: a v that encodes chain id 0 is refused', () => {
    expectCode(
      () => verifySignedTransaction(load('InvalidChainID0ValidV0.json'), { chainId: 1n }),
      'EVM_SIGNATURE_INVALID',
    );
  });
  it('Vitalik_1: a valid EIP-155 transaction verifies, with the sender and hash of the file', () => {
    const json = JSON.parse(vectors('ethereum-tests/Vitalik_1.json')) as Record<
      string,
      { result: Record<string, { hash?: string; sender?: string }> }
    >;
    const expected = Object.values(json)[0]!.result.London!;
    const { from, hash } = verifySignedTransaction(load('Vitalik_1.json'), { chainId: 1n });
    expect(from.toLowerCase()).toBe(expected.sender);
    expect(hash).toBe(expected.hash);
    expectCode(
      () => verifySignedTransaction(load('Vitalik_1.json'), { chainId: 5n }),
      'EVM_SIGNATURE_INVALID',
    );
  });

  it('the signed vectors are refused as signing requests', () => {
    for (const file of [
      'TransactionWithSvalueHigh.json',
      'V_wrongvalue_121.json',
      'InvalidChainID0ValidV0.json',
    ]) {
      expectCode(() => parseEvmRequest(utf8(load(file))), 'EVM_TX_INVALID');
    }
  });
});
