/**
 * MetaMask's own QR keyring (@metamask/eth-qr-keyring) as the online side, wired to a coldsign home run as the
 * real CLI: each eth-sign-request the keyring asks to be scanned is handed to `coldsign sign` as UR parts, and
 * the eth-signature coldsign writes is what the keyring "scans" back.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QrKeyring, type QrKeyringBridge, type QrScanRequest } from '@metamask/eth-qr-keyring';
import { expect } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { collectPartsFromText, encodeUrParts, assembleUr, type UrType } from '../../../qr/index.js';
import type { CliHome } from '../../support/cli.js';

export interface SignedThroughColdsign {
  /** The request UR parts coldsign was given. */
  requestParts: string[];
  /** coldsign's --json report. */
  report: { summary: Record<string, unknown>; status: string };
}

/** A bridge whose "scan" runs coldsign on the request and returns its eth-signature (or throws coldsign's error). */
export class ColdsignBridge implements QrKeyringBridge {
  readonly signed: SignedThroughColdsign[] = [];
  /** Shared by every bridge of the process: each request and signature gets a file of its own. */
  private static count = 0;

  constructor(private readonly cli: CliHome) {}

  async requestScan(request: QrScanRequest): Promise<{ type: string; cbor: string }> {
    // MetaMask scans the pairing QR before any signature; these tests pair with pairDevice directly.
    if (request.type === 'pair') throw new Error('pairing is done with pairDevice in these tests');
    const { payload } = request.request!;
    const parts = encodeUrParts(payload.type as UrType, fromHex(payload.cbor));
    const n = ++ColdsignBridge.count;
    const input = join(this.cli.dir, `mm-request-${n}.ur.txt`);
    const output = join(this.cli.dir, `mm-signature-${n}.ur.txt`);
    writeFileSync(input, parts.join('\n'));
    const result = this.cli.run(['sign', input, '--out', output, '--json']);
    if (result.code !== 0) {
      const error = (JSON.parse(result.stdout) as { error: { code: string; message: string } }).error;
      throw Object.assign(new Error(error.message), { code: error.code });
    }
    this.signed.push({ requestParts: parts, report: result.json() });
    const message = assembleUr(collectPartsFromText(readFileSync(output, 'utf8')));
    expect(message.type).toBe('eth-signature');
    return { type: message.type, cbor: toHex(message.cbor) };
  }
}

/** A QR keyring paired from coldsign's crypto-account UR, as MetaMask pairs it (pairDevice with the scanned UR). */
export function pairedKeyring(
  cli: CliHome,
  pairingUr: string,
): { keyring: QrKeyring; bridge: ColdsignBridge } {
  const bridge = new ColdsignBridge(cli);
  const keyring = new QrKeyring({ bridge });
  keyring.pairDevice(pairingUr);
  return { keyring, bridge };
}
