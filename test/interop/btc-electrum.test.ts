// Electrum as the online side (Debian's python3-electrum 4.3, Electrum's own code): an imported-address
// watch-only wallet for a coldsign key makes the unsigned PSBT, a SoftHSM2 key signs it through coldsign's
// chain code and finalizes it (`sign --finalize`), Electrum combines and extracts, and the final transaction is checked with @scure/btc-signer
// (every signature verifies under scure's own digest; inputs and outputs are the PSBT's).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as btc from '@scure/btc-signer';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Transaction } from 'bitcoinjs-lib';
import { parsePsbt, signPsbt, summarizePsbt } from '../../chains/btc/index.js';
import { describeKey } from '../../appliance/keys.js';
import { fromHex, toHex } from '../../core/bytes.js';
import type { BtcScriptType, KeyRecord } from '../../core/signer.js';
import type { Hsm } from '../../hsm/index.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { foreignScript, previousTx } from '../btc/support/fixtures.js';

/** Debian's interpreter, where python3-electrum installs (scripts/setup.sh test installs the package). */
const PYTHON = '/usr/bin/python3';
const SIDE = join(import.meta.dirname, 'electrum', 'electrum_side.py');
const REGTEST = { ...btc.TEST_NETWORK, bech32: 'bcrt' };

