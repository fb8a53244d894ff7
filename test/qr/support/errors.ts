// The ColdsignError code a call ends in (undefined when it does not throw), for tests that match on codes only.
import { isColdsignError } from '../../../core/errors.js';

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
