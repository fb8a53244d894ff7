// electron-builder afterPack hook: flips the Electron fuses of the packaged binary with @electron/fuses, before the
// AppImage and deb are made (so the packaged app cannot be turned into a Node runtime or an inspector target).
import { join } from 'node:path';
import { flipFuses, FuseV1Options, FuseVersion } from '@electron/fuses';

/** Every fuse of the V1 wire set explicitly (strictlyRequireAllFuses: a fuse added by a new Electron fails the build). */
export const COLDSIGN_FUSES = {
  version: FuseVersion.V1,
  strictlyRequireAllFuses: true,
  // ELECTRON_RUN_AS_NODE would turn the signed binary into a plain Node runtime.
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS and --inspect* would let anyone at the machine inject code or attach a debugger.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // app.asar is checked against the hash embedded at package time, and nothing outside it is loaded.
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // The app never uses file://; its own protocol is coldsign://.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  [FuseV1Options.WasmTrapHandlers]: true,
};

/** Flips the fuses of one Electron binary. */
export async function flipColdsignFuses(electronBinary) {
  await flipFuses(electronBinary, COLDSIGN_FUSES);
}

/** The hook electron-builder calls (afterPack: scripts/app-after-pack.mjs). */
export default async function afterPack(context) {
  if (context.electronPlatformName !== 'linux') throw new Error('coldsign is packaged for Linux only.');
  await flipColdsignFuses(join(context.appOutDir, context.packager.executableName));
}
