/** The renderer's only door to the appliance: `window.coldsign`, installed by the preload (or the test host's shim). */
import type { ChannelArgs, ChannelName, ChannelValue, ColdsignBridge } from '../../shared/channels.js';

declare global {
  interface Window {
    coldsign?: ColdsignBridge;
  }
}

/** A failure the appliance reported: its stable code and its one-sentence message. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function bridge(): ColdsignBridge {
  const api = window.coldsign;
  if (!api)
    throw new AppError(
      'APP_BRIDGE_MISSING',
      'The app was opened without its preload: the appliance cannot be reached.',
    );
  return api;
}

/** Calls one channel; resolves with its value or throws an AppError with the appliance's code and message. */
export async function call<K extends ChannelName>(
  name: K,
  ...args: ChannelArgs<K>
): Promise<ChannelValue<K>> {
  const fn = bridge()[name] as unknown as (...a: ChannelArgs<K>) => ReturnType<ColdsignBridge[K]>;
  const result = await fn(...args);
  if (!result.ok) throw new AppError(result.error.code, result.error.message);
  return result.value as ChannelValue<K>;
}

export function errorOf(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError('APP_INTERNAL', 'The screen hit an unexpected problem; nothing was signed.');
}
