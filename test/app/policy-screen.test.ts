/**
 * The policy screen in real headless Chromium against the test host running the real core (embedded SoftHSM2
 * token, SQLite, an officer key made by the real CLI): the renderer hands main the file's raw text, and main reads
 * it strictly — a signed policy with a repeated key (RFC 8259 §4 leaves duplicates to the reader) is refused with
 * JSON_DUPLICATE_KEY on screen and nothing is applied; the same policy without the repeat previews and applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applianceKeyOf } from '../support/cli.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  APP_PIN,
  launchApp,
  removeAppBuild,
  runOk,
  unlockWith,
  writeFileIn,
  type AppUnderTest,
} from './support/app-host.js';
import { OFFICER_PASS, reviewPolicy } from './support/review-requests.js';

let app: AppUnderTest;
let signedFile: string;
let duplicateFile: string;
let elsewhereFile: string;
let applianceKey: string;

beforeAll(async () => {
  app = await launchApp({
    beforeInit: (cli) => {
      const out = runOk(cli, ['officer', 'keygen', 'alice', '--out', join(cli.dir, 'alice.pem')], {
        COLDSIGN_PASSPHRASE: OFFICER_PASS,
      });
      return ['--officer', `alice=${out.trim().split('\n').at(-1)}`, '--quorum', '1'];
    },
    prepare: (cli) => {
      runOk(cli, ['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc']);
      // Signed by the officer with the CLI, not applied: the app applies it.
      applianceKey = applianceKeyOf(cli);
      signedFile = writeFileIn(
        cli.dir,
        'policy.json',
        JSON.stringify({ ...reviewPolicy(), appliance: applianceKey }),
      );
      // The same policy signed for another appliance (another audit public key).
      const otherAppliance = `03${'22'.repeat(32)}`;
      elsewhereFile = writeFileIn(
        cli.dir,
        'policy-elsewhere.json',
        JSON.stringify({ ...reviewPolicy(), appliance: otherAppliance }),
      );
      runOk(cli, ['policy', 'sign', elsewhereFile, '--key', join(cli.dir, 'alice.pem')], {
        COLDSIGN_PASSPHRASE: OFFICER_PASS,
      });
      runOk(cli, ['policy', 'sign', signedFile, '--key', join(cli.dir, 'alice.pem')], {
        COLDSIGN_PASSPHRASE: OFFICER_PASS,
      });
      const signed = readFileSync(signedFile, 'utf8');
      // The same signed document with "maxAmount" written twice (same value: a last-wins reader sees the signed one).
      const duplicated = signed.replace('"maxAmount": "0.5"', '"maxAmount": "0.5",\n"maxAmount": "0.5"');
      expect(duplicated).not.toBe(signed);
      expect(JSON.parse(duplicated)).toEqual(JSON.parse(signed));
      duplicateFile = writeFileIn(cli.dir, 'policy-duplicate.json', duplicated);
    },
  });
  await app.page.locator('#pin').waitFor();
  await unlockWith(app.page, APP_PIN);
  await app.page.locator('h1', { hasText: 'Scan a request' }).waitFor();
  await app.page.keyboard.press('Alt+4');
  await app.page.locator('h1', { hasText: 'Policy' }).waitFor();
});
afterAll(async () => {
  await app?.close();
  removeAppBuild();
});

describe('policy import', () => {
  it('refuses a signed policy with a duplicated key (JSON_DUPLICATE_KEY on screen) and applies nothing', async () => {
    const { page } = app;
    await page.locator('#policy-file').setInputFiles(duplicateFile);
    const alert = page.locator('.notice.error');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('JSON_DUPLICATE_KEY');
    expect(await alert.textContent()).toContain('has the key "maxAmount" more than once');
    expect(await page.locator('#policy-apply').count()).toBe(0);
    expect((await app.session.policyShow()).document).toBeNull();
    await app.screenshot('policy-duplicate-key');
  });

  it('shows this appliance’s audit public key and refuses a policy signed for another appliance', async () => {
    const { page } = app;
    await page.locator('#policy-appliance', { hasText: applianceKey }).waitFor();
    await page.locator('#policy-file').setInputFiles(elsewhereFile);
    const alert = page.locator('.notice.error');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('POLICY_APPLIANCE_MISMATCH');
    expect(await page.locator('#policy-apply').count()).toBe(0);
    expect((await app.session.policyShow()).document).toBeNull();
  });

  it('previews and applies the same policy without the duplicate', async () => {
    const { page } = app;
    await page.locator('#policy-file').setInputFiles(signedFile);
    await page.locator('#policy-apply').click();
    await page.locator('.notice.ok', { hasText: 'Policy version 1 is now active.' }).waitFor();
    expect(await page.locator('.notice.error').count()).toBe(0);
    const shown = await app.session.policyShow();
    expect(shown.document).toMatchObject({ version: 1 });
    await page.locator('#policy-active', { hasText: 'btc-exchange' }).waitFor();
  });
});
