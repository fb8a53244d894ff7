// PSBT version 2 (BIP-370): the BIP's own vectors, the hardening other signers needed (each as a test), and
// a round trip with @caravan/psbt's PsbtV2 as the online side: Caravan writes the v2 request, the SoftHSM2
// token signs it, the answer comes back as v2 and Caravan reads it; @scure/btc-signer checks the signature.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PsbtV2 } from '@caravan/psbt';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { parsePsbt, serializeParsed } from '../../chains/btc/parse.js';
import { signPsbt, summarizePsbt, btcOutputScript } from '../../chains/btc/index.js';
import { readPsbtMaps, writePsbtMaps, type KeyValue, type PsbtMaps } from '../../chains/btc/maps.js';
import { determineLocktime, isPsbtV2 } from '../../chains/btc/psbt-v2.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { codeOf } from '../qr/support/errors.js';
import { describeKey } from '../../appliance/keys.js';
import type { KeyRecord } from '../../core/signer.js';
import type { Hsm } from '../../hsm/index.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { buildPsbt, finalizeWithScure, foreignScript, verifyWithScure } from '../btc/support/fixtures.js';

interface Vector {
  case: string | null;
  base64: string;
}
const vectors = JSON.parse(
  readFileSync(new URL('../vectors/bip370/bip370-test-vectors.excerpt.json', import.meta.url), 'utf8'),
) as {
  invalid: Vector[];
  valid: Vector[];
  locktime: { heading: string; locktime: number | null; cases: Vector[] }[];
};
const text = (s: string) => new TextEncoder().encode(s);
const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** Caravan prints a warning per v2-only key when it converts to v0; the tests do not need them. */
function quietly<T>(fn: () => T): T {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  try {
    return fn();
  } finally {
    warn.mockRestore();
  }
}

describe('BIP-370 invalid vectors', () => {
  it('the excerpt holds the 21 invalid vectors of the BIP', () => {
    expect(vectors.invalid).toHaveLength(21);
  });
  for (const vector of vectors.invalid) {
    it(`refused: ${vector.case}`, () => {
      expect(codeOf(() => parsePsbt(text(vector.base64)))).toBe('PSBT_INVALID');
    });
  }
});

describe('BIP-370 valid vectors', () => {
  for (const vector of vectors.valid) {
    it(`read, round-tripped byte for byte, and built as Caravan builds it: ${vector.case}`, () => {
      const binary = fromBase64(vector.base64);
      expect(isPsbtV2(binary)).toBe(true);
      const parsed = parsePsbt(text(vector.base64));
      expect(parsed.v2).toBeDefined();
      expect(toHex(parsed.canonical)).toBe(toHex(binary));
      expect(toHex(serializeParsed(parsed))).toBe(toHex(binary));
      // Independent conversion: Caravan's PsbtV2 → v0 gives the same unsigned transaction.
      const caravan = new PsbtV2(vector.base64);
      const theirs = quietly(() => Psbt.fromBase64(caravan.toV0('base64')));
      const theirTx = (theirs as unknown as { __CACHE: { __TX: { toHex(): string } } }).__CACHE.__TX;
      // Caravan's toV0 writes the fallback locktime and ignores the inputs' required locktimes (its own
      // nLockTime getter follows BIP-370): compare the transaction without its last 4 bytes, then the locktime.
      expect(parsed.tx.toHex().slice(0, -8)).toBe(theirTx.toHex().slice(0, -8));
      expect(parsed.tx.locktime).toBe(caravan.nLockTime);
    });
  }
});

describe('BIP-370 locktime determination vectors', () => {
  for (const group of vectors.locktime) {
    for (const vector of group.cases) {
      const name = vector.case ?? '(unnamed case)';
      if (group.locktime === null) {
        it(`cannot be computed, refused: ${name}`, () => {
          expect(codeOf(() => parsePsbt(text(vector.base64)))).toBe('PSBT_INVALID');
        });
      } else {
        it(`locktime ${group.locktime}: ${name}`, () => {
          expect(parsePsbt(text(vector.base64)).tx.locktime).toBe(group.locktime);
          expect(new PsbtV2(vector.base64).nLockTime).toBe(group.locktime);
        });
      }
    }
  }
  it('height wins a tie, and the maximum of the chosen type is taken', () => {
    expect(determineLocktime(7, [])).toBe(7);
    expect(determineLocktime(0, [{ height: 5, time: 600_000_000 }, { height: 9 }])).toBe(9);
    expect(determineLocktime(0, [{ time: 600_000_001 }, { height: 9, time: 600_000_000 }])).toBe(600_000_001);
    expect(codeOf(() => determineLocktime(0, [{ time: 600_000_000 }, { height: 9 }]))).toBe('PSBT_INVALID');
  });
});

// Hardening: mutate the minimal valid vector record by record and expect a refusal with a specific code.
const MINIMAL = vectors.valid[0]!.base64;

