/** Content sniffing of images with no image library loaded, for the intake's format detection. */

export type ImageKind = 'png' | 'jpeg';

// PNG signature (ISO/IEC 15948 §5.2) and JPEG SOI marker + next marker prefix (ITU T.81 B.1.1.3).
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function detectImageKind(bytes: Uint8Array): ImageKind | undefined {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}
