/**
 * The security settings of the app, in one place: the Content-Security-Policy sent with every app response
 * (by Electron main's protocol handler and by the browser test host) and the origin rules main enforces.
 */
import { APP_ORIGIN } from './channels.js';

/**
 * Strict CSP (Electron security checklist #7): only the app's own files; 'wasm-unsafe-eval' lets the zxing-wasm
 * decoder compile in its Worker; images from data:/blob: for rendered QR codes; no objects, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every app response (CSP plus the usual hardening headers). */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy':
    'camera=(self), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=()',
};

/** True when `url` belongs to the app's own origin (coldsign://app/...). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.origin === APP_ORIGIN || (parsed.protocol === 'coldsign:' && parsed.host === 'app');
  } catch {
    return false;
  }
}

/** Content types of the files the app serves (anything else is refused). */
export const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};