function v2Maps(): PsbtMaps {
  // The v0 reader refuses v2; read the maps by converting the known layout: global, 1 input, 2 outputs.
  const parsed = parsePsbt(text(MINIMAL));
  return structuredClone(parsed.v2!.maps);
}
const rec = (key: number[], value: number[]): KeyValue => ({
  key: Uint8Array.from(key),
  value: Uint8Array.from(value),
});
function setGlobal(maps: PsbtMaps, type: number, record: KeyValue | null): PsbtMaps {
  const global = maps.global.filter((r) => r.key[0] !== type);
  if (record) global.unshift(record);
  return { ...maps, global };
}
const parseMaps = (maps: PsbtMaps) => codeOf(() => parsePsbt(writePsbtMaps(maps)));

describe('PSBT v2 hardening', () => {
  it('checks the transaction version: 1 and 4 are refused, 2 and 3 are read', () => {
    for (const [version, code] of [
      [1, 'PSBT_INVALID'],
      [4, 'PSBT_INVALID'],
      [0xffffffff, 'PSBT_INVALID'],
      [2, undefined],
      [3, undefined],
    ] as const) {
      const le = [version & 0xff, (version >>> 8) & 0xff, (version >>> 16) & 0xff, version >>> 24];
      expect(parseMaps(setGlobal(v2Maps(), 0x02, rec([0x02], le)))).toBe(code);
    }
    expect(parseMaps(setGlobal(v2Maps(), 0x02, null))).toBe('PSBT_INVALID');
  });

  it('refuses key data on singleton fields (global, input and output)', () => {
    expect(parseMaps(setGlobal(v2Maps(), 0x02, rec([0x02, 0x00], [2, 0, 0, 0])))).toBe('PSBT_INVALID');
    expect(parseMaps(setGlobal(v2Maps(), 0x03, rec([0x03, 0x01], [0, 0, 0, 0])))).toBe('PSBT_INVALID');
    expect(parseMaps(setGlobal(v2Maps(), 0x06, rec([0x06, 0x01], [0])))).toBe('PSBT_INVALID');
    const input = v2Maps();
    input.inputs[0] = input.inputs[0]!.map((r) => (r.key[0] === 0x0f ? rec([0x0f, 0xaa], [0, 0, 0, 0]) : r));
    expect(parseMaps(input)).toBe('PSBT_INVALID');
    const output = v2Maps();
    output.outputs[1] = output.outputs[1]!.map((r) =>
      r.key[0] === 0x03 ? { key: Uint8Array.of(0x03, 1), value: r.value } : r,
    );
    expect(parseMaps(output)).toBe('PSBT_INVALID');
  });

  it('refuses singleton values of the wrong size', () => {
    expect(parseMaps(setGlobal(v2Maps(), 0x03, rec([0x03], [0, 0, 0])))).toBe('PSBT_INVALID');
    expect(parseMaps(setGlobal(v2Maps(), 0x06, rec([0x06], [0, 0])))).toBe('PSBT_INVALID');
    const txid = v2Maps();
    txid.inputs[0] = txid.inputs[0]!.map((r) =>
      r.key[0] === 0x0e ? { key: r.key, value: r.value.subarray(1) } : r,
    );
    expect(parseMaps(txid)).toBe('PSBT_INVALID');
  });

  it('requires canonical input and output counts that match the maps', () => {
    // non-minimal CompactSize 0xfd 0x01 0x00 for one input
    expect(parseMaps(setGlobal(v2Maps(), 0x04, rec([0x04], [0xfd, 0x01, 0x00])))).toBe('PSBT_INVALID');
    // a count with trailing bytes
    expect(parseMaps(setGlobal(v2Maps(), 0x04, rec([0x04], [0x01, 0x00])))).toBe('PSBT_INVALID');
    // more inputs counted than maps present
    expect(parseMaps(setGlobal(v2Maps(), 0x04, rec([0x04], [0x05])))).toBe('PSBT_TRUNCATED');
    // a huge count is refused before any map is read
    expect(parseMaps(setGlobal(v2Maps(), 0x04, rec([0x04], [0xfe, 0xff, 0xff, 0xff, 0xff])))).toBe(
      'PSBT_TRUNCATED',
    );
    // fewer outputs counted than maps present
    expect(parseMaps(setGlobal(v2Maps(), 0x05, rec([0x05], [0x01])))).toBe('PSBT_INCONSISTENT');
    // zero inputs: nothing to sign
    const none = setGlobal(v2Maps(), 0x04, rec([0x04], [0x00]));
    expect(parseMaps({ ...none, inputs: [] })).toBe('PSBT_NOTHING_TO_SIGN');
  });

  it('requires PSBT_GLOBAL_VERSION = 2 for v2 fields, and no unsigned transaction beside it', () => {
    // v2 fields with the version field removed: read as v0, where they are excluded
    expect(parseMaps(setGlobal(v2Maps(), 0xfb, null))).toBe('PSBT_INVALID');
    // version 3 does not exist
    expect(parseMaps(setGlobal(v2Maps(), 0xfb, rec([0xfb], [3, 0, 0, 0])))).toBe('PSBT_VERSION_UNSUPPORTED');
    // version 2 with a v0 unsigned transaction
    const v0 = readPsbtMaps(parsePsbt(text(MINIMAL)).psbt.toBuffer()).maps;
    const mixed = v2Maps();
    mixed.global.push(v0.global.find((r) => r.key[0] === 0x00)!);
    expect(parseMaps(mixed)).toBe('PSBT_INVALID');
  });

  it('checks per-input locktimes: range of each type, and compatibility across inputs', () => {
    const withInput = (records: KeyValue[]) => {
      const maps = v2Maps();
      maps.inputs[0] = [...maps.inputs[0]!, ...records];
      return maps;
    };
    expect(parseMaps(withInput([rec([0x12], [0, 0, 0, 0])]))).toBe('PSBT_INVALID'); // height 0
    expect(parseMaps(withInput([rec([0x11], [0xff, 0x64, 0xcd, 0x1d])]))).toBe('PSBT_INVALID'); // time < 5e8
    const ok = withInput([rec([0x12], [0x10, 0x27, 0, 0])]); // height 10000
    expect(parsePsbt(writePsbtMaps(ok)).tx.locktime).toBe(10_000);
  });

  it('refuses a negative or oversized output amount', () => {
    const maps = v2Maps();
    maps.outputs[0] = maps.outputs[0]!.map((r) =>
      r.key[0] === 0x03 ? rec([0x03], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) : r,
    );
    expect(parseMaps(maps)).toBe('PSBT_INVALID');
  });
});

