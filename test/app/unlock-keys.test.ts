/**
 * The renderer and preload contract end to end in real headless Chromium, against the test host running the real
 * core (embedded SoftHSM2 token, SQLite): unlock with a wrong and the right PIN, generate and list keys, and read the
 * address QR code back off the screen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeZxingDecoder } from '../../appliance/qr-reader.js';
import { decodeQrImage } from '../../qr/index.js';
import { APP_PIN, launchApp, unlockWith, removeAppBuild, type AppUnderTest } from './support/app-host.js';

let app: AppUnderTest;

beforeAll(async () => {
  app = await launchApp();
});
afterAll(async () => {
  await app?.close();
  removeAppBuild();
});

describe('unlock', () => {
  it('explains a wrong PIN and stays locked', async () => {
    const { page } = app;
    await page.locator('#pin').waitFor();
    await app.screenshot('01-unlock');
    await unlockWith(page, '000000');
    const alert = page.locator('.notice.error');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('HSM_PIN_INCORRECT');
    expect(await alert.textContent()).toMatch(/locks the PIN/);
    expect(await page.locator('#lock-state').textContent()).toBe('Locked');
    expect(app.session.isUnlocked()).toBe(false);
    await app.screenshot('02-unlock-wrong-pin');
  });

  it('unlocks with the right PIN and shows the scan screen', async () => {
    const { page } = app;
    await unlockWith(page, APP_PIN);
    await page.locator('h1', { hasText: 'Scan a request' }).waitFor();
    expect(await page.locator('#lock-state').textContent()).toBe('HSM unlocked');
    expect(app.session.isUnlocked()).toBe(true);
    // a new home is within its full-verification period: no audit warning
    expect(await page.locator('#audit-warning').count()).toBe(0);
    expect(await page.locator('#audit-status').isVisible()).toBe(false);
    await app.screenshot('03-scan');
  });
});

describe('keys', () => {
  it('generates a Bitcoin key in the HSM and lists it (keyboard navigation Alt+3)', async () => {
    const { page } = app;
    await page.keyboard.press('Alt+3');
    await page.locator('h1', { hasText: 'Keys' }).waitFor();
    await page.locator('#gen-label').fill('vault-1');
    await page.locator('#gen-network').selectOption('testnet');
    await page.locator('#generate-form button[type=submit]').click();
    await page.locator('#keys-table tr[data-label="vault-1"]').waitFor();
    const registered = (await app.session.listKeys()).find((k) => k.label === 'vault-1')!;
    expect(registered).toMatchObject({ chain: 'btc', network: 'testnet', script: 'p2wpkh' });
    expect(await page.locator('#keys-table tr[data-label="vault-1"]').textContent()).toContain(
      registered.address,
    );
  });

  it('refuses a duplicate label with the appliance’s code', async () => {
    const { page } = app;
    await page.locator('#gen-label').fill('vault-1');
    await page.locator('#generate-form button[type=submit]').click();
    const alert = page.locator('#generate-form .notice.error');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('KEY_LABEL_TAKEN');
  });

  it('generates an EVM key and shows its address as a QR code that decodes to the address', async () => {
    const { page } = app;
    await page.locator('#gen-chain').selectOption('evm');
    await page.locator('#gen-label').fill('treasury');
    await page.locator('#generate-form button[type=submit]').click();
    await page.locator('#keys-table tr[data-label="treasury"]').waitFor();
    await page.locator('#keys-table tr[data-label="treasury"] button').click();
    const key = (await app.session.listKeys()).find((k) => k.label === 'treasury')!;
    const canvas = page.locator('#key-detail canvas').first();
    await canvas.waitFor();
    await app.screenshot('04-keys');
    const texts = await decodeQrImage(await canvas.screenshot(), await createNodeZxingDecoder());
    expect(texts).toEqual([key.address]);
  });
});

describe('IPC contract through the page', () => {
  it('refuses bad arguments before they reach the appliance', async () => {
    const result = await app.page.evaluate(() =>
      (window as unknown as { coldsign: { generateKey(o: unknown): Promise<unknown> } }).coldsign.generateKey(
        { chain: 'btc', label: '../../etc' },
      ),
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'IPC_ARGUMENTS_INVALID' } });
  });

  it('exposes exactly one function per channel and no ipcRenderer', async () => {
    const names = await app.page.evaluate(() =>
      Object.keys((window as unknown as { coldsign: object }).coldsign).sort(),
    );
    expect(names).toEqual(
      [
        'approvalPreview',
        'approve',
        'auditExport',
        'auditList',
        'auditPublicKey',
        'auditVerify',
        'generateKey',
        'isUnlocked',
        'keyExport',
        'listKeys',
        'lock',
        'policyApply',
        'policyPreview',
        'policyShow',
        'review',
        'sign',
        'unlock',
        'unlockStatus',
      ].sort(),
    );
    expect(
      await app.page.evaluate(() => 'ipcRenderer' in window || 'require' in window || 'process' in window),
    ).toBe(false);
  });

  it('locks with Alt+L', async () => {
    await app.page.keyboard.press('Alt+L');
    await app.page.locator('#pin').waitFor();
    expect(app.session.isUnlocked()).toBe(false);
  });
});
