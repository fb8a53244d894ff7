/**
 * The operator's whole path in real headless Chromium, against the test host running the real appliance (embedded
 * SoftHSM2 token, SQLite, officers and a signed policy made with the real CLI):
 * an animated UR of a PSBT scanned through the REAL camera path (Chromium's fake capture device playing a .y4m made
 * from the QR frame PNGs) → review → an officer's approval → sign → the signed animated QR read back off the screen
 * and checked by an independent library; a policy refusal; a malformed QR image; policy and audit screens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applianceKeyOf } from '../support/cli.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as bitcoin from 'bitcoinjs-lib';
import { createNodeZxingDecoder } from '../../appliance/qr-reader.js';
import { isColdsignError } from '../../core/errors.js';
import {
  UrAssembler,
  createUrFountain,
  decodeCryptoPsbt,
  decodeQrImage,
  psbtToUr,
  renderQrPng,
  assembleUr,
} from '../../qr/index.js';
import {
  buildPsbt,
  checkSignedPsbt,
  checkSignedTransaction,
  erc20TransferRequest,
  USDC,
} from '../../scripts/demo/coordinator.js';
import {
  APP_PIN,
  launchApp,
  runOk,
  unlockWith,
  writeFileIn,
  removeAppBuild,
  type AppUnderTest,
} from './support/app-host.js';
import { writeY4m } from './support/y4m.js';

const EXCHANGE = bitcoin.payments.p2wpkh({
  pubkey: Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
}).address!;
const PAYROLL = '0x2222222222222222222222222222222222222222';
const PASS = { alice: 'alice-passphrase', bob: 'bob-passphrase' };

let app: AppUnderTest;
let dir: string;
let vaultAddress: string;
let ethAddress: string;
let requestParts: string[];

function policy(version: number, maxAmount: string) {
  return {
    version,
    rules: [
      {
        id: 'btc-exchange',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-btc'],
        destinations: [{ address: EXCHANGE, label: 'Exchange hot wallet' }],
        maxAmount,
        maxFeeRate: 50,
        approvals: 1,
      },
      {
        id: 'usdc-payroll',
        chain: 'evm',
        chainIds: [1],
        kinds: ['token_transfer'],
        tokens: [{ contract: USDC, symbol: 'USDC', decimals: 6, maxAmount: '25000' }],
        destinations: [{ address: PAYROLL, label: 'Payroll' }],
        maxFee: '0.01',
        approvals: 0,
      },
    ],
  };
}

function signedPolicyFile(name: string, document: object, cli: AppUnderTest['cli']): string {
  const path = writeFileIn(cli.dir, name, JSON.stringify({ ...document, appliance: applianceKeyOf(cli) }));
  for (const officer of ['alice', 'bob'] as const) {
    runOk(cli, ['policy', 'sign', path, '--key', join(cli.dir, `${officer}.pem`)], {
      COLDSIGN_PASSPHRASE: PASS[officer],
    });
  }
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'coldsign-app-flow-'));
  // The request is built once the vault key exists, but Chromium's camera file is fixed at launch: the home is made
  // first (beforeInit/prepare), the .y4m written in prepare, before the browser starts.
  const video = join(dir, 'request.y4m');
  app = await launchApp({
    fakeCamera: video,
    beforeInit: (cli) => {
      const args: string[] = [];
      for (const officer of ['alice', 'bob'] as const) {
        const out = runOk(cli, ['officer', 'keygen', officer, '--out', join(cli.dir, `${officer}.pem`)], {
          COLDSIGN_PASSPHRASE: PASS[officer],
        });
        args.push('--officer', `${officer}=${out.trim().split('\n').at(-1)}`);
      }
      return [...args, '--quorum', '2'];
    },
    prepare: (cli) => {
      runOk(cli, ['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc']);
      runOk(cli, ['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth']);
      const keys = JSON.parse(runOk(cli, ['keys', 'list', '--json'])) as {
        keys: Array<{ label: string; address: string }>;
      };
      vaultAddress = keys.keys.find((k) => k.label === 'vault-btc')!.address;
      ethAddress = keys.keys.find((k) => k.label === 'vault-eth')!.address;
      runOk(cli, ['policy', 'apply', signedPolicyFile('policy-1.json', policy(1, '0.5'), cli)]);
      // 0.1 BTC to the exchange, change back to the vault: an animated crypto-psbt UR (pure fragments, then fountain parts).
      const psbt = Buffer.from(
        buildPsbt(vaultAddress, EXCHANGE, 10_000_000n, 2_000n, [8_000_000n, 5_000_000n]),
        'base64',
      );
      const message = assembleUr(psbtToUr(psbt, 400));
      const fountain = createUrFountain(message.type, message.cbor, 40);
      requestParts = Array.from({ length: fountain.fragmentCount * 2 }, () => fountain.nextPart());
      writeY4m(
        video,
        requestParts.map((p) => renderQrPng(p, { scale: 4 })),
        { width: 640, height: 480, framesPerSecond: 10, repeat: 3 },
      );
    },
  });
});
afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  removeAppBuild();
});

/** Reads the animated QR of the result screen off the screen (screenshots of the canvas) until the UR is complete. */
async function readAnimatedQrOffScreen(): Promise<Uint8Array> {
  const decoder = await createNodeZxingDecoder();
  const assembler = new UrAssembler();
  const canvas = app.page.locator('.animated-qr canvas').first();
  for (let attempt = 0; attempt < 400 && !assembler.isComplete(); attempt++) {
    try {
      for (const text of await decodeQrImage(await canvas.screenshot(), decoder)) assembler.receivePart(text);
    } catch (error) {
      // A screenshot taken while the canvas redraws can be unreadable; any other failure is real.
      if (!isColdsignError(error, 'QR_UNREADABLE')) throw error;
    }
  }
  return decodeCryptoPsbt(assembler.result());
}

