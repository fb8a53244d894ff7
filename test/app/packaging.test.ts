/**
 * Packaging hardening without the Electron binary (it cannot be downloaded here): the afterPack hook's fuse settings
 * flipped on a STAND-IN binary holding an Electron V1 fuse wire (mock: the real binary is absent), read back with
 * @electron/fuses; and electron-builder.yml asks for asar, AppImage and deb, and runs the hook.
 */
import { afterAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { ROOT } from '../support/cli.js';
// @ts-expect-error: a plain ES module hook for electron-builder, without type declarations
import afterPack from '../../scripts/app-after-pack.mjs';

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const dir = mkdtempSync(join(tmpdir(), 'coldsign-fuses-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Padding, the sentinel, wire version 1, 9 fuses all "enabled" (the permissive state of a fresh binary), padding. */
function standInBinary(): Buffer {
  return Buffer.concat([
    Buffer.alloc(4096, 0x90),
    Buffer.from(SENTINEL),
    Buffer.from([1, 9]),
    Buffer.from('111111111'),
    Buffer.alloc(4096, 0x90),
  ]);
}

it('flips every fuse the hardening asks for (stand-in binary, not a real Electron)', async () => {
  const binary = join(dir, 'coldsign');
  writeFileSync(binary, standInBinary());
  await (afterPack as (context: unknown) => Promise<void>)({
    electronPlatformName: 'linux',
    appOutDir: dir,
    packager: { executableName: 'coldsign' },
  });
  const wire = await getCurrentFuseWire(binary);
  expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
  expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(FuseState.DISABLE);
  expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
  expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(FuseState.ENABLE);
  expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
  expect(wire[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(FuseState.DISABLE);
});

it('electron-builder.yml packages AppImage and deb with asar and the fuse hook', () => {
  const config = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8');
  expect(config).toMatch(/^asar: true$/m);
  expect(config).toMatch(/^afterPack: scripts\/app-after-pack\.mjs$/m);
  expect(config).toMatch(/^\s+- AppImage$/m);
  expect(config).toMatch(/^\s+- deb$/m);
});
