/**
 * The Audit screen's verification lists the unfinished work the log records, as `audit verify` prints it: here a
 * `keys generate` killed (SIGKILL, at a known pin write, no race) after its entry was written and before its
 * checkpoint, whose tail the app's unlock discards and says so. Real headless Chromium against the test host running the real
 * core (embedded SoftHSM2 token, SQLite).
 */
import { describe, expect, it } from 'vitest';
import { killWhenHeld } from '../adversarial/state/support/kill-at-pin.js';
import type { ApplianceHome } from '../support/appliance-home.js';
import { APP_PIN, unlockWith, useLaunchedApp } from './support/app-host.js';

const app = useLaunchedApp({
  prepare: async (cli) => {
    const killed = await killWhenHeld(
      { cli } as ApplianceHome,
      ['keys', 'generate', '--chain', 'btc', '--label', 'never-checkpointed'],
      '2:before',
    );
    expect(killed.signal).toBe('SIGKILL');
  },
});

describe('unfinished work on the Audit screen', () => {
  it('the unlock says what its start-up dropped, as an audit warning on the Scan screen and in the header', async () => {
    const { page } = app();
    await unlockWith(page, APP_PIN);
    await page.locator('h1', { hasText: 'Scan a request' }).waitFor();
    const warning = page.locator('#audit-warning');
    await warning.waitFor();
    expect(await warning.getAttribute('role')).toBe('alert');
    expect(await warning.locator('.notice-title').textContent()).toBe('Audit warning');
    expect(await warning.textContent()).toMatch(
      /start-up dropped entries (\d+) to \1 \(1 key\.registered\), written after the last checkpoint by a process that stopped before its own, and recorded that at entry \d+; `coldsign audit verify` lists the unfinished work/,
    );
    // No signing was announced at the pinned entry: nothing said about one.
    expect(await warning.textContent()).not.toContain('signing announced');
    expect(await page.locator('#audit-status').textContent()).toBe('Audit warning');
  });

  it('the verification lists the discard the unlock made: what was dropped, and when', async () => {
    const { page } = app();
    await page.locator('#nav-audit').click();
    await page.locator('h1', { hasText: 'Audit log' }).waitFor();
    await page.locator('#audit-verify').click();
    await page.locator('#audit-verify-result .notice.ok').waitFor();
    const items = await page.locator('#audit-unfinished-work li').allTextContents();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatch(
      /^discarded at entry \d+ \(.+\): entries \d+ to \d+, left beyond the checkpoint pinned/,
    );
    expect(items[0]).toContain('1 key.registered');
    await app().screenshot('audit-unfinished-work');
    // The verification answered the unlock's warning: a page reload while unlocked does not bring it back.
    expect(await page.locator('#audit-warning').count()).toBe(0);
    await page.reload();
    await page.locator('h1', { hasText: 'Scan a request' }).waitFor();
    await page.locator('#audit-head').waitFor();
    expect(await page.locator('#audit-warning').count()).toBe(0);
    expect(await page.locator('#audit-status').isVisible()).toBe(false);
  });
});
