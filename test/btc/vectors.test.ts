// Official BIP-174 vectors (Bitcoin Core's rpc_psbt.json excerpt): valid ones round-trip byte for byte in
// every transport encoding, invalid ones fail with a specific ColdsignError code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePsbt, serializeParsed } from '../../chains/btc/parse.js';
import { encodePsbtTransport, MAX_PSBT_INPUT_BYTES } from '../../chains/btc/encoding.js';
import { toHex } from '../../core/bytes.js';
import { isColdsignError, type ErrorCode } from '../../core/errors.js';

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/bip174/rpc_psbt.excerpt.json', import.meta.url), 'utf8'),
) as {
  invalid: string[];
  valid: string[];
};
const text = (s: string) => new TextEncoder().encode(s);
const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isColdsignError(error) ? error.code : `not a ColdsignError: ${String(error)}`;
  }
  return 'no error';
}

// Expected code per excerpt index (see test/vectors/bip174/SOURCE.md for what each vector is).
const INVALID: ErrorCode[] = [
  'PSBT_BAD_MAGIC', // 0 a network transaction, not a PSBT
  'PSBT_TRUNCATED', // 1 output maps missing
  'PSBT_INVALID', // 2 unsigned tx with scriptSigs
  'PSBT_INVALID', // 3 no unsigned tx
  'PSBT_DUPLICATE_KEY', // 4 duplicate keys in an input
  'PSBT_INVALID', // 5 global unsigned tx key with key data
  'PSBT_INVALID', // 6 input witness utxo key with key data
  'PSBT_INVALID', // 7 partial signature key not a public key
  'PSBT_INVALID', // 8 redeemScript key with key data
  'PSBT_INVALID', // 9 witnessScript key with key data
  'PSBT_INVALID', // 10 BIP-32 derivation key not a public key
  'PSBT_INVALID', // 11 non-witness utxo key with key data
  'PSBT_INVALID', // 12 final scriptSig key with key data
  'PSBT_INVALID', // 13 final scriptWitness key with key data
  'PSBT_INVALID', // 14 output BIP-32 derivation key not a public key
  'PSBT_INVALID', // 15 sighash type key with key data
  'PSBT_INVALID', // 16 output redeemScript key with key data
  'PSBT_TRUNCATED', // 17 output witnessScript key with key data (declared sizes overrun the data)
  'PSBT_INVALID', // 18 base64 without its padding
  'PSBT_VERSION_UNSUPPORTED', // 19 PSBT version 1
  'PSBT_DUPLICATE_KEY', // 20 zero-input tx, output map repeats a key
  'PSBT_DUPLICATE_KEY', // 21
  'PSBT_DUPLICATE_KEY', // 22 repeated witness utxo
  'PSBT_DUPLICATE_KEY', // 23 repeated sighash type
  'PSBT_DUPLICATE_KEY', // 24 repeated redeemScript
  'PSBT_DUPLICATE_KEY', // 25 repeated witnessScript
  'PSBT_DUPLICATE_KEY', // 26 repeated final scriptSig
  'PSBT_DUPLICATE_KEY', // 27 repeated final scriptWitness
  'PSBT_INVALID', // 28 Taproot internal key of 33 bytes
  'PSBT_INVALID', // 29 Taproot key signature of 63 bytes
  'PSBT_UTXO_MISMATCH', // 30 non_witness_utxo txid differs from the prevout
  'PSBT_UTXO_MISMATCH', // 31 prevout index beyond the previous tx's outputs
  'PSBT_INVALID', // 32 version 2 with an unsigned tx (BIP-370 excludes PSBT_GLOBAL_UNSIGNED_TX)
  'PSBT_INVALID', // 33 BIP-370 field in a v0 PSBT
  'PSBT_INVALID', // 34 a BIP-370 v2 PSBT without PSBT_GLOBAL_INPUT_COUNT
];

