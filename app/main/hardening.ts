/**
 * The Electron security checklist applied to the session and to every web contents:
 * network to anything but the app protocol blocked, permissions denied except the camera for the app's own origin,
 * navigation, redirects, new windows and <webview> denied.
 */
import type { Session, WebContents } from 'electron';
import { APP_SCHEME } from '../shared/channels.js';
import { isAppUrl } from '../shared/security.js';

/** URL schemes a request may use: the app's own protocol, and local object URLs the renderer creates. */
const ALLOWED_REQUEST_PROTOCOLS = new Set([`${APP_SCHEME}:`, 'blob:', 'data:']);

export function isAllowedRequest(url: string, allowDevtools: boolean): boolean {
  try {
    const protocol = new URL(url).protocol;
    return ALLOWED_REQUEST_PROTOCOLS.has(protocol) || (allowDevtools && protocol === 'devtools:');
  } catch {
    return false;
  }
}

/** Only the camera ('media' with video only), and only for a frame of the app's own origin. */
export function isAllowedPermission(
  permission: string,
  requestingUrl: string,
  mediaTypes: readonly string[] = ['video'],
): boolean {
  return (
    permission === 'media' &&
    isAppUrl(requestingUrl) &&
    mediaTypes.length > 0 &&
    mediaTypes.every((t) => t === 'video')
  );
}

export function hardenSession(session: Session, options: { allowDevtools: boolean }): void {
  // Checklist #4 (permissions): every request denied except the camera for the app itself.
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const mediaTypes = 'mediaTypes' in details ? (details.mediaTypes ?? []) : [];
    callback(isAllowedPermission(permission, details.requestingUrl, mediaTypes));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    isAllowedPermission(permission, `${requestingOrigin}/`),
  );
  session.setDevicePermissionHandler(() => false);
  session.setDisplayMediaRequestHandler((_request, callback) => callback({}));
  // The appliance is air-gapped: anything but the app protocol is cancelled before it leaves.
  session.webRequest.onBeforeRequest((details, callback) =>
    callback({ cancel: !isAllowedRequest(details.url, options.allowDevtools) }),
  );
  // Downloads (the "save to file" of the result screen) always ask where to save.
  session.on('will-download', (_event, item) => {
    item.setSaveDialogOptions({ title: 'Save signed output', defaultPath: item.getFilename() });
  });
}

export function hardenWebContents(contents: WebContents): void {
  // Checklist #13/#14: no navigation away from the app, no new windows.
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