describe('an allowed PSBT through the camera', () => {
  it('scans the animated UR through the camera and reviews it: allowlist label, change, fee, verdict', async () => {
    const { page } = app;
    await page.locator('#pin').waitFor();
    await unlockWith(page, APP_PIN);
    await page.locator('#camera-button').click();
    // A screenshot of the live progress when the scan is caught in the middle (not asserted: it depends on timing).
    const partial = page.locator('#scan-progress-text', { hasText: /^Animated QR: [1-9]\d?% received/ });
    const review = page.locator('h1', { hasText: 'Review' });
    await Promise.race([partial.waitFor(), review.waitFor()]);
    if (await partial.count()) await app.screenshot('05-scan-camera-progress');
    await review.waitFor();
    const spend = page.locator('#movements tr.spend');
    expect(await spend.textContent()).toContain(EXCHANGE);
    expect(await spend.textContent()).toContain('Exchange hot wallet');
    expect(await spend.textContent()).toContain('0.1 BTC');
    const change = page.locator('#movements tr.change');
    expect(await change.textContent()).toContain(vaultAddress);
    expect(await change.textContent()).toContain('CHANGE');
    expect(await page.locator('#fee').textContent()).toContain('0.00002 BTC');
    expect(await page.locator('#fee').textContent()).toMatch(/Fee rate[\d.]+ sat\/vB/);
    expect(await page.locator('#verdict h2').textContent()).toBe('Policy: ALLOWED by rule "btc-exchange"');
    expect(await page.locator('#approval-count').textContent()).toBe('0 of 1 approvals');
    expect(await page.locator('#sign-button').isDisabled()).toBe(true);
    await app.screenshot('06-review');
  });

  it('refuses a wrong officer passphrase, then counts an approval toward the quorum', async () => {
    const { page } = app;
    await page.locator('#officer-key').setInputFiles(join(app.cli.dir, 'alice.pem'));
    await page.locator('#officer-passphrase').fill('not-her-passphrase');
    await page.locator('#approve-form button[type=submit]').click();
    const alert = page.locator('#approve-form .notice.error');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('OFFICER_PASSPHRASE_INCORRECT');

    await page.locator('#officer-key').setInputFiles(join(app.cli.dir, 'alice.pem'));
    await page.locator('#officer-passphrase').fill(PASS.alice);
    await page.locator('#approve-form button[type=submit]').click();
    await page.locator('#approval-count', { hasText: '1 of 1 approvals' }).waitFor();
    expect(await page.locator('#sign-button').isDisabled()).toBe(false);
    await app.screenshot('07-approvals');
  });

  it('signs, and the animated QR read back off the screen is a signed PSBT an independent library finalizes', async () => {
    const { page } = app;
    await page.locator('#sign-button').click();
    await page.locator('h1', { hasText: 'Signed' }).waitFor();
    await app.screenshot('08-result');
    const signed = await readAnimatedQrOffScreen();
    expect(checkSignedPsbt(signed)).toMatch(/^[0-9a-f]{64}$/);
    const download = page.waitForEvent('download');
    await page.locator('#save-0').click();
    const saved = readFileSync(await (await download).path());
    expect(saved.length).toBeGreaterThan(0);
    // The same signed PSBT can be saved as a binary .psbt file (BIP-174 magic "psbt" 0xff).
    const psbtDownload = page.waitForEvent('download');
    await page.locator('#save-psbt-0').click();
    const file = await psbtDownload;
    expect(file.suggestedFilename()).toMatch(/\.signed\.psbt$/);
    const psbt = readFileSync(await file.path());
    expect(psbt.subarray(0, 5).toString('hex')).toBe('70736274ff');
    expect(checkSignedPsbt(psbt)).toBe(checkSignedPsbt(signed));
  });

  it('re-splits the signed QR at another density; it still reads back to the same PSBT', async () => {
    const before = await readAnimatedQrOffScreen();
    await app.page.locator('#density-0').selectOption('100');
    expect(await app.page.locator('.frame-counter').textContent()).toMatch(/of \d+/);
    const after = await readAnimatedQrOffScreen();
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(true);
  });
});

