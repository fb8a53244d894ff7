/**
 * The review screen of every variant in real headless Chromium at 1280×800, against the real appliance (test host,
 * embedded SoftHSM2 token, SQLite, a signed policy): the verdict and the headline are inside the first viewport, a
 * refusal is a red banner that stays in view when the page scrolls, a refused request has no Sign button, and
 * addresses are shown in full in groups of four; a refusal by the outpoint ledger says so in its banner, its reason
 * first. Each screen is saved to docs/screenshots/review-<variant>.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { applianceKeyOf, ROOT } from '../support/cli.js';
import {
  APP_PIN,
  launchApp,
  removeAppBuild,
  runOk,
  unlockWith,
  writeFileIn,
  type AppUnderTest,
} from './support/app-host.js';
import {
  OFFICER_PASS,
  ledgerConflictRequests,
  REVIEW_VARIANTS,
  reviewPolicy,
  reviewRequests,
  type ReviewRequest,
} from './support/review-requests.js';

const VIEWPORT = { width: 1280, height: 800 };
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
let app: AppUnderTest;
let requests: ReviewRequest[];
let btcAddress: string;

beforeAll(async () => {
  app = await launchApp({
    viewport: VIEWPORT,
    beforeInit: (cli) => {
      const out = runOk(cli, ['officer', 'keygen', 'alice', '--out', join(cli.dir, 'alice.pem')], {
        COLDSIGN_PASSPHRASE: OFFICER_PASS,
      });
      return ['--officer', `alice=${out.trim().split('\n').at(-1)}`, '--quorum', '1'];
    },
    prepare: (cli) => {
      runOk(cli, ['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc']);
      runOk(cli, ['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth']);
      const keys = (
        JSON.parse(runOk(cli, ['keys', 'list', '--json'])) as {
          keys: Array<{ label: string; address: string }>;
        }
      ).keys;
      const policy = writeFileIn(
        cli.dir,
        'policy.json',
        JSON.stringify({ ...reviewPolicy(), appliance: applianceKeyOf(cli) }),
      );
      runOk(cli, ['policy', 'sign', policy, '--key', join(cli.dir, 'alice.pem')], {
        COLDSIGN_PASSPHRASE: OFFICER_PASS,
      });
      runOk(cli, ['policy', 'apply', policy]);
      btcAddress = keys.find((k) => k.label === 'vault-btc')!.address;
      requests = reviewRequests(btcAddress, keys.find((k) => k.label === 'vault-eth')!.address);
    },
  });
  await app.page.locator('#pin').waitFor();
  await unlockWith(app.page, APP_PIN);
  await app.page.locator('#open-files').waitFor();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await app?.close();
  removeAppBuild();
});

/** Opens one request file on the scan screen and waits for its review. */
async function review(r: ReviewRequest): Promise<void> {
  const { page } = app;
  if (await page.locator('#start-over').count()) await page.locator('#start-over').click();
  await page.locator('#open-files').setInputFiles(writeFileIn(app.cli.dir, r.file, r.contents));
  await page.locator('#verdict').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
}

async function insideFirstViewport(selector: string): Promise<boolean> {
  const box = await app.page.locator(selector).boundingBox();
  return box !== null && box.y >= 0 && box.y + box.height <= VIEWPORT.height && box.height > 0;
}

describe('review screens at 1280×800', () => {
  it.each(REVIEW_VARIANTS)(
    '%s: verdict and headline in the first viewport; Sign only when allowed',
    async (name) => {
      const r = requests.find((x) => x.name === name)!;
      const { page } = app;
      await review(r);
      await page.screenshot({ path: join(SCREENSHOTS, `review-${name}.png`) });
      expect(await insideFirstViewport('#verdict h2')).toBe(true);
      expect(await insideFirstViewport('#headline')).toBe(true);
      expect(await page.locator('#headline').textContent()).toContain(r.headline);
      expect(await page.locator('#verdict h2').textContent()).toMatch(r.allowed ? /ALLOWED/ : /REFUSED/);
      expect(await page.locator('#sign-button').count()).toBe(r.allowed ? 1 : 0);
      if (!r.allowed) expect(await page.locator('#verdict').getAttribute('role')).toBe('alert');
    },
  );

  it('the refusal banner stays in view when the 6-output review is scrolled to the end', async () => {
    const { page } = app;
    await review(requests.find((x) => x.name === 'btc-refused-6-outputs')!);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    expect(await insideFirstViewport('#verdict h2')).toBe(true);
    expect(await page.locator('#verdict').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
      'rgb(90, 0, 0)',
    );
  });

  it('addresses are shown in full, monospace, in groups of at most four characters', async () => {
    const r = requests.find((x) => x.name === 'btc-refused-6-outputs')!;
    const { page } = app;
    await review(r);
    const cells = page.locator('#movements tr.spend .address');
    expect(await cells.count()).toBe(6);
    for (let i = 0; i < 6; i++) {
      const cell = cells.nth(i);
      expect(r.destinations).toContain(await cell.textContent());
      const groups = await cell.locator('span').allTextContents();
      expect(groups.length).toBeGreaterThan(5);
      for (const g of groups) expect(g.length).toBeLessThanOrEqual(4);
      expect(await cell.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/Mono/);
    }
  });
});

describe('a refusal by the outpoint ledger at 1280×800', () => {
  it('signs the request that under-claims coin 2; its mirror is refused by the ledger, that reason first, no Sign button', async () => {
    const { page } = app;
    const { outpoints, first, second } = ledgerConflictRequests(btcAddress);
    await review(first);
    expect(await page.locator('#verdict h2').textContent()).toMatch(/ALLOWED/);
    await page.locator('#sign-button').click();
    await page.locator('h1', { hasText: 'Signed' }).waitFor();
    await page.locator('#done').click();

    await review(second);
    await page.screenshot({ path: join(SCREENSHOTS, `review-${second.name}.png`) });
    expect(await page.locator('#headline').textContent()).toContain(second.headline);
    expect(await page.locator('#verdict h2').textContent()).toBe(
      'Outpoint ledger: REFUSED — this request cannot be signed',
    );
    expect(await page.locator('#verdict').getAttribute('role')).toBe('alert');
    expect(await page.locator('#verdict p').textContent()).toMatch(/No policy change can allow it/);
    expect(await insideFirstViewport('#verdict h2')).toBe(true);
    expect(await page.locator('#reasons > ul.reasons > li').first().textContent()).toContain(
      `Outpoint ${outpoints[0]} was signed for 0.05 BTC and this request claims 0.00005 BTC`,
    );
    expect(await page.locator('#sign-button').count()).toBe(0);
  });
});
