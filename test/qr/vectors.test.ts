// Official UR vectors, both directions: URKit (BCR-2020-005 reference), BCR-2020-006 crypto-psbt/bytes, ERC-4527.
import { describe, expect, it } from 'vitest';
import { UR, UREncoder } from '@ngraveio/bc-ur';
import { CryptoKeypath, EthSignRequest, PathComponent } from '@keystonehq/bc-ur-registry-eth';
import {
  UrAssembler,
  assembleUr,
  createUrFountain,
  decodeCryptoPsbt,
  decodeEthSignRequest,
  decodeEthSignature,
  decodeSinglePartUr,
  encodeUrParts,
  ethSignatureToUr,
  psbtToUr,
} from '../../qr/index.js';
import { codeOf } from './support/errors.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { allMatches, makeMessageCbor, readVector } from './support/vectors.js';

describe('URKit URTests.swift (BCR-2020-005 reference vectors)', () => {
  const swift = readVector('ur/URKit/URTests.swift');

  it('single-part UR of the 50-byte message: exact string both ways', () => {
    const expected = allMatches(swift, /let expected = "(ur:[^"]+)"/g);
    expect(expected).toHaveLength(1);
    const cbor = makeMessageCbor(50);
    expect(encodeUrParts('bytes', cbor)).toEqual(expected);
    const decoded = decodeSinglePartUr(expected[0]!);
    expect(decoded.type).toBe('bytes');
    expect(toHex(decoded.cbor)).toBe(toHex(cbor));
  });

  it('256-byte message in 30-byte fragments: the 20 parts exactly, and reassembly from them in any order', () => {
    const expectedParts = allMatches(swift, /"(ur:bytes\/\d+-9\/[a-z]+)"/g);
    expect(expectedParts).toHaveLength(20);
    const cbor = makeMessageCbor(256);
    const fountain = createUrFountain('bytes', cbor, 30);
    expect(fountain.fragmentCount).toBe(9);
    expect(Array.from({ length: 20 }, () => fountain.nextPart())).toEqual(expectedParts);
    expect(encodeUrParts('bytes', cbor, 30)).toEqual(expectedParts.slice(0, 9));
    // In reverse order, every part twice: duplicates are harmless.
    const assembler = new UrAssembler();
    for (const part of [...expectedParts].reverse().flatMap((p) => [p, p.toUpperCase()]))
      assembler.receivePart(part);
    expect(assembler.isComplete()).toBe(true);
    expect(toHex(assembler.result().cbor)).toBe(toHex(cbor));
  });

  it('32,767-byte message, 1000-byte fragments, first seqNum 100: the assembler reassembles it', () => {
    expect(swift).toContain('makeMessageUR(len: 32767)');
    const cbor = makeMessageCbor(32767);
    const encoder = new UREncoder(new UR(Buffer.from(cbor), 'bytes'), 1000, 100);
    const assembler = new UrAssembler();
    let frames = 0;
    while (!assembler.isComplete() && frames < 1000) {
      assembler.receivePart(encoder.nextPart());
      frames += 1;
    }
    expect(toHex(assembler.result().cbor)).toBe(toHex(cbor));
  });
});

describe('BCR-2020-005 paper examples', () => {
  const paper = readVector('bcr-2020-005/bcr-2020-005-ur.md');

  it('the single-part ur:bytes example decodes to a 32-byte CBOR byte string and re-encodes exactly', () => {
    const [example] = allMatches(paper, /^(ur:bytes\/[a-z]+)$/gm);
    const decoded = decodeSinglePartUr(example!);
    expect(decoded.cbor.length).toBe(34);
    expect(toHex(decoded.cbor.subarray(0, 2))).toBe('5820');
    expect(encodeUrParts('bytes', decoded.cbor)).toEqual([example]);
  });

  it('the Bytewords example ("Hello, world" as CBOR) round-trips as a UR body', () => {
    const [words] = allMatches(paper, /^(jzfdihjzjzjldwcxktjljpjzieatjpgele)$/gm);
    const [hex] = allMatches(paper, /^(6c48656c6c6f2c20776f726c64)$/gm);
    expect(toHex(decodeSinglePartUr(`ur:bytes/${words}`).cbor)).toBe(hex);
    expect(encodeUrParts('bytes', fromHex(hex!))).toEqual([`ur:bytes/${words}`]);
  });

  it('the multi-part crypto-seed example is refused as an unsupported type', () => {
    const [example] = allMatches(paper, /^(ur:crypto-seed\/1-13\/[a-z]+)$/gm);
    expect(example).toBeDefined();
    expect(codeOf(() => new UrAssembler().receivePart(example!))).toBe('QR_UNSUPPORTED_TYPE');
  });
});

