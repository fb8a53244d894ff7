// Readers for the unedited vector files under test/vectors (the expected strings are taken from the files themselves).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UR } from '@ngraveio/bc-ur';
import xoshiroModule from '@ngraveio/bc-ur/dist/xoshiro.js';

const VECTORS = fileURLToPath(new URL('../../vectors/', import.meta.url));

export function readVector(relativePath: string): string {
  return readFileSync(VECTORS + relativePath, 'utf8');
}

/** Every string literal in `text` matching `pattern` (global). */
export function allMatches(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((m) => m[1] ?? m[0]);
}

type XoshiroCtor = new (seed: Buffer) => { nextData(count: number): number[] };
const Xoshiro = ((xoshiroModule as { default?: XoshiroCtor }).default ?? xoshiroModule) as XoshiroCtor;

/** URKit TestUtils makeMessage(len, seed = "Wolf"): Xoshiro256** output, via @ngraveio/bc-ur's generator. */
export function makeMessage(len: number, seed = 'Wolf'): Uint8Array {
  return new Uint8Array(new Xoshiro(Buffer.from(seed, 'utf8')).nextData(len));
}

/** URKit makeMessageUR: the message as a CBOR byte string. */
export function makeMessageCbor(len: number, seed = 'Wolf'): Uint8Array {
  return new Uint8Array(UR.fromBuffer(Buffer.from(makeMessage(len, seed))).cbor);
}
