// Animated UR transfers: loss, order, duplicates, progress; and every malformed, corrupted or mixed frame ends in a clean error.
import { describe, expect, it } from 'vitest';
import { EthSignRequest, CryptoKeypath, PathComponent } from '@keystonehq/bc-ur-registry-eth';
import {
  UrAssembler,
  assembleUr,
  collectPartsFromText,
  createUrFountain,
  decodeCryptoPsbt,
  decodeEthSignRequest,
  decodeEthSignature,
  encodeUrParts,
  ethSignatureToUr,
  psbtToUr,
} from '../../qr/index.js';
import { isColdsignError } from '../../core/errors.js';
import { codeOf } from './support/errors.js';
import { concatBytes, toHex } from '../../core/bytes.js';
import { seededRandom } from '../../scripts/qr-corpus.js';
import { buildPart, headerCbor, partFromCbor, randomBytes, splitPart } from './support/transfer.js';

/** Streams fountain frames, dropping each with probability `loss`, until the assembler completes. */
function transfer(
  payload: Uint8Array,
  loss: number,
  seed: number,
): { frames: number; fragments: number; result: Uint8Array; progress: number[] } {
  const fountain = createUrFountain('crypto-psbt', payload, 400);
  const assembler = new UrAssembler();
  const random = seededRandom(seed);
  const progress: number[] = [];
  let frames = 0;
  while (!assembler.isComplete()) {
    const part = fountain.nextPart();
    frames += 1;
    if (frames > fountain.fragmentCount * 10) throw new Error('transfer did not converge');
    if (random() < loss) continue;
    assembler.receivePart(part.toUpperCase());
    progress.push(assembler.progress());
  }
  return { frames, fragments: fountain.fragmentCount, result: assembler.result().cbor, progress };
}

describe('animated transfers with frame loss', () => {
  for (const size of [1024, 10 * 1024, 50 * 1024]) {
    for (const loss of [0, 0.1, 0.3]) {
      it(`${size / 1024} KB with ${loss * 100}% loss reproduces the payload exactly`, () => {
        const payload = randomBytes(size, size + loss * 1000);
        const { frames, fragments, result, progress } = transfer(payload, loss, 42 + size);
        expect(toHex(result)).toBe(toHex(payload));
        if (loss === 0) expect(frames).toBe(fragments);
        expect(frames).toBeGreaterThanOrEqual(fragments);
        expect(progress.at(-1)).toBe(1);
        for (let i = 1; i < progress.length; i++)
          expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
      });
    }
  }

  it('frames in any order with repeats assemble the same PSBT', () => {
    const psbt = randomBytes(5000, 7);
    const parts = psbtToUr(psbt, 300);
    expect(parts.length).toBeGreaterThan(1);
    const random = seededRandom(3);
    const shuffled = [...parts, ...parts.slice(0, 5)].sort(() => random() - 0.5);
    const assembler = new UrAssembler();
    const outcomes = shuffled.map((p) => assembler.receivePart(p));
    expect(outcomes).toContain('duplicate');
    expect(outcomes.filter((o) => o === 'complete')).toHaveLength(1);
    expect(toHex(decodeCryptoPsbt(assembler.result()))).toBe(toHex(psbt));
  });

  it('a payload that fits one fragment is a single-part UR', () => {
    const parts = psbtToUr(randomBytes(200, 1));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatch(/^ur:crypto-psbt\/[a-z]+$/);
  });

  it('progress is 0 before any frame and the incomplete error reports it', () => {
    const parts = encodeUrParts('bytes', randomBytes(2000, 9), 100);
    const assembler = new UrAssembler();
    expect(assembler.progress()).toBe(0);
    for (const part of parts.slice(0, parts.length / 2)) assembler.receivePart(part);
    expect(assembler.progress()).toBeCloseTo(0.5, 1);
    expect(assembler.isComplete()).toBe(false);
    try {
      assembler.result();
      expect.unreachable();
    } catch (error) {
      expect(isColdsignError(error, 'QR_INCOMPLETE')).toBe(true);
      expect((error as Error).message).toMatch(
        /^The animated UR is incomplete: 5\d% of \d+ fragments received\.$/,
      );
    }
  });
});

