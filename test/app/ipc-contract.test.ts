/**
 * The IPC contract and the main-process rules without a browser: argument validation before the appliance (real
 * ApplianceSession over a real home), the test host's sender check, the app-file mapping of the custom protocol,
 * and which requests and permissions main allows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ApplianceSession } from '../../appliance/session.js';
import { resolveAppFile } from '../../app/main/app-files.js';
import { isAllowedPermission, isAllowedRequest } from '../../app/main/hardening.js';
import { CHANNEL_NAMES, dispatch } from '../../app/shared/ipc.js';
import { CONTENT_SECURITY_POLICY } from '../../app/shared/security.js';
import { startTestHost, type TestHost } from '../../app/test-host/server.js';
import { decodeWire, encodeWire } from '../../app/test-host/wire.js';
import { devHomeRefusal } from '../../app/test-host/dev-home.js';
import { createCliHome, ROOT, type CliHome } from '../support/cli.js';
import { APP_PIN, buildAppOnce, removeAppBuild } from './support/app-host.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';

let cli: CliHome;
let session: ApplianceSession;
let host: TestHost;

beforeAll(async () => {
  const build = buildAppOnce();
  cli = createCliHome(APP_PIN);
  expect(cli.run(['init', '--json']).code).toBe(0);
  session = new ApplianceSession(cli.env.COLDSIGN_HOME!);
  host = await startTestHost({ api: session, rendererDir: build.rendererDir, shimFile: build.shimFile });
});
afterAll(async () => {
  await host?.close();
  await session?.close();
  cli?.cleanup();
  removeAppBuild();
});

describe('dispatch', () => {
  it('has one channel per ApplianceApi method', () => {
    const methods = [
      'unlock',
      'lock',
      'isUnlocked',
      'unlockStatus',
      'listKeys',
      'generateKey',
      'keyExport',
      'review',
      'approvalPreview',
      'approve',
      'sign',
      'policyShow',
      'policyPreview',
      'policyApply',
      'auditList',
      'auditVerify',
      'auditExport',
      'auditPublicKey',
    ];
    expect([...CHANNEL_NAMES].sort()).toEqual(methods.sort());
  });

  it.each([
    ['unlock', 'a number PIN', [123]],
    ['unlock', 'no PIN', []],
    ['unlock', 'a 300-character PIN', ['1'.repeat(300)]],
    ['generateKey', 'an unknown option', [{ chain: 'btc', label: 'ok', extra: 1 }]],
    ['generateKey', 'an unknown chain', [{ chain: 'sol', label: 'ok' }]],
    ['review', 'no inputs', [[]]],
    ['review', 'text instead of bytes', [[{ name: 'x', bytes: 'not bytes' }]]],
    ['approvalPreview', 'no inputs', [[]]],
    ['keyExport', 'a label with a path in it', [['../x'], 'descriptor']],
    ['keyExport', 'an unknown option', [[], 'descriptor', { out: '/tmp/x' }]],
    ['approve', 'a short request id', ['ab', 'pem', 'pass']],
    ['sign', 'a malformed approval', ['00'.repeat(32), [{ requestId: 'zz' }]]],
    ['auditList', 'a negative start', [-1, 10]],
    ['auditList', 'a huge page', [0, 100000]],
    ['lock', 'an extra argument', ['extra']],
  ])('refuses %s with %s before calling the appliance', async (channel, _what, args) => {
    const result = await dispatch(session, channel, args);
    expect(result).toMatchObject({ ok: false, error: { code: 'IPC_ARGUMENTS_INVALID' } });
  });

  it('refuses an unknown channel and prototype names', async () => {
    expect(await dispatch(session, 'constructor', [])).toMatchObject({
      ok: false,
      error: { code: 'IPC_CHANNEL_UNKNOWN' },
    });
    expect(await dispatch(session, 'close', [])).toMatchObject({
      ok: false,
      error: { code: 'IPC_CHANNEL_UNKNOWN' },
    });
  });

  it('refuses every channel but unlock and isUnlocked while the HSM is locked', async () => {
    expect(session.isUnlocked()).toBe(false);
    const args: Record<string, unknown[]> = {
      lock: [],
      unlockStatus: [],
      listKeys: [],
      generateKey: [{ chain: 'btc', label: 'k' }],
      keyExport: [[], 'descriptor'],
      review: [[{ name: 'a.psbt', bytes: new Uint8Array([1]) }]],
      approvalPreview: [[{ name: 'a.psbt', bytes: new Uint8Array([1]) }]],
      approve: ['00'.repeat(32), 'pem', 'pass'],
      sign: ['00'.repeat(32), []],
      policyShow: [],
      policyPreview: ['{"version":1,"rules":[]}'],
      policyApply: ['{"version":1,"rules":[]}'],
      auditList: [0, 10],
      auditVerify: [],
      auditExport: [],
      auditPublicKey: [],
    };
    expect(Object.keys(args).sort()).toEqual(
      CHANNEL_NAMES.filter((c) => c !== 'unlock' && c !== 'isUnlocked').sort(),
    );
    for (const [channel, channelArgs] of Object.entries(args)) {
      expect(await dispatch(session, channel, channelArgs), channel).toEqual({
        ok: false,
        error: {
          code: 'HSM_PIN_REQUIRED',
          message: 'The appliance is locked: unlock it with the HSM user PIN first.',
        },
      });
    }
    expect(await dispatch(session, 'isUnlocked', [])).toEqual({ ok: true, value: false });
    // Unlocked, the same channels answer (the audit log has the init entries).
    expect(await dispatch(session, 'unlock', [APP_PIN])).toMatchObject({ ok: true });
    expect(await dispatch(session, 'listKeys', [])).toEqual({ ok: true, value: [] });
    expect(await dispatch(session, 'auditList', [0, 10])).toMatchObject({ ok: true });
    expect(await dispatch(session, 'lock', [])).toEqual({ ok: true, value: undefined });
  });

  it('carries the appliance’s own code and message (wrong PIN), then a value (right PIN)', async () => {
    const wrong = await dispatch(session, 'unlock', ['999999']);
    expect(wrong).toMatchObject({ ok: false, error: { code: 'HSM_PIN_INCORRECT' } });
    expect(JSON.stringify(wrong)).not.toContain('999999');
    // unlock also answers the audit checkpoint head the database was checked against (anti-rollback).
    expect(await dispatch(session, 'unlock', [APP_PIN])).toEqual({
      ok: true,
      value: { keys: [], head: { seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]+$/) } },
    });
    expect(await dispatch(session, 'isUnlocked', [])).toEqual({ ok: true, value: true });
    await dispatch(session, 'lock', []);
  });
});

describe('test host', () => {
  const post = (channel: string, args: unknown[], headers: Record<string, string>) =>
    fetch(`${host.url}ipc/${channel}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: encodeWire(args),
    });

  it('answers only under its per-run token: a forged Origin without the token gets nothing', async () => {
    const { origin, pathname } = new URL(host.url);
    expect(pathname).toMatch(/^\/[A-Za-z0-9_-]{32}\/$/);
    const own = await post('isUnlocked', [], { Origin: origin });
    expect(decodeWire(await own.text())).toEqual({ ok: true, value: false });
    for (const url of [`${origin}/ipc/isUnlocked`, `${origin}/${'A'.repeat(32)}/ipc/isUnlocked`]) {
      const forged = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: origin },
        body: encodeWire([]),
      });
      expect(forged.status).toBe(404);
      expect(await forged.text()).not.toContain('value');
    }
    expect((await fetch(`${origin}/`)).status).toBe(404);
    expect((await fetch(`${origin}/coldsign-test-bridge.js`)).status).toBe(404);
  });

  it('with the token, still refuses another origin (a page that learned the URL)', async () => {
    const foreign = await post('isUnlocked', [], { Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(decodeWire(await foreign.text())).toMatchObject({
      ok: false,
      error: { code: 'IPC_SENDER_REFUSED' },
    });
  });

  it('serves the bundle with the CSP, and nothing outside it', async () => {
    const index = await fetch(host.url);
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await index.text()).toContain('coldsign-test-bridge.js');
    for (const path of [
      '..%2f..%2fpackage.json',
      '%2e%2e/%2e%2e/package.json',
      'app.js.map',
      'nothing.js',
      '%E0%A4%A',
    ]) {
      expect((await fetch(`${host.url}${path}`)).status).toBe(404);
    }
  });

  it('round-trips bytes through the wire format', () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect(decodeWire(encodeWire([{ name: 'a', bytes }]))).toEqual([{ name: 'a', bytes }]);
  });
});

describe('main-process rules', () => {
  const root = join('/', 'opt', 'coldsign', 'renderer');

  it('maps coldsign://app/ URLs inside the bundle only', () => {
    expect(resolveAppFile(root, 'coldsign://app/')).toBe(join(root, 'index.html'));
    expect(resolveAppFile(root, 'coldsign://app/app.js')).toBe(join(root, 'app.js'));
    expect(resolveAppFile(root, 'coldsign://app/../../etc/passwd')).toBeNull();
    // Encoded dot segments are resolved by the URL parser first: the path stays inside the bundle.
    expect(resolveAppFile(root, 'coldsign://app/%2e%2e/%2e%2e/etc/passwd.js')).toBe(
      join(root, 'etc', 'passwd.js'),
    );
    expect(resolveAppFile(root, 'coldsign://app/..%2f..%2fetc%2fpasswd.js')).toBeNull();
    expect(resolveAppFile(root, 'coldsign://other/app.js')).toBeNull();
    expect(resolveAppFile(root, 'file:///opt/coldsign/renderer/app.js')).toBeNull();
    expect(resolveAppFile(root, 'coldsign://app/secret.db')).toBeNull();
  });

  it('lets only the app protocol and local object URLs through', () => {
    expect(isAllowedRequest('coldsign://app/app.js', false)).toBe(true);
    expect(isAllowedRequest('blob:coldsign://app/1234', false)).toBe(true);
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:8080/',
      'file:///etc/passwd',
      'ws://localhost/',
      'devtools://devtools/x',
      'not a url',
    ]) {
      expect(isAllowedRequest(url, false)).toBe(false);
    }
    expect(isAllowedRequest('devtools://devtools/x', true)).toBe(true);
  });

  it('grants only the camera, only to the app', () => {
    expect(isAllowedPermission('media', 'coldsign://app/index.html', ['video'])).toBe(true);
    expect(isAllowedPermission('media', 'coldsign://app/index.html', ['audio'])).toBe(false);
    expect(isAllowedPermission('media', 'coldsign://app/index.html', ['video', 'audio'])).toBe(false);
    expect(isAllowedPermission('media', 'https://example.com/', ['video'])).toBe(false);
    for (const permission of [
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'hid',
      'serial',
      'usb',
    ]) {
      expect(isAllowedPermission(permission, 'coldsign://app/index.html')).toBe(false);
    }
  });
});

describe('app:dev home', () => {
  it('opens the run’s throwaway home, and another home only when asked', () => {
    const home = join(cli.dir, 'home');
    expect(devHomeRefusal(home, {})).toMatch(/refuses to open .*not a throwaway home/);
    expect(devHomeRefusal(home, { COLDSIGN_DEV_THROWAWAY_HOME: join(cli.dir, 'other') })).not.toBeNull();
    expect(devHomeRefusal(home, { COLDSIGN_DEV_THROWAWAY_HOME: `${home}/` })).toBeNull();
    expect(devHomeRefusal(home, { COLDSIGN_DEV_REAL_HOME: '1' })).toBeNull();
    expect(devHomeRefusal(home, { COLDSIGN_DEV_REAL_HOME: 'yes' })).not.toBeNull();
  });

  it('the dev entry point exits before opening a home that is not a throwaway one', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'app', 'test-host', 'main.ts')],
      {
        env: { ...process.env, COLDSIGN_HOME: join(cli.dir, 'home'), COLDSIGN_DEV_THROWAWAY_HOME: '' },
        encoding: 'utf8',
        timeout: HANG_GUARD_MS,
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/not a throwaway home made for this run/);
  });
});
