/** Maps app URLs to files of the renderer bundle (no Electron import: shared with the test host, unit-tested). */
import { extname, join, normalize, sep } from 'node:path';
import { APP_SCHEME } from '../shared/channels.js';
import { MIME_TYPES } from '../shared/security.js';

/** The bundle file a URL path names, or null when it leaves the bundle, is malformed or has an unknown type. */
export function resolveBundlePath(rootDir: string, pathname: string): string | null {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return null;
  }
  if (relative.includes('\0')) return null;
  const file = normalize(join(rootDir, relative));
  if (!file.startsWith(rootDir.endsWith(sep) ? rootDir : rootDir + sep)) return null;
  return MIME_TYPES[extname(file)] ? file : null;
}

/** The bundle file a coldsign://app/… URL names, or null (other scheme or host, or see resolveBundlePath). */
export function resolveAppFile(rootDir: string, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== 'app') return null;
  return resolveBundlePath(rootDir, parsed.pathname);
}
