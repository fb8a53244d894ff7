/** EIP-191 personal messages (pure). */
import { hashMessage } from 'ethers';

/** EIP-191 version 0x45: keccak256("\x19Ethereum Signed Message:\n" ‖ len(message) ‖ message). */
export function personalMessageDigest(message: Uint8Array): string {
  return hashMessage(message);
}

/** The message as text when it is valid UTF-8 without control characters (other than tab and newlines); else null. */
export function printableText(message: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(message);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text))
    return null;
  return text;
}
