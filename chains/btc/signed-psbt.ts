/**
 * The signed PSBT's records (pure): the request's own BIP-174 maps, as received and reviewed, with what this
 * appliance adds. As Signer (and Updater): our partial signatures, and the redeem/witness scripts we supplied.
 * As Finalizer: for each input we finalize, the UTXO and unknown records are kept, the final scriptSig and
 * witness added and every other record cleared (BIP-174 "Input Finalizer"; the fields bip174's
 * clearFinalizedInput clears). bip174's toBuffer re-encoded every field of every input instead (about a tenth
 * of a 1,000-input signing on this host); test/btc/signed-psbt.test.ts compares the two.
 */
import { concatBytes } from '../../core/bytes.js';
import { serializeWitness, type FinalScripts } from './finalize.js';
import { keyType, type KeyValue, type PsbtMaps } from './maps.js';
import type { BtcSignRequest } from './summarize.js';

// BIP-174 per-input key types.
const PSBT_IN_PARTIAL_SIG = 0x02;
const PSBT_IN_REDEEM_SCRIPT = 0x04;
const PSBT_IN_WITNESS_SCRIPT = 0x05;
const PSBT_IN_FINAL_SCRIPTSIG = 0x07;
const PSBT_IN_FINAL_SCRIPTWITNESS = 0x08;
/** Known input fields a Finalizer clears: partial sigs, sighash, scripts, derivations, PoR, Taproot (BIP-371). */
const CLEARED_WHEN_FINAL = new Set([0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]);

/** Adds `records` of one type without key data unless the input already has one (BIP-174 Updater). */
function addScript(records: KeyValue[], type: number, script: Uint8Array | undefined): void {
  if (!script || records.some((r) => r.key.length === 1 && r.key[0] === type)) return;
  records.push({ key: Uint8Array.of(type), value: script });
}

/**
 * The maps of the signed PSBT: `made` signatures added as partial signatures, or, with `finals`, those
 * inputs finalized. The maps of inputs we did not touch, the global map and the outputs are the request's.
 */
export function signedPsbtMaps(
  maps: PsbtMaps,
  made: readonly { request: BtcSignRequest; signature: Uint8Array }[],
  finals?: ReadonlyMap<number, FinalScripts>,
): PsbtMaps {
  const inputs = maps.inputs.slice();
  if (finals) {
    for (const [index, final] of finals) {
      const records = maps.inputs[index]!.filter((r) => !CLEARED_WHEN_FINAL.has(keyType(r)));
      if (final.scriptSig)
        records.push({ key: Uint8Array.of(PSBT_IN_FINAL_SCRIPTSIG), value: final.scriptSig });
      if (final.witness) {
        records.push({
          key: Uint8Array.of(PSBT_IN_FINAL_SCRIPTWITNESS),
          value: final.serializedWitness ?? serializeWitness(final.witness),
        });
      }
      inputs[index] = records;
    }
    return { global: maps.global, inputs, outputs: maps.outputs };
  }
  const copied = new Set<number>();
  for (const { request, signature } of made) {
    if (!copied.has(request.input)) {
      inputs[request.input] = maps.inputs[request.input]!.slice();
      copied.add(request.input);
    }
    const records = inputs[request.input]!;
    addScript(records, PSBT_IN_REDEEM_SCRIPT, request.supplied?.redeemScript);
    addScript(records, PSBT_IN_WITNESS_SCRIPT, request.supplied?.witnessScript);
    // PSBT_IN_PARTIAL_SIG: <0x02><pubkey> → <signature as pushed to the stack>
    records.push({
      key: concatBytes(Uint8Array.of(PSBT_IN_PARTIAL_SIG), request.publicKey),
      value: signature,
    });
  }
  return { global: maps.global, inputs, outputs: maps.outputs };
}
