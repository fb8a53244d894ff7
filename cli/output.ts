/** CLI output: --json documents on stdout, human text on stdout, progress and errors on stderr. */
import { toColdsignError, type ColdsignError } from '../core/errors.js';

/**
 * A reader that stops early (`coldsign … | head`) closes standard output: the command still finishes its work
 * (a signature is never cut off half-recorded), its remaining output is dropped and it exits quietly with its
 * own exit code, instead of dying on an unhandled EPIPE.
 */
export function dropOutputOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = (() => true) as typeof stream.write;
  });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** One clear sentence on stderr; with --json also {"error": {code, message}} on stdout (SPEC exit codes). */
export function reportError(error: unknown, json: boolean): ColdsignError {
  const failure = toColdsignError(error);
  process.stderr.write(`coldsign: ${failure.message}\n`);
  // A refusal carries its report: with --json every reason of every rule is printed, not only the first.
  const report = (failure as { report?: { policy?: { reasons?: Array<{ ok: boolean; message: string }> } } })
    .report;
  if (json)
    printJson({
      error: {
        code: failure.code,
        message: failure.message,
        ...(report?.policy?.reasons
          ? { reasons: report.policy.reasons.filter((r) => !r.ok).map((r) => r.message) }
          : {}),
      },
      ...(report ? { report } : {}),
    });
  if (failure.code === 'INTERNAL' && process.env.COLDSIGN_DEBUG && failure.cause instanceof Error) {
    process.stderr.write(`${failure.cause.stack}\n`);
  }
  return failure;
}

/** Progress on stderr, only when stderr is a terminal (SPEC: long work shows progress). */
export function progress(label: string): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => {};
  let last = -1;
  return (done, total) => {
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    if (percent === last) return;
    last = percent;
    process.stderr.write(`\r${label}: ${percent}% (${done}/${total})${done >= total ? '\n' : ''}`);
  };
}
