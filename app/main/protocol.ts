/**
 * The app protocol coldsign://app/…: serves the renderer bundle (never file://), with the CSP on every response.
 * Only regular files inside the bundle directory with a known type are served; anything else is a 404.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { protocol } from 'electron';
import { APP_SCHEME } from '../shared/channels.js';
import { MIME_TYPES, SECURITY_HEADERS } from '../shared/security.js';
import { resolveAppFile } from './app-files.js';

/** Must run before app 'ready': standard + secure gives the protocol an origin, fetch and a secure context (camera). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true },
    },
  ]);
}

export function handleAppProtocol(rootDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(rootDir, request.url);
    if (request.method !== 'GET' || file === null)
      return new Response('Not found', { status: 404, headers: SECURITY_HEADERS });
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      const body = await readFile(file);
      return new Response(body, {
        status: 200,
        headers: { ...SECURITY_HEADERS, 'Content-Type': MIME_TYPES[extname(file)]! },
      });
    } catch {
      return new Response('Not found', { status: 404, headers: SECURITY_HEADERS });
    }
  });
}