describe('BIP-174 invalid vectors', () => {
  it('covers every vector of the excerpt', () => {
    expect(INVALID).toHaveLength(vectors.invalid.length);
  });
  vectors.invalid.forEach((vector, index) => {
    it(`invalid ${index} fails with ${INVALID[index]}`, () => {
      expect(codeOf(() => parsePsbt(text(vector)))).toBe(INVALID[index]);
    });
  });
  it('invalid 31 names the index spent and how many outputs the previous transaction has', () => {
    expect(() => parsePsbt(text(vectors.invalid[31]!))).toThrow(
      /^Input \d+ spends output \d+, but its previous transaction has only \d+ outputs?\.$/,
    );
  });
});

describe('BIP-174 valid vectors', () => {
  vectors.valid.forEach((vector, index) => {
    if (index === 5) {
      it('valid 5 (no inputs) parses as a PSBT but is refused: nothing to sign', () => {
        expect(codeOf(() => parsePsbt(text(vector)))).toBe('PSBT_NOTHING_TO_SIGN');
      });
      return;
    }
    it(`valid ${index} round-trips byte for byte in binary, base64 and hex`, () => {
      const binary = fromBase64(vector);
      for (const encoding of ['binary', 'base64', 'hex'] as const) {
        const parsed = parsePsbt(encodePsbtTransport(binary, encoding));
        expect(parsed.encoding).toBe(encoding);
        expect(toHex(parsed.canonical)).toBe(toHex(binary));
        expect(toHex(serializeParsed(parsed))).toBe(toHex(binary));
        expect(toHex(parsed.psbt.toBuffer()).length).toBeGreaterThan(0);
        // the txid is hashed from the unsigned transaction's record: the same as bitcoinjs-lib's re-serialization
        expect(parsed.txid).toBe(parsed.tx.getId());
      }
    });
  });

  it('decodes the same request identically from text with surrounding whitespace', () => {
    const parsed = parsePsbt(text(`\n  ${vectors.valid[0]}\r\n`));
    expect(parsed.encoding).toBe('base64');
    expect(encodePsbtTransport(parsed.canonical, 'base64')).toEqual(text(vectors.valid[0]!));
  });

  it('infers the network from xpub versions and BIP-44 coin types', () => {
    // valid 8 carries tpub-versioned xpubs (test networks)
    expect(parsePsbt(text(vectors.valid[8]!)).networkHint).toBe('test');
    expect(parsePsbt(text(vectors.valid[0]!)).networkHint).toBeUndefined();
  });
});

describe('transport limits', () => {
  it('refuses an empty request', () => {
    expect(codeOf(() => parsePsbt(new Uint8Array()))).toBe('INPUT_EMPTY');
  });
  it('refuses a request over the size cap before decoding it', () => {
    expect(codeOf(() => parsePsbt(new Uint8Array(MAX_PSBT_INPUT_BYTES + 1)))).toBe('INPUT_TOO_LARGE');
  });
  it('refuses binary that is not a PSBT and hex of the wrong magic', () => {
    expect(codeOf(() => parsePsbt(Uint8Array.of(0, 1, 2, 0xff, 0xfe)))).toBe('PSBT_BAD_MAGIC');
    expect(codeOf(() => parsePsbt(text('0200000001')))).toBe('PSBT_BAD_MAGIC');
    expect(codeOf(() => parsePsbt(text('70736274ff0')))).toBe('PSBT_INVALID');
  });
  it('refuses trailing bytes after the last map', () => {
    const binary = fromBase64(vectors.valid[0]!);
    const padded = new Uint8Array(binary.length + 3);
    padded.set(binary);
    padded.set([0xde, 0xad, 0xbe], binary.length);
    expect(codeOf(() => parsePsbt(padded))).toBe('PSBT_TRAILING_BYTES');
  });
  it('reports whole extra maps as inconsistent counts', () => {
    const binary = fromBase64(vectors.valid[0]!);
    const extra = new Uint8Array(binary.length + 4);
    extra.set(binary);
    extra.set([0x01, 0x07, 0x00, 0x00], binary.length); // one more map: final scriptSig, empty
    expect(codeOf(() => parsePsbt(extra))).toBe('PSBT_INCONSISTENT');
  });
  it('reports a PSBT cut anywhere as truncated', () => {
    const binary = fromBase64(vectors.valid[4]!);
    for (let cut = 5; cut < binary.length; cut += 7) {
      expect(codeOf(() => parsePsbt(binary.subarray(0, cut)))).toBe('PSBT_TRUNCATED');
    }
  });
});