describe('BCR-2020-006 registry examples', () => {
  const registry = readVector('ur/bcr-2020-006-urtypes.md');

  it('crypto-psbt: the 167-byte PSBT ↔ the exact UR', () => {
    const [ur] = allMatches(registry, /^(ur:crypto-psbt\/[a-z]+)$/gm);
    const [cborHex] = allMatches(registry, /^(58A770736274FF[0-9A-F]+)$/gm);
    const psbt = decodeCryptoPsbt(ur!);
    expect(psbt.length).toBe(167);
    expect(toHex(psbt)).toBe(cborHex!.toLowerCase().slice(4));
    expect(psbtToUr(psbt)).toEqual([ur]);
    expect(toHex(decodeCryptoPsbt(assembleUr([ur!.toUpperCase()])))).toBe(toHex(psbt));
  });

  it('bytes: the 16-byte example ↔ the exact UR', () => {
    const [ur] = allMatches(registry, /^(ur:bytes\/[a-z]+)$/gm);
    const [cborHex] = allMatches(registry, /^(5000112233445566778899AABBCCDDEEFF)$/gm);
    expect(toHex(decodeSinglePartUr(ur!).cbor)).toBe(cborHex!.toLowerCase());
    expect(encodeUrParts('bytes', fromHex(cborHex!))).toEqual([ur]);
  });

  it('crypto-seed and crypto-bip39 examples are refused (not on the allowlist)', () => {
    for (const ur of allMatches(registry, /^(ur:crypto-(?:seed|bip39)\/[a-z]+)$/gm)) {
      expect(codeOf(() => decodeSinglePartUr(ur))).toBe('QR_UNSUPPORTED_TYPE');
    }
  });

  it('a crypto-psbt UR is not accepted where an eth-sign-request is expected', () => {
    const [ur] = allMatches(registry, /^(ur:crypto-psbt\/[a-z]+)$/gm);
    expect(codeOf(() => decodeEthSignRequest(ur!))).toBe('QR_UNSUPPORTED_TYPE');
  });
});

describe('ERC-4527 (Keystone ur-registry-eth tests)', () => {
  const requestTest = readVector('erc-4527/EthSignRequest.test.ts.txt');
  const signatureTest = readVector('erc-4527/EthSignature.test.ts.txt');
  const [withOrigin, withoutOrigin] = allMatches(requestTest, /"(ur:eth-sign-request\/[a-z]+)"/g);
  const [rlpHex] = allMatches(requestTest, /"(f849[0-9a-f]+)"/g);
  const requestId = '9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d';

  it('eth-sign-request with origin decodes to the test fields', () => {
    const fields = decodeEthSignRequest(withOrigin!);
    expect(toHex(fields.signData)).toBe(rlpHex);
    expect(fields.dataType).toBe(1);
    expect(fields.chainId).toBe(1);
    expect(fields.derivationPath).toBe("m/44'/1'/1'/0/1");
    expect(fields.sourceFingerprint).toBe('12345678');
    expect(toHex(fields.requestId!)).toBe(requestId);
    expect(fields.origin).toBe('metamask');
    expect(fields.address).toBeUndefined();
  });

  it('eth-sign-request without origin decodes; both re-encode to the exact strings', () => {
    const fields = decodeEthSignRequest(withoutOrigin!);
    expect(fields.origin).toBeUndefined();
    expect(fields.chainId).toBe(1);
    for (const [ur, origin] of [
      [withOrigin!, 'metamask'],
      [withoutOrigin!, undefined],
    ] as const) {
      const request = new EthSignRequest({
        signData: Buffer.from(fields.signData),
        dataType: 1,
        chainId: 1,
        derivationPath: new CryptoKeypath(parsePath("44'/1'/1'/0/1"), Buffer.from('12345678', 'hex')),
        requestId: Buffer.from(fromHex(requestId)),
        ...(origin ? { origin } : {}),
      });
      expect(encodeUrParts('eth-sign-request', new Uint8Array(request.toCBOR()))).toEqual([ur]);
    }
  });

  it('eth-signature: ethSignatureToUr gives the exact string, which decodes back', () => {
    const [ur] = allMatches(signatureTest, /"(ur:eth-signature\/[a-z]+)"/g);
    const [signatureHex] = allMatches(signatureTest, /"(d4f0a7bc[0-9a-f]+)"/g);
    expect(ethSignatureToUr(fromHex(requestId), fromHex(signatureHex!))).toEqual([ur]);
    const decoded = decodeEthSignature(ur!);
    expect(toHex(decoded.signature)).toBe(signatureHex);
    expect(toHex(decoded.requestId!)).toBe(requestId);
  });
});

function parsePath(path: string): PathComponent[] {
  return path
    .split('/')
    .map((c) => new PathComponent({ index: Number.parseInt(c, 10), hardened: c.endsWith("'") }));
}
