// The ColdsignError code a call ends in (undefined when it does not throw), for tests that match on codes only.
import { isColdsignError, type ColdsignError } from '../../../core/errors.js';

function codeOfError(error: unknown): string {
  return isColdsignError(error) ? error.code : `not a ColdsignError: ${String(error)}`;
}

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return codeOfError(error);
  }
  return undefined;
}

export async function codeOfAsync(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return codeOfError(error);
  }
  return undefined;
}

/** The ColdsignError a call ends in (undefined when it does not throw); any other error is rethrown. */
export function errorOf(fn: () => unknown): ColdsignError | undefined {
  try {
    fn();
  } catch (error) {
    if (isColdsignError(error)) return error;
    throw error;
  }
  return undefined;
}