describe('base64 transport encoder', () => {
  it('matches Node’s encoder for every length and content', () => {
    for (let length = 0; length < 300; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 151 + length * 7) & 0xff);
      expect(new TextDecoder().decode(encodePsbtTransport(bytes, 'base64'))).toBe(
        Buffer.from(bytes).toString('base64'),
      );
    }
  });
});

describe('looksLikePsbt (intake detection)', () => {
  it('recognises the three encodings and nothing else', async () => {
    const { looksLikePsbt } = await import('../../chains/btc/encoding.js');
    const binary = fromBase64(vectors.valid[0]!);
    expect(looksLikePsbt(binary)).toBe('binary');
    expect(looksLikePsbt(encodePsbtTransport(binary, 'base64'))).toBe('base64');
    expect(looksLikePsbt(text(`  ${toHex(binary).toUpperCase()}`))).toBe('hex');
    expect(toHex(parsePsbt(text(toHex(binary).toUpperCase())).canonical)).toBe(toHex(binary));
    expect(looksLikePsbt(text('02000000000101'))).toBeNull();
    expect(looksLikePsbt(text('{"type":"transaction"}'))).toBeNull();
  });
});

describe('official vectors through the summary', () => {
  it('valid 4 (P2SH-P2WSH 2-of-2, one partial signature): with the other key registered, exactly the missing signature is planned', async () => {
    const { summarizePsbt } = await import('../../chains/btc/summarize.js');
    const { decodeMultisig } = await import('../../chains/btc/scripts.js');
    const parsed = parsePsbt(text(vectors.valid[4]!));
    const input = parsed.psbt.data.inputs[0]!;
    const signedBy = toHex(input.partialSig![0]!.pubkey);
    const missing = decodeMultisig(input.witnessScript!)!
      .pubkeys.map(toHex)
      .find((k) => k !== signedBy)!;
    const keys = [
      {
        label: 'cosigner',
        chain: 'btc' as const,
        publicKey: missing,
        keyId: 'id',
        address: '',
        network: 'testnet' as const,
        createdAt: '',
      },
    ];
    // the 2-of-2 is signed only as a registered wallet (BIP-383 descriptor of the vector's witness script)
    const { parseWalletDescriptor } = await import('../../core/btc-wallet.js');
    const ms = decodeMultisig(input.witnessScript!)!;
    const wallets = [
      parseWalletDescriptor(
        'vector',
        `sh(wsh(multi(${ms.m},${ms.pubkeys.map(toHex).join(',')})))`,
        'testnet',
      ),
    ];
    expect(
      codeOf(() => summarizePsbt(parsed, keys, { network: 'testnet', allowWitnessUtxoOnly: true })),
    ).toBe('PSBT_WALLET_UNREGISTERED');
    // only witness_utxo is given: refused by default (CVE-2020-14199), planned when the policy relaxes it
    expect(codeOf(() => summarizePsbt(parsed, keys, { network: 'testnet', wallets }))).toBe(
      'PSBT_UTXO_MISSING',
    );
    const { summary, plan } = summarizePsbt(parsed, keys, {
      network: 'testnet',
      allowWitnessUtxoOnly: true,
      wallets,
    });
    expect(plan.requests.map((r) => toHex(r.publicKey))).toEqual([missing]);
    expect(plan.requests[0]!.kind).toBe('p2sh-p2wsh-multisig');
    expect(plan.finalize).toBe(false);
    expect((summary.details as { inputs: { multisig?: string; ours: boolean }[] }).inputs[0]).toMatchObject({
      ours: true,
      multisig: '2-of-2',
    });
    // 1.99909013 BTC in, 1.99908 BTC out (the vector's witness_utxo and output)
    expect(summary.fee).toMatchObject({ raw: '1013', amount: '0.00001013' });
  });
});
