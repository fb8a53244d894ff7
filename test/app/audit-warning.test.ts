/**
 * Unlock's "not fully verified for too long" warning (policy audit.fullVerifyEvery, default 30 days) on the app
 * screen, in real headless Chromium against the test host running the real core (embedded SoftHSM2 token,
 * SQLite). The home's last full verification is set to an old date through the store's own setting; verifying
 * the log from the Audit screen clears the warning, and the next unlock has none. A page reload while unlocked asks
 * the session for them again (unlockStatus).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase } from '../../store/database.js';
import { FULL_VERIFY_SETTING } from '../../store/audit-freshness.js';
import { setSetting } from '../../store/settings.js';
import { APP_PIN, launchApp, removeAppBuild, unlockWith, type AppUnderTest } from './support/app-host.js';

const LONG_AGO = '2000-01-01T00:00:00.000Z';
let app: AppUnderTest;

beforeAll(async () => {
  app = await launchApp({
    prepare: (cli) => {
      const db = openDatabase(join(cli.env.COLDSIGN_HOME!, 'coldsign.db'));
      try {
        setSetting(db, FULL_VERIFY_SETTING, LONG_AGO);
      } finally {
        db.close();
      }
    },
  });
});
afterAll(async () => {
  await app?.close();
  removeAppBuild();
});

describe('audit full-verification warning on unlock', () => {
  it('is shown on the unlocked screen and in the status area when the last full verification is too old', async () => {
    const { page } = app;
    await page.locator('#pin').waitFor();
    expect(await page.locator('#audit-status').isVisible()).toBe(false);
    await unlockWith(page, APP_PIN);
    await page.locator('h1', { hasText: 'Scan a request' }).waitFor();
    const warning = page.locator('#audit-warning');
    await warning.waitFor();
    expect(await warning.getAttribute('role')).toBe('alert');
    const text = await warning.textContent();
    expect(text).toContain(`The whole audit log was last verified on ${LONG_AGO}`);
    expect(text).toContain('every 30d');
    expect(text).toContain('coldsign audit verify');
    const status = page.locator('#audit-status');
    expect(await status.isVisible()).toBe(true);
    expect(await status.textContent()).toBe('Audit warning');
    expect(await warning.locator('.notice-title').textContent()).toBe('Audit warning');
    expect(await status.getAttribute('title')).toContain(LONG_AGO);
    await app.screenshot('audit-warning-scan');
  });

  it('a page reload while unlocked fetches the warning and the unlock head again', async () => {
    const { page } = app;
    const head = await page.locator('#audit-head').textContent();
    expect(head).toMatch(/^Audit log checked at unlock: entry \d+/);
    await page.reload();
    await page.locator('h1', { hasText: 'Scan a request' }).waitFor();
    await page.locator('#audit-warning').waitFor();
    expect(await page.locator('#audit-warning').textContent()).toContain(LONG_AGO);
    expect(await page.locator('#audit-status').isVisible()).toBe(true);
    expect(await page.locator('#audit-head').textContent()).toBe(head);
  });

  it('the status button opens the Audit screen, which shows the warning until the log verifies', async () => {
    const { page } = app;
    await page.locator('#audit-status').click();
    await page.locator('h1', { hasText: 'Audit log' }).waitFor();
    expect(await page.locator('#audit-warning').isVisible()).toBe(true);
    await page.locator('#audit-verify').click();
    await page.locator('#audit-verify-result .notice.ok').waitFor();
    // Nothing unfinished in this log: no such list (test/app/audit-unfinished-work.test.ts shows one).
    expect(await page.locator('#audit-unfinished-work').count()).toBe(0);
    expect(await page.locator('#audit-warning').count()).toBe(0);
    expect(await page.locator('#audit-status').isVisible()).toBe(false);
  });

  it('after the full verification, locking and unlocking again shows no warning', async () => {
    const { page } = app;
    await page.keyboard.press('Alt+L');
    await page.locator('#pin').waitFor();
    await unlockWith(page, APP_PIN);
    await page.locator('h1', { hasText: 'Scan a request' }).waitFor();
    expect(await page.locator('#lock-state').textContent()).toBe('HSM unlocked');
    expect(await page.locator('#audit-warning').count()).toBe(0);
    expect(await page.locator('#audit-status').isVisible()).toBe(false);
  });
});