describe('bad frames end in clean errors', () => {
  const parts = encodeUrParts('crypto-psbt', encodeCbor(randomBytes(1200, 5)), 400);

  function encodeCbor(bytes: Uint8Array): Uint8Array {
    return concatBytes(new Uint8Array([0x59, bytes.length >> 8, bytes.length & 0xff]), bytes);
  }

  it('a truncated transfer is QR_INCOMPLETE', () => {
    expect(codeOf(() => assembleUr(parts.slice(1)))).toBe('QR_INCOMPLETE');
    expect(codeOf(() => assembleUr([]))).toBe('INPUT_EMPTY');
  });

  it('a truncated frame is QR_CHECKSUM (whole word cut) or UR_INVALID (half a word cut)', () => {
    expect(codeOf(() => new UrAssembler().receivePart(parts[0]!.slice(0, -2)))).toBe('QR_CHECKSUM');
    expect(codeOf(() => new UrAssembler().receivePart(parts[0]!.slice(0, -1)))).toBe('UR_INVALID');
    expect(codeOf(() => new UrAssembler().receivePart(parts[0]!.slice(0, 31)))).toBe('QR_CHECKSUM');
  });

  it('a corrupted frame (two bytewords swapped) is QR_CHECKSUM', () => {
    const part = parts[1]!;
    const at = part.lastIndexOf('/') + 1 + 20;
    const swapped =
      part.slice(0, at) + part.slice(at + 2, at + 4) + part.slice(at, at + 2) + part.slice(at + 4);
    expect(swapped).not.toBe(part);
    expect(codeOf(() => new UrAssembler().receivePart(swapped))).toBe('QR_CHECKSUM');
  });

  it('a forged frame with a valid part checksum but altered data fails the message CRC-32: QR_CHECKSUM', () => {
    const original = splitPart(parts[2]!);
    const fragment = original.fragment.slice();
    fragment[0] = fragment[0]! ^ 0xff;
    const forged = buildPart(
      'crypto-psbt',
      original.seqNum,
      original.seqLength,
      original.messageLength,
      original.checksum,
      fragment,
    );
    expect(parts).toHaveLength(4);
    const assembler = new UrAssembler();
    for (const part of [parts[0]!, parts[1]!, parts[3]!]) assembler.receivePart(part);
    expect(codeOf(() => assembler.receivePart(forged))).toBe('QR_CHECKSUM');
    expect(assembler.isComplete()).toBe(false);
  });

  it('duplicated frames are harmless', () => {
    const result = assembleUr([
      parts[3]!,
      parts[0]!,
      parts[0]!,
      parts[1]!,
      parts[1]!.toUpperCase(),
      parts[2]!,
      parts[2]!,
      parts[3]!,
    ]);
    expect(result.type).toBe('crypto-psbt');
  });

  it('frames of two transfers mixed are QR_MIXED_TRANSFER', () => {
    const other = encodeUrParts('crypto-psbt', encodeCbor(randomBytes(1200, 6)), 400);
    expect(other[0]!.split('/')[1]).toBe(parts[0]!.split('/')[1]);
    expect(codeOf(() => assembleUr([parts[0]!, other[1]!]))).toBe('QR_MIXED_TRANSFER');
    // Also after completion: a stray frame of another transfer is refused.
    expect(codeOf(() => assembleUr([...parts, other[0]!]))).toBe('QR_MIXED_TRANSFER');
    const ethPart = ethSignatureToUr(undefined, randomBytes(65, 1))[0]!;
    expect(codeOf(() => assembleUr([parts[0]!, ethPart]))).toBe('QR_MIXED_TRANSFER');
    expect(codeOf(() => assembleUr([ethPart, parts[0]!]))).toBe('QR_MIXED_TRANSFER');
    expect(codeOf(() => assembleUr([ethPart, ethSignatureToUr(undefined, randomBytes(65, 2))[0]!]))).toBe(
      'QR_MIXED_TRANSFER',
    );
    expect(assembleUr([ethPart, ethPart.toUpperCase()]).type).toBe('eth-signature');
  });

  it('text that is not a UR is UR_INVALID; an unknown UR type is QR_UNSUPPORTED_TYPE', () => {
    for (const text of [
      'hello',
      'https://example.com/ur:bytes/aeae',
      'ur:bytes',
      'ur:bytes/1-2/',
      'ur:bytes/12/aeae',
      'ur:bytes/aeae aeae',
      'ur:BY TES/aeae',
      '',
    ]) {
      expect(codeOf(() => new UrAssembler().receivePart(text))).toBe('UR_INVALID');
    }
    expect(
      codeOf(() =>
        new UrAssembler().receivePart(
          'ur:crypto-seed/oeadgdstaslplabghydrpfmkbggufgludprfgmaotpiecffltnlpqdenos',
        ),
      ),
    ).toBe('QR_UNSUPPORTED_TYPE');
    expect(codeOf(() => new UrAssembler().receivePart('ur:x-evil/1-2/aeae'))).toBe('QR_UNSUPPORTED_TYPE');
  });

  it('hostile headers are refused before any allocation', () => {
    const fragment = randomBytes(400, 1);
    // seqLen that does not match messageLen / fragment length (a decoder would allocate seqLen entries).
    expect(codeOf(() => new UrAssembler().receivePart(buildPart('bytes', 1, 100, 1200, 1, fragment)))).toBe(
      'UR_INVALID',
    );
    // Too many fragments (tiny fragments of a large message).
    expect(
      codeOf(() =>
        new UrAssembler().receivePart(buildPart('bytes', 1, 100_000, 1_000_000, 1, randomBytes(10, 1))),
      ),
    ).toBe('QR_PAYLOAD_TOO_LARGE');
    // A message larger than the cap.
    expect(
      codeOf(() => new UrAssembler().receivePart(buildPart('bytes', 1, 100_000, 40_000_000, 1, fragment))),
    ).toBe('QR_PAYLOAD_TOO_LARGE');
    // The path's seq disagrees with the CBOR header.
    expect(
      codeOf(() => new UrAssembler().receivePart(buildPart('bytes', 1, 3, 1200, 1, fragment, '2-3'))),
    ).toBe('UR_INVALID');
    expect(
      codeOf(() => new UrAssembler().receivePart(buildPart('bytes', 0, 3, 1200, 1, fragment, '0-3'))),
    ).toBe('UR_INVALID');
    expect(codeOf(() => new UrAssembler().receivePart(`ur:bytes/${'ae'.repeat(5000)}`))).toBe(
      'QR_PAYLOAD_TOO_LARGE',
    );
  });
});

