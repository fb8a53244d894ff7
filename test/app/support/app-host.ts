/**
 * The app under test: a real coldsign home (made by the real `coldsign init`: embedded SoftHSM2 token, SQLite),
 * the real ApplianceSession over it, the browser test host serving the renderer bundle and the IPC contract,
 * and Debian's Chromium driven by playwright-core with a fresh profile. Everything is cleaned up by close().
 */
import { afterAll, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WriterLockedSession } from '../../../app/main/writer-session.js';
import { startTestHost, type TestHost } from '../../../app/test-host/server.js';
import { createCliHome, ROOT, type CliHome } from '../../support/cli.js';
import { HANG_GUARD_MS } from '../../support/hang-guard.js';

export const APP_PIN = '135790';
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of every screen, for the docs (gitignored; the best are copied to docs/screenshots/ by hand). */
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'app-screens');

export interface AppBuild {
  dir: string;
  rendererDir: string;
  shimFile: string;
}

let built: AppBuild | undefined;
/**
 * Builds the renderer bundle, preload, main and the host's shim once per test file (esbuild, a second or two), into a
 * directory of this process: parallel test files never rebuild a bundle another one is serving.
 */
export function buildAppOnce(): AppBuild {
  if (built) return built;
  const out = mkdtempSync(join(tmpdir(), 'coldsign-app-build-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'app-build.mjs'), '--out', out], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  built = { dir: out, rendererDir: join(out, 'renderer'), shimFile: join(out, 'test-host', 'shim.js') };
  return built;
}

/** Removes this process's build (call from afterAll). */
export function removeAppBuild(): void {
  if (built) rmSync(built.dir, { recursive: true, force: true });
  built = undefined;
}

export interface AppUnderTest {
  cli: CliHome;
  home: string;
  session: WriterLockedSession;
  host: TestHost;
  context: BrowserContext;
  page: Page;
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** A .y4m file played by Chromium's fake camera (the real getUserMedia path, fed a known video). */
  fakeCamera?: string;
  /** Runs before `coldsign init` (e.g. officer keygen) and returns extra init arguments (e.g. --officer, --quorum). */
  beforeInit?: (cli: CliHome) => string[];
  /** Runs with the initialized home before the session opens (e.g. keys and a policy, with the CLI). */
  prepare?: (cli: CliHome) => void | Promise<void>;
  /** The window size (default 1280×900). */
  viewport?: { width: number; height: number };
}

export async function launchApp(options: LaunchOptions = {}): Promise<AppUnderTest> {
  const build = buildAppOnce();
  const cli = createCliHome(APP_PIN);
  const cleanups: Array<() => Promise<void> | void> = [() => cli.cleanup()];
  const close = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const init = cli.run(['init', '--json', ...(options.beforeInit?.(cli) ?? [])]);
    if (init.code !== 0) throw new Error(`coldsign init failed: ${init.stderr}`);
    await options.prepare?.(cli);
    const home = cli.env.COLDSIGN_HOME!;
    const session = new WriterLockedSession(home); // the app's session: the home's writer lock while unlocked
    cleanups.push(() => session.close());
    const host = await startTestHost({
      api: session,
      rendererDir: build.rendererDir,
      shimFile: build.shimFile,
    });
    cleanups.push(() => host.close());

    const profile = mkdtempSync(join(tmpdir(), 'coldsign-chromium-'));
    cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
    const args = [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ];
    if (options.fakeCamera)
      args.push(
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${options.fakeCamera}`,
      );
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args,
      viewport: options.viewport ?? { width: 1280, height: 900 },
      // Playwright's own 30 s defaults are a speed check on a loaded machine: wait for events, guard hangs only
      timeout: HANG_GUARD_MS,
    });
    context.setDefaultTimeout(HANG_GUARD_MS);
    cleanups.push(() => context.close());
    if (options.fakeCamera) await context.grantPermissions(['camera'], { origin: new URL(host.url).origin });
    const page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.goto(host.url);
    return {
      cli,
      home,
      session,
      host,
      context,
      page,
      screenshot: async (name) => {
        await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Unlocks the app through the unlock screen, as the operator does. */
export async function unlockWith(page: Page, pin: string): Promise<void> {
  await page.locator('#pin').fill(pin);
  await page.keyboard.press('Enter');
}

/** Runs the CLI and fails with its stderr when it does not exit 0. */
export function runOk(cli: CliHome, args: string[], env: Record<string, string> = {}): string {
  const result = cli.run(args, env);
  if (result.code !== 0) throw new Error(`coldsign ${args[0]} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

export function writeFileIn(dir: string, name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Launches the app before the file's tests and closes it (and removes the build) after them; returns a getter. */
export function useLaunchedApp(options: LaunchOptions = {}): () => AppUnderTest {
  let app: AppUnderTest | undefined;
  beforeAll(async () => {
    app = await launchApp(options);
  });
  afterAll(async () => {
    await app?.close();
    removeAppBuild();
  });
  return () => app!;
}