describe('a v2 request from Caravan, signed in SoftHSM2, answered as v2', () => {
  let token: TestToken;
  let hsm: Hsm;
  let key: KeyRecord;

  beforeAll(async () => {
    token = createTestToken();
    hsm = token.open();
    const generated = await hsm.keys.generate('vault-v2');
    key = describeKey(
      { chain: 'btc', label: 'vault-v2', script: 'p2wpkh', network: 'testnet' },
      generated.publicKey,
      generated.keyId,
      new Date(0),
    );
  });
  afterAll(() => {
    hsm?.close();
    token?.cleanup();
  });

  for (const kind of ['p2wpkh', 'p2sh-p2wpkh', 'p2pkh'] as const) {
    it(`${kind}: Caravan reads the signed v2, its transaction matches scure's`, async () => {
      const pk = fromHex(key.publicKey);
      const specs = [{ kind, pubkeys: [pk], amount: 100_000n }];
      const unsignedV0 = buildPsbt(specs, [
        { script: foreignScript(7), amount: 60_000n },
        { script: btcOutputScript(pk, 'p2wpkh'), amount: 35_000n },
      ]);
      // The online side: Caravan's PsbtV2 writes the request (TX_MODIFIABLE set: inputs and outputs open).
      const request = PsbtV2.FromV0(Buffer.from(unsignedV0));
      request.PSBT_GLOBAL_TX_MODIFIABLE = ['INPUTS', 'OUTPUTS'] as never;
      const requestText = request.serialize('base64');
      const parsed = parsePsbt(text(requestText));
      expect(parsed.v2).toBeDefined();
      const { plan } = summarizePsbt(parsed, [key], { network: 'testnet' });
      const signed = await signPsbt(parsed, plan, hsm.signer);
      verifyWithScure(unsignedV0, signed, specs);
      // Answered as v2, in the request's encoding
      expect(signed.encoding).toBe('base64');
      const answer = new TextDecoder().decode(signed.psbt);
      expect(isPsbtV2(fromBase64(answer))).toBe(true);
      const back = new PsbtV2(answer);
      expect(back.PSBT_GLOBAL_VERSION).toBe(2);
      expect(back.PSBT_IN_PREVIOUS_TXID).toEqual(request.PSBT_IN_PREVIOUS_TXID);
      // BIP-370 Signer: a SIGHASH_ALL signature closes inputs and outputs to modification
      expect(back.PSBT_GLOBAL_TX_MODIFIABLE).toEqual([]);
      const ours = back.PSBT_IN_PARTIAL_SIG[0]!.some((s) => s.key.endsWith(key.publicKey));
      const finalized =
        back.PSBT_IN_FINAL_SCRIPTWITNESS[0] !== null || back.PSBT_IN_FINAL_SCRIPTSIG[0] !== null;
      expect(ours || finalized).toBe(true);
      // Caravan converts the answer back to v0; scure finalizes and extracts the same transaction
      const v0Answer = quietly(() => back.toV0('base64'));
      const extracted = Transaction.fromHex(finalizeWithScure(fromBase64(v0Answer)).hex);
      if (signed.finalTxHex) expect(extracted.toHex()).toBe(signed.finalTxHex);
      expect(extracted.ins.map((i) => toHex(i.hash))).toEqual(parsed.tx.ins.map((i) => toHex(i.hash)));
      expect(extracted.outs).toEqual(parsed.tx.outs);
      expect(extracted.locktime).toBe(parsed.tx.locktime);
    });
  }
});