describe('UR payload checks', () => {
  it('a crypto-psbt whose CBOR has trailing bytes is UR_INVALID', () => {
    const [single] = psbtToUr(randomBytes(100, 2));
    const cbor = assembleUr([single!]).cbor;
    const [tampered] = encodeUrParts('crypto-psbt', concatBytes(cbor, new Uint8Array([0])));
    expect(codeOf(() => decodeCryptoPsbt(tampered!))).toBe('UR_INVALID');
    const [notBytes] = encodeUrParts('crypto-psbt', new Uint8Array([0x01]));
    expect(codeOf(() => decodeCryptoPsbt(notBytes!))).toBe('UR_INVALID');
  });

  it('an eth-sign-request with a data type outside 1-4 is UR_INVALID; a multi-part UR string is QR_INCOMPLETE', () => {
    const request = new EthSignRequest({
      signData: Buffer.from('deadbeef', 'hex'),
      dataType: 5 as never,
      chainId: 1,
      derivationPath: new CryptoKeypath(
        [new PathComponent({ index: 44, hardened: true })],
        Buffer.from('12345678', 'hex'),
      ),
    });
    const [ur] = encodeUrParts('eth-sign-request', new Uint8Array(request.toCBOR()));
    expect(codeOf(() => decodeEthSignRequest(ur!))).toBe('UR_INVALID');
    expect(codeOf(() => decodeEthSignRequest('ur:eth-sign-request/aeadaolazmjendeoti'))).toMatch(
      /UR_INVALID|QR_CHECKSUM/,
    );
    const parts = encodeUrParts('eth-sign-request', randomBytes(900, 3), 400);
    expect(codeOf(() => decodeEthSignRequest(parts[0]!))).toBe('QR_INCOMPLETE');
  });

  it('eth-signature needs r, s and a minimal v of 1 to 8 bytes, and a 16-byte request id', () => {
    expect(codeOf(() => ethSignatureToUr(undefined, randomBytes(64, 1)))).toBe('UR_INVALID');
    expect(codeOf(() => ethSignatureToUr(undefined, randomBytes(73, 1)))).toBe('UR_INVALID');
    // a v with a leading zero byte is not minimal
    const padded = concatBytes(randomBytes(64, 1), new Uint8Array([0, 0x25]));
    expect(codeOf(() => ethSignatureToUr(undefined, padded))).toBe('UR_INVALID');
    expect(codeOf(() => ethSignatureToUr(randomBytes(15, 1), randomBytes(65, 1)))).toBe('UR_INVALID');
  });

  it('an EIP-155 legacy signature on chain 1337 carries its 2-byte v (2709 or 2710) in the eth-signature', () => {
    // EIP-155: v = chainId × 2 + 35 + yParity, which needs two bytes above chain id 110
    const rsv = concatBytes(randomBytes(64, 7), new Uint8Array([0x0a, 0x95]));
    const [ur] = ethSignatureToUr(randomBytes(16, 2), rsv);
    const read = decodeEthSignature(ur!).signature;
    expect(read.length).toBe(66);
    expect((read[64]! << 8) | read[65]!).toBe(1337 * 2 + 35);
  });

  it('fragment sizes outside 10..1000 are a usage error', () => {
    expect(codeOf(() => encodeUrParts('bytes', randomBytes(100, 1), 5))).toBe('USAGE');
    expect(codeOf(() => encodeUrParts('bytes', randomBytes(100, 1), 5000))).toBe('USAGE');
    expect(codeOf(() => encodeUrParts('bytes', new Uint8Array(0)))).toBe('INPUT_EMPTY');
    expect(codeOf(() => encodeUrParts('crypto-seed' as never, randomBytes(10, 1)))).toBe(
      'QR_UNSUPPORTED_TYPE',
    );
  });
});

