/**
 * Preload (sandboxed, context-isolated): exposes `window.coldsign` with one function per IPC channel.
 * ipcRenderer itself is never exposed, and each function forwards only its own arguments.
 */
import { contextBridge, ipcRenderer } from 'electron';
import {
  CHANNEL_NAMES,
  ipcChannel,
  type ChannelName,
  type ColdsignBridge,
  type IpcResult,
} from '../shared/channels.js';

function channelFunction(name: ChannelName) {
  const channel = ipcChannel(name);
  return (...args: unknown[]): Promise<IpcResult<unknown>> =>
    ipcRenderer.invoke(channel, args) as Promise<IpcResult<unknown>>;
}

const bridge = Object.fromEntries(
  CHANNEL_NAMES.map((name) => [name, channelFunction(name)]),
) as unknown as ColdsignBridge;

contextBridge.exposeInMainWorld('coldsign', Object.freeze(bridge));
