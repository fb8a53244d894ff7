/**
 * The browser test host: serves the renderer bundle and the SAME IPC contract as Electron main, over HTTP
 * (POST /ipc/<channel>), on loopback only (127.0.0.1, random port). Used by the Chromium tests and `app-dev`.
 * Everything is served under a random per-run token (http://127.0.0.1:PORT/<token>/): a local page or process that
 * does not know the token gets nothing, whatever Origin header it sends. Like main, it also checks the sender (Host
 * and, when present, Origin must be its own; no DNS rebinding) and validates arguments (shared dispatch()).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ApplianceApi } from '../../appliance/api.js';
import { resolveBundlePath } from '../main/app-files.js';
import { makeError } from '../../core/errors.js';
import { dispatch, failure } from '../shared/ipc.js';
import { MIME_TYPES, SECURITY_HEADERS } from '../shared/security.js';
import { decodeWire, encodeWire } from './wire.js';

const APP_ROOT = join(import.meta.dirname, '..');
export const DEFAULT_RENDERER_DIR = join(APP_ROOT, 'renderer', 'dist');
export const DEFAULT_SHIM_FILE = join(APP_ROOT, 'test-host', 'dist', 'shim.js');
const BRIDGE_PATH = '/coldsign-test-bridge.js';
/** Largest request body (base64 of the IPC input limit, with room). */
const MAX_BODY_BYTES = 96 * 1024 * 1024;

export interface TestHost {
  /** http://127.0.0.1:PORT/<token>/ — the only way in. */
  url: string;
  close(): Promise<void>;
}

export interface TestHostOptions {
  api: ApplianceApi;
  rendererDir?: string;
  shimFile?: string;
}

function send(response: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store' });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTestHost(options: TestHostOptions): Promise<TestHost> {
  const rendererDir = options.rendererDir ?? DEFAULT_RENDERER_DIR;
  const shimFile = options.shimFile ?? DEFAULT_SHIM_FILE;
  let origin = '';
  // A random per-run token: the first path segment of every URL the host answers.
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  /** The path after /<token>, or null when the token is missing or wrong (compared in constant time). */
  const underToken = (path: string): string | null => {
    const end = path.indexOf('/', 1);
    if (end < 0) return null;
    const given = Buffer.from(path.slice(1, end));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return path.slice(end);
  };

  const serveFile = async (path: string, response: ServerResponse) => {
    if (path === BRIDGE_PATH) return send(response, 200, MIME_TYPES['.js']!, await readFile(shimFile));
    const file = resolveBundlePath(rendererDir, path);
    if (file === null || !(await stat(file).catch(() => null))?.isFile())
      return send(response, 404, 'text/plain', 'Not found');
    let body: string | Uint8Array = await readFile(file);
    // The host's bridge takes the place of Electron's preload: a classic script, run before the app module.
    if (file === join(rendererDir, 'index.html'))
      body = body.toString().replace('<!--bridge-->', `<script src=".${BRIDGE_PATH}"></script>`);
    send(response, 200, MIME_TYPES[extname(file)]!, body);
  };

  const handleIpc = async (request: IncomingMessage, response: ServerResponse, channel: string) => {
    // The sender check of main, here: same-origin requests from the served app only (no other page, no DNS rebinding).
    if (
      (request.headers.origin !== undefined && request.headers.origin !== origin) ||
      request.headers.host !== new URL(origin).host ||
      !request.headers['content-type']?.startsWith('application/json')
    ) {
      return send(
        response,
        403,
        'application/json',
        encodeWire(
          failure(makeError('IPC_SENDER_REFUSED', 'The request did not come from the coldsign app.')),
        ),
      );
    }
    const body = await readBody(request);
    if (body === null)
      return send(
        response,
        413,
        'application/json',
        encodeWire(failure(makeError('INPUT_TOO_LARGE', 'The request is too large.'))),
      );
    let args: unknown;
    try {
      args = decodeWire(body);
    } catch {
      return send(
        response,
        400,
        'application/json',
        encodeWire(failure(makeError('IPC_ARGUMENTS_INVALID', 'The request body is not valid JSON.'))),
      );
    }
    send(response, 200, 'application/json', encodeWire(await dispatch(options.api, channel, args)));
  };

  const server = createServer((request, response) => {
    const path = underToken(new URL(request.url ?? '/', 'http://host').pathname);
    if (path === null) return send(response, 404, 'text/plain', 'Not found');
    const work =
      request.method === 'POST' && path.startsWith('/ipc/')
        ? handleIpc(request, response, path.slice('/ipc/'.length))
        : request.method === 'GET'
          ? serveFile(path, response)
          : Promise.resolve(send(response, 405, 'text/plain', 'Method not allowed'));
    work.catch(() => {
      if (!response.headersSent) send(response, 500, 'text/plain', 'Internal error');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/${token}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