describe('UR part text files', () => {
  it('one part per line; blank lines, CRLF and a BOM are accepted', () => {
    const parts = encodeUrParts('bytes', randomBytes(1000, 4), 200);
    const text = '\uFEFF' + parts.join('\r\n') + '\n\n';
    expect(collectPartsFromText(text)).toEqual(parts);
    expect(toHex(assembleUr(collectPartsFromText(text)).cbor)).toBe(toHex(assembleUr(parts).cbor));
  });

  it('a line that is not a UR is UR_INVALID naming the line; an empty file is INPUT_EMPTY', () => {
    try {
      collectPartsFromText('ur:bytes/aeae\nnot a ur\n');
      expect.unreachable();
    } catch (error) {
      expect(isColdsignError(error, 'UR_INVALID')).toBe(true);
      expect((error as Error).message).toContain('Line 2');
    }
    expect(codeOf(() => collectPartsFromText('\n \n'))).toBe('INPUT_EMPTY');
  });
});

describe('fountain header strictness', () => {
  it('a part whose header CBOR has a trailing byte is UR_INVALID', () => {
    const cbor = headerCbor(1, 3, 1200, 7, randomBytes(400, 1));
    expect(
      codeOf(() =>
        new UrAssembler().receivePart(partFromCbor('bytes', '1-3', concatBytes(cbor, new Uint8Array([0])))),
      ),
    ).toBe('UR_INVALID');
    expect(new UrAssembler().receivePart(partFromCbor('bytes', '1-3', cbor))).toBe('accepted');
  });
});