describe('an EVM token transfer from a file', () => {
  it('shows the decoded ERC-20 call and the allowlist label, signs, and the saved transaction recovers to our key', async () => {
    const { page } = app;
    await page.locator('#done').click();
    await page
      .locator('#open-files')
      .setInputFiles(
        writeFileIn(dir, 'payroll.json', erc20TransferRequest(ethAddress, USDC, PAYROLL, '12000', 6, 0)),
      );
    await page.locator('#decoded-call').waitFor();
    expect(await page.locator('#decoded-call').textContent()).toMatch(/transfer\(address,uint256\)/);
    expect(await page.locator('#decoded-call').textContent()).toContain(PAYROLL);
    expect(await page.locator('#movements tr.spend').textContent()).toContain('Payroll');
    expect(await page.locator('#movements tr.spend').textContent()).toContain('12000.0 USDC');
    expect(await page.locator('#verdict h2').textContent()).toBe('Policy: ALLOWED by rule "usdc-payroll"');
    await app.screenshot('08b-review-evm-token');
    await page.locator('#sign-button').click();
    await page.locator('h1', { hasText: 'Signed' }).waitFor();
    const download = page.waitForEvent('download');
    await page.locator('#save-0').click();
    const saved = readFileSync(await (await download).path(), 'utf8');
    expect(checkSignedTransaction(saved).from).toBe(ethAddress);
    // The QR on screen carries the same signed transaction (a plain QR: it fits one frame).
    const shown = await decodeQrImage(
      await page.locator('.animated-qr canvas').screenshot(),
      await createNodeZxingDecoder(),
    );
    expect(shown).toEqual([saved.trim()]);
    await app.screenshot('08c-result-evm');
  });
});

describe('refusals and bad input', () => {
  it('shows a policy refusal with its reason and no way to sign', async () => {
    const { page } = app;
    await page.locator('#done').click();
    const psbt = Buffer.from(buildPsbt(vaultAddress, EXCHANGE, 80_000_000n, 2_000n, [90_000_000n]), 'base64');
    await page.locator('#open-files').setInputFiles(writeFileIn(dir, 'too-much.psbt', psbt));
    await page.locator('#verdict h2', { hasText: 'REFUSED' }).waitFor();
    // The policy counts the fee as value leaving: 0.8 BTC sent + 0.00002 BTC fee against the 0.5 BTC limit.
    expect(await page.locator('#reasons').textContent()).toMatch(/0\.80002 BTC exceeds the 0\.5 BTC limit/);
    expect(await page.locator('#sign-button').count()).toBe(0);
    expect(await page.locator('#approve-form').count()).toBe(0);
    await app.screenshot('09-review-refused');
  });

  it('reviews a request opened as a folder of animated-QR frame images (in any order)', async () => {
    const { page } = app;
    await page.locator('#start-over').click();
    const frames = join(dir, 'frames');
    mkdirSync(frames);
    const psbt = Buffer.from(
      buildPsbt(vaultAddress, EXCHANGE, 20_000_000n, 3_000n, [15_000_000n, 9_000_000n]),
      'base64',
    );
    psbtToUr(psbt, 150)
      .reverse()
      .forEach((part, i) =>
        writeFileSync(
          join(frames, `frame-${String(i + 1).padStart(4, '0')}.png`),
          renderQrPng(part, { scale: 4 }),
        ),
      );
    await page.locator('#open-folder').setInputFiles(frames);
    await page.locator('#verdict h2', { hasText: 'ALLOWED' }).waitFor();
    expect(await page.locator('#movements tr.spend').textContent()).toContain('0.2 BTC');
  });

  it('rejects a QR image that holds no request, with its code, and stays on the scan screen', async () => {
    const { page } = app;
    await page.locator('#start-over').click();
    await page
      .locator('#open-files')
      .setInputFiles(
        writeFileIn(dir, 'not-a-request.png', renderQrPng('hello from a stranger', { scale: 6 })),
      );
    const alert = page.locator('.notice.error');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('INPUT_UNRECOGNIZED');
    expect(await page.locator('h1').textContent()).toBe('Scan a request');
  });
});

describe('policy and audit', () => {
  it('imports a signed policy, shows the change, applies it', async () => {
    const { page } = app;
    await page.keyboard.press('Alt+4');
    await page.locator('#policy-active', { hasText: 'btc-exchange' }).waitFor();
    await page
      .locator('#policy-file')
      .setInputFiles(signedPolicyFile('policy-2.json', policy(2, '0.9'), app.cli));
    await page.locator('#policy-preview .diff').waitFor();
    expect(await page.locator('#policy-preview .diff').textContent()).toMatch(/0\.9/);
    await app.screenshot('10-policy-diff');
    await page.locator('#policy-apply').click();
    await page.locator('#policy-preview', { hasText: 'Policy version 2 is now active.' }).waitFor();
  });

  it('verifies the audit log and exports it', async () => {
    const { page } = app;
    await page.keyboard.press('Alt+5');
    await page.locator('#audit-table').waitFor();
    await page.locator('#audit-verify').click();
    await page.locator('#audit-verify-result', { hasText: 'The audit log verifies' }).waitFor();
    await app.screenshot('11-audit');
    const download = page.waitForEvent('download');
    await page.locator('#audit-export').click();
    expect(readFileSync(await (await download).path(), 'utf8').length).toBeGreaterThan(0);
  });
});
