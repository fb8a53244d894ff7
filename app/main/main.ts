/**
 * Electron main (thin): one hardened window on coldsign://app/, IPC handlers that check the sender and validate
 * arguments, and the appliance session (the same core the CLI uses) behind them.
 */
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, Menu, session } from 'electron';
import { WriterLockedSession } from './writer-session.js';
import { resolveHome } from '../../store/home.js';
import { makeError, toColdsignError } from '../../core/errors.js';
import { APP_ORIGIN, CHANNEL_NAMES, ipcChannel, type IpcResult } from '../shared/channels.js';
import { dispatch, failure } from '../shared/ipc.js';
import { isAppUrl } from '../shared/security.js';
import { hardenSession, hardenWebContents } from './hardening.js';
import { handleAppProtocol, registerAppScheme } from './protocol.js';

/** DevTools only in an unpackaged development run that asks for them; never in a packaged build. */
const allowDevtools = !app.isPackaged && process.env.COLDSIGN_DEVTOOLS === '1';
/** Built by scripts/app-build.mjs: this file is app/dist/main.mjs, the bundle is app/renderer/dist. */
const bundleDir = join(import.meta.dirname, '..', 'renderer', 'dist');

registerAppScheme();
app.enableSandbox();
app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

/**
 * One handler per channel. When the home cannot be opened (not initialized, invalid config, corrupt database), every
 * channel answers that error, so the unlock screen can say what is wrong instead of the app failing to start.
 */
function registerIpc(appliance: WriterLockedSession | { failure: IpcResult<never> }): void {
  for (const name of CHANNEL_NAMES) {
    ipcMain.handle(ipcChannel(name), async (event, args: unknown) => {
      // Checklist #17: the sender must be a frame of the app's own origin (not a navigated or injected frame).
      const senderUrl = event.senderFrame?.url ?? '';
      if (!isAppUrl(senderUrl))
        return failure(makeError('IPC_SENDER_REFUSED', 'The request did not come from the coldsign app.'));
      return 'failure' in appliance ? appliance.failure : dispatch(appliance, name, args);
    });
  }
}

function openAppliance(): WriterLockedSession | { failure: IpcResult<never> } {
  try {
    // Unlocked, the app holds the home's writer lock like a writing CLI command (app/main/writer-session.ts).
    return new WriterLockedSession(resolveHome().dir);
  } catch (error) {
    return { failure: failure(toColdsignError(error)) };
  }
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 860,
    backgroundColor: '#000000',
    show: false,
    webPreferences: {
      // Reviewed (Electronegativity PRELOAD_JS_CHECK asks for a manual review of every preload): app/preload/preload.ts
      // exposes one function per IPC channel through contextBridge, never ipcRenderer, and nothing else.
      preload: join(import.meta.dirname, 'preload.cjs'), // eng-disable PRELOAD_JS_CHECK
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: allowDevtools,
      // Middle-click opens no new window (Electronegativity AUXCLICK_JS_CHECK).
      disableBlinkFeatures: 'Auxclick',
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(`${APP_ORIGIN}/index.html`);
  return window;
}

async function start(): Promise<void> {
  await app.whenReady();
  if (!allowDevtools) Menu.setApplicationMenu(null);
  hardenSession(session.defaultSession, { allowDevtools });
  handleAppProtocol(bundleDir);
  const appliance = openAppliance();
  registerIpc(appliance);
  createWindow();
  app.on('window-all-closed', () => {
    // Logs out of the HSM and closes the database before quitting.
    void ('failure' in appliance ? Promise.resolve() : appliance.close()).finally(() => app.quit());
  });
}

void start();
