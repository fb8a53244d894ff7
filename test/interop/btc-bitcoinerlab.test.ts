// @bitcoinerlab/descriptors as the online side: it reads coldsign's exported descriptor (with its BIP-380
// checksum), builds the PSBT from it (updatePsbtAsInput / updatePsbtAsOutput), coldsign signs in SoftHSM2,
// and the library's own finalizer finalizes and extracts the transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as descriptors from '@bitcoinerlab/descriptors';
import * as btc from '@scure/btc-signer';
import { parsePsbt, signPsbt, summarizePsbt } from '../../chains/btc/index.js';
import { keyDescriptor } from '../../appliance/btc-key-export.js';
import { describeKey } from '../../appliance/keys.js';
import { toHex } from '../../core/bytes.js';
import type { BtcScriptType } from '../../core/signer.js';
import type { Hsm } from '../../hsm/index.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { foreignScript, previousTx } from '../btc/support/fixtures.js';

const { Output } = descriptors.DescriptorsFactory(descriptors.ecc);
const network = descriptors.networks.regtest;

let token: TestToken;
let hsm: Hsm;
beforeAll(() => {
  token = createTestToken();
  hsm = token.open();
});
afterAll(() => {
  hsm?.close();
  token?.cleanup();
});

describe('@bitcoinerlab/descriptors builds from the exported descriptor and finalizes what coldsign signs', () => {
  for (const script of ['p2wpkh', 'p2sh-p2wpkh', 'p2pkh'] as const satisfies readonly BtcScriptType[]) {
    it(script, async () => {
      const made = await hsm.keys.generate(`lab-${script}`);
      const key = describeKey(
        { chain: 'btc', label: `lab-${script}`, script, network: 'regtest' },
        made.publicKey,
        made.keyId,
        new Date(0),
      );
      const input = new Output({ descriptor: await keyDescriptor(key), network, checksumRequired: true });
      expect(input.getAddress()).toBe(key.address);
      const funding = previousTx(input.getScriptPubKey(), 100_000n);
      const psbt = new descriptors.Psbt({ network });
      const finalize = input.updatePsbtAsInput({ psbt, txHex: toHex(funding.bytes), vout: 0 });
      const destination = btc
        .Address({ ...btc.TEST_NETWORK, bech32: 'bcrt' })
        .encode(btc.OutScript.decode(foreignScript(5)));
      new Output({ descriptor: `addr(${destination})`, network }).updatePsbtAsOutput({
        psbt,
        value: 90_000n,
      });
      // coldsign signs the library's PSBT
      const parsed = parsePsbt(psbt.toBuffer());
      const { plan } = summarizePsbt(parsed, [key], { network: 'regtest' });
      const signed = await signPsbt(parsed, plan, hsm.signer);
      expect(signed.signatures).toHaveLength(1);
      // the library reads the answer; it finalizes unless coldsign already did
      const answer = descriptors.Psbt.fromBuffer(Buffer.from(signed.psbt), { network });
      const input0 = answer.data.inputs[0]!;
      if (!input0.finalScriptSig && !input0.finalScriptWitness) finalize({ psbt: answer });
      const tx = answer.extractTransaction();
      expect(tx.outs[0]!.value).toBe(90_000n);
      if (signed.finalTxHex) expect(tx.toHex()).toBe(signed.finalTxHex);
      expect(toHex(tx.ins[0]!.hash.slice().reverse())).toBe(funding.txid);
    });
  }
});