function electrum(args: string[]): string {
  return execFileSync(PYTHON, [SIDE, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

let token: TestToken;
let hsm: Hsm;
let version: string;

beforeAll(() => {
  const probe = spawnSync(PYTHON, ['-c', 'import electrum; print(electrum.version.ELECTRUM_VERSION)'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) {
    throw new Error(
      `python3-electrum is not installed (apt-get install python3-electrum): ${probe.stderr.trim()}`,
    );
  }
  version = probe.stdout.trim();
  token = createTestToken();
  hsm = token.open();
});
afterAll(() => {
  hsm?.close();
  token?.cleanup();
});

/** The final transaction's input signatures verify under scure's digest of the unsigned PSBT. */
function checkFinal(finalHex: string, unsignedPsbt: Uint8Array, key: KeyRecord, amount: bigint): void {
  const final = Transaction.fromHex(finalHex);
  const unsigned = btc.Transaction.fromPSBT(unsignedPsbt, {
    allowUnknownOutputs: true,
    allowLegacyWitnessUtxo: true,
  });
  expect(final.ins).toHaveLength(unsigned.inputsLength);
  expect(final.outs).toHaveLength(unsigned.outputsLength);
  for (let i = 0; i < unsigned.outputsLength; i++) {
    expect(toHex(final.outs[i]!.script)).toBe(toHex(unsigned.getOutput(i).script!));
    expect(final.outs[i]!.value).toBe(unsigned.getOutput(i).amount);
  }
  const publicKey = fromHex(key.publicKey);
  for (let i = 0; i < final.ins.length; i++) {
    const input = final.ins[i]!;
    expect(toHex(input.hash.slice().reverse())).toBe(
      unsigned.getInput(i).txid && toHex(unsigned.getInput(i).txid!),
    );
    let sig: Uint8Array;
    let digest: Uint8Array;
    if (key.script === 'p2pkh') {
      const [s, pk] = btc.Script.decode(input.script) as Uint8Array[];
      expect(toHex(pk!)).toBe(key.publicKey);
      sig = s!;
      digest = (
        unsigned as unknown as { preimageLegacy(i: number, s: Uint8Array, h: number): Uint8Array }
      ).preimageLegacy(i, btc.p2pkh(publicKey).script, sig[sig.length - 1]!);
    } else {
      expect(input.witness).toHaveLength(2);
      expect(toHex(input.witness[1]!)).toBe(key.publicKey);
      sig = input.witness[0]!;
      if (key.script === 'p2sh-p2wpkh') {
        expect(toHex(input.script)).toBe(toHex(btc.Script.encode([btc.p2wpkh(publicKey).script])));
      } else expect(input.script).toHaveLength(0);
      digest = unsigned.preimageWitnessV0(i, btc.p2pkh(publicKey).script, sig[sig.length - 1]!, amount);
    }
    expect(secp256k1.verify(sig.subarray(0, -1), digest, publicKey, { prehash: false, format: 'der' })).toBe(
      true,
    );
  }
}

describe('Electrum imported-address watch-only wallet', () => {
  // viaQr: the request is Electrum's QR text (base43, previous transactions replaced by witness_utxo, so a
  // rule must allow witness_utxo only), and the answer is base43, which Electrum reads back.
  const cases: { script: BtcScriptType; viaQr?: boolean }[] = [
    { script: 'p2wpkh' },
    { script: 'p2sh-p2wpkh' },
    { script: 'p2pkh' },
    { script: 'p2wpkh', viaQr: true },
  ];
  for (const { script, viaQr = false } of cases) {
    // An imported-address wallet knows no public key, so Electrum cannot finalize from partial signatures
    // itself: coldsign finalizes (`sign --finalize`; native segwit with an empty final scriptSig, BIP-174).
    const name = `${script}${viaQr ? " from Electrum's base43 QR" : ''}: Electrum makes the PSBT, coldsign signs and finalizes in SoftHSM2, Electrum combines and extracts`;
    it(name, async () => {
      const label = `electrum-${script}${viaQr ? '-qr' : ''}`;
      const made = await hsm.keys.generate(label);
      const key = describeKey(
        { chain: 'btc', label, script, network: 'regtest' },
        made.publicKey,
        made.keyId,
        new Date(0),
      );
      const amount = 100_000n;
      const funding = previousTx(btc.OutScript.encode(btc.Address(REGTEST).decode(key.address)), amount);
      const destination = btc.Address(REGTEST).encode(btc.OutScript.decode(foreignScript(3)));
      const datadir = mkdtempSync(join(tmpdir(), 'coldsign-electrum-'));
      try {
        const unsigned = electrum([
          'create',
          datadir,
          key.address,
          toHex(funding.bytes),
          destination,
          '60000',
          '1000',
        ]);
        expect(unsigned.startsWith('cHNidP8')).toBe(true);
        // An address-only wallet gives no redeem script: for P2SH-P2WPKH coldsign supplies it from the key.
        const electrumInput = btc.Transaction.fromPSBT(Buffer.from(unsigned, 'base64'), {
          allowUnknownOutputs: true,
        }).getInput(0);
        expect(electrumInput.redeemScript).toBeUndefined();
        // coldsign: parse, review, sign in the HSM (the request's encoding is kept: base64, or base43)
        const request = viaQr ? electrum(['qr', unsigned]) : unsigned;
        const parsed = parsePsbt(new TextEncoder().encode(request));
        expect(parsed.encoding).toBe(viaQr ? 'base43' : 'base64');
        const { plan, summary } = summarizePsbt(parsed, [key], {
          network: 'regtest',
          allowWitnessUtxoOnly: viaQr,
        });
        expect(summary.fee?.raw).toBe('1000');
        expect(plan.finalize).toBe(true);
        const signed = await signPsbt(parsed, plan, hsm.signer, { finalize: true });
        expect(signed.signatures).toHaveLength(1);
        expect(signed.finalTxHex).toBeDefined();
        const answer = new TextDecoder().decode(signed.psbt);
        if (viaQr) expect(answer).toMatch(/^[0-9A-Z$*+\-./:]+$/);
        const result = JSON.parse(electrum(['finalize', datadir, unsigned, answer])) as {
          complete: boolean;
          tx: string | null;
        };
        expect(result.complete).toBe(true);
        checkFinal(result.tx!, parsed.canonical, key, amount);
        expect(result.tx).toBe(signed.finalTxHex);
      } finally {
        if (existsSync(datadir)) rmSync(datadir, { recursive: true, force: true });
      }
    });
  }

  it('reports the Electrum version it ran', () => {
    expect(version).toMatch(/^4\./);
  });
});
