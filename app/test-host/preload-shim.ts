/**
 * The browser test host's stand-in for the Electron preload: installs the same `window.coldsign` (one function per
 * channel of app/shared) and carries each call to the host as POST <token>/ipc/<channel> (relative to the page, which
 * the host serves under its per-run token). Used only by the test host.
 */
import { CHANNEL_NAMES, type ChannelName, type ColdsignBridge, type IpcResult } from '../shared/channels.js';
import { decodeWire, encodeWire } from './wire.js';

function channelFunction(name: ChannelName) {
  return async (...args: unknown[]): Promise<IpcResult<unknown>> => {
    try {
      const response = await fetch(`ipc/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: encodeWire(args),
      });
      return decodeWire(await response.text()) as IpcResult<unknown>;
    } catch {
      return {
        ok: false,
        error: { code: 'IPC_UNREACHABLE', message: 'The appliance could not be reached.' },
      };
    }
  };
}

const bridge = Object.fromEntries(
  CHANNEL_NAMES.map((name) => [name, channelFunction(name)]),
) as unknown as ColdsignBridge;
Object.defineProperty(window, 'coldsign', {
  value: Object.freeze(bridge),
  writable: false,
  configurable: false,
});
