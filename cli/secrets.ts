/**
 * Secrets never travel in argv: the HSM PIN comes from COLDSIGN_PIN or a TTY prompt, an officer key's
 * passphrase from COLDSIGN_PASSPHRASE or a TTY prompt. Prompts do not echo.
 */
import { makeError, type ErrorCode } from '../core/errors.js';

export interface SecretSource {
  env: string;
  prompt: string;
  missingCode: ErrorCode;
  /** What is asked for, as the subject of a sentence ("The HSM user PIN"). */
  what: string;
}

export const PIN: SecretSource = {
  env: 'COLDSIGN_PIN',
  prompt: 'HSM user PIN: ',
  missingCode: 'HSM_PIN_REQUIRED',
  what: 'The HSM user PIN',
};

export const PASSPHRASE: SecretSource = {
  env: 'COLDSIGN_PASSPHRASE',
  prompt: 'Officer key passphrase: ',
  missingCode: 'USAGE',
  what: 'The officer key passphrase',
};

/** Reads a secret from its environment variable or, on a terminal, a prompt without echo. */
export async function readSecret(source: SecretSource, options: { confirm?: boolean } = {}): Promise<string> {
  const fromEnv = process.env[source.env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw makeError(
      source.missingCode,
      `${source.what} was not given: set ${source.env}, or run coldsign in a terminal to be asked for it.`,
    );
  }
  const secret = await promptHidden(source.prompt);
  if (options.confirm) {
    const again = await promptHidden(source.prompt.replace(/: $/, ' (again): '));
    if (again !== secret)
      throw makeError('USAGE', `The two entries of ${source.what.replace(/^The /, 'the ')} differ.`);
  }
  if (!secret) throw makeError(source.missingCode, `${source.what} was empty: nothing was done.`);
  return secret;
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    stdin.setRawMode(true); // before the question, so that an early Ctrl-D arrives as a character
    process.stderr.write(question);
    stdin.resume();
    let value = '';
    const finish = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish();
        // Ctrl-C and Ctrl-D (end of input) cancel the prompt.
        if (char === '\u0003' || char === '\u0004') return finish(makeError('USAGE', 'Cancelled.'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    const onEnd = (): void => finish(makeError('USAGE', 'Cancelled.'));
    stdin.on('data', onData);
    stdin.once('end', onEnd);
  });
}
