/** A text file of UR parts, one per line (SPEC.md inputs): blank lines are skipped, any other line must be a UR. */
import { makeError } from '../core/errors.js';

/** Largest UR part file accepted, in characters. */
export const MAX_PART_FILE_CHARS = 32 * 1024 * 1024;

export function collectPartsFromText(text: string): string[] {
  if (text.length > MAX_PART_FILE_CHARS) {
    throw makeError(
      'QR_PAYLOAD_TOO_LARGE',
      `The UR part file is ${text.length} characters long, more than the ${MAX_PART_FILE_CHARS} accepted.`,
    );
  }
  const parts: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => {
    const part = line.trim();
    if (part.length === 0) return;
    // BBQr frames (B$…) are accepted in the same files, one per line.
    if (!/^ur:/i.test(part) && !part.startsWith('B$'))
      throw makeError('UR_INVALID', `Line ${index + 1} of the UR part file is not a UR or a BBQr frame.`, {
        line: index + 1,
      });
    parts.push(part);
  });
  if (parts.length === 0) throw makeError('INPUT_EMPTY', 'The UR part file holds no UR part.');
  return parts;
}

/** True when the text looks like a UR part file (its first non-blank line starts with "ur:"), for content detection. */
export function looksLikeUrText(text: string): boolean {
  const first = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .slice(0, 3);
  return first.toLowerCase() === 'ur:' || first.startsWith('B$');
}
