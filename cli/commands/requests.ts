/** `coldsign inspect` and `coldsign sign`: one pipeline, from files or QR images to signed outputs. */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ApplianceSession, Reviewed } from '../../appliance/session.js';
import type { RequestReport } from '../../appliance/api.js';
import { makeError } from '../../core/errors.js';
import { parseJsonStrict } from '../../core/json.js';
import { groupInputs } from '../../core/pipeline/intake.js';
import { OUTPUT_FORMATS, refuseOversizedQrAnswer, type OutputFormat } from '../../core/pipeline/export.js';
import { checkOutputPath, isDirectory, readInputs, writeOutputFile } from '../files.js';
import { printJson, println, progress } from '../output.js';
import { formatReview } from '../review-text.js';
import { withSession } from '../session.js';

export async function inspectCommand(inputs: string[], options: { json?: boolean }): Promise<void> {
  const groups = groupInputs(readInputs(inputs));
  const reports: RequestReport[] = [];
  await withSession(async (session, auditWarning) => {
    for (const group of groups) {
      const reviewed = await session.reviewRequest(group, progress(`Reading ${group.length} QR frame(s)`));
      const review = session.reviewModel(reviewed);
      reports.push(withWarning({ ...reviewed.report, review }, auditWarning));
      if (!options.json) println(`${formatReview(review)}\n`);
    }
  });
  if (options.json) printJson(reports.length === 1 ? reports[0] : reports);
}

export interface SignOptions {
  out: string;
  format: string;
  qr?: string;
  approval: string[];
  fragment?: number;
  force?: boolean;
  urType?: 'crypto-psbt' | 'psbt';
  json?: boolean;
  finalize?: boolean;
}

export async function signCommand(inputs: string[], options: SignOptions): Promise<void> {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(options.format)) {
    throw makeError('USAGE', `--format must be one of ${OUTPUT_FORMATS.join(', ')}.`);
  }
  const format = options.format as OutputFormat;
  const groups = groupInputs(readInputs(inputs));
  // An existing directory as --out receives request-<id><suffix> files; otherwise --out is the file itself.
  const intoDirectory = isDirectory(options.out);
  // Checked before anything is signed: a signature must never be made for an output that cannot be written.
  checkOutputPath(options.out, options.force);
  if (options.qr) checkOutputPath(options.qr, options.force);
  if (!intoDirectory) mkdirSync(dirname(resolve(options.out)), { recursive: true });
  if (groups.length > 1 && !intoDirectory) {
    throw makeError(
      'USAGE',
      `${groups.length} requests were given: --out must then be an existing directory.`,
    );
  }
  const approvals = options.approval.map(readApproval);
  const results: Array<{
    report: RequestReport;
    path: string;
    bytes: Uint8Array;
    urParts: string[];
    description: string;
  }> = [];
  await withSession(async (session, auditWarning) => {
    // Review every request first (the operator sees each), so that a refusal of any one leaves nothing signed.
    const reviewed: Reviewed[] = [];
    let recorded = false;
    try {
      for (const group of groups) {
        const r = await session.reviewRequest(group, progress(`Reading ${group.length} QR frame(s)`), {
          checkpoint: false,
        });
        recorded = true;
        if (!options.json) println(`${formatReview(session.reviewModel(r))}\n`);
        if (intoDirectory) refuseEarlierOutput(options.out, r.prepared.requestId, options.force);
        await refuseOversizedQrAnswer(
          r.prepared,
          formatFor(format, r.prepared.chain, intoDirectory ? null : options.out),
          {
            fragmentBytes: options.fragment,
            withQr: Boolean(options.qr),
            finalize: options.finalize === true,
          },
        );
        reviewed.push(r);
      }
    } catch (error) {
      // The reviews were recorded for the announcement's checkpoint to cover; no signing follows, so close
      // them now (else the next start-up discards them as unfinished work). A failure here leaves exactly that.
      if (recorded) await session.closeReviews().catch(() => undefined);
      throw error;
    }
    // All or none: every request is decided with its own approvals before the HSM signs any.
    const outcomes = await withReview(session, auditWarning, reviewed, () =>
      session.signRequests(
        reviewed.map((r) => r.prepared.requestId),
        approvals,
        (r) => ({
          format: formatFor(format, r.prepared.chain, intoDirectory ? null : options.out),
          outputPath: (suffix) =>
            intoDirectory
              ? join(options.out, `request-${r.prepared.requestId.slice(0, 16)}${suffix}`)
              : options.out,
          fragmentBytes: options.fragment,
          urType: options.urType,
          withQr: Boolean(options.qr),
          onProgress: progress('Signing in the HSM'),
          finalize: options.finalize === true,
        }),
      ),
    );
    for (const [index, outcome] of outcomes.entries()) {
      outcome.report.review = session.reviewModel(reviewed[index]!, outcome.report.policy.approvals);
      results.push({
        report: withWarning(outcome.report, auditWarning),
        path: outcome.report.outputs[0] ?? options.out,
        bytes: outcome.output.bytes,
        urParts: outcome.output.urParts,
        description: outcome.output.description,
      });
    }
  });
  // The audit log holds every signature and output digest: only now are files written.
  const frameCounts = new Map<string, number>();
  const withoutFrames: string[] = [];
  for (const result of results) {
    writeOutputFile(result.path, result.bytes, options.force);
    if (options.qr && result.urParts.length === 0) withoutFrames.push(result.path);
    else if (options.qr) {
      const frames = await writeQrFrames(
        options.qr,
        result.urParts,
        results.length > 1 ? result.report.requestId.slice(0, 16) : undefined,
        options.force,
        progress('Writing QR frames'),
      );
      frameCounts.set(result.report.requestId, frames.length);
      result.report.outputs.push(...frames);
    }
  }
  // Known only once signed (a finalized PSBT, a long message): the files are written, the frames cannot be.
  if (withoutFrames.length > 0)
    throw makeError(
      'QR_OUTPUT_TOO_LARGE',
      `The signed result is too large for QR frames, so none were written: carry the file instead (${withoutFrames.join(', ')}).`,
      { outputs: withoutFrames },
    );
  if (options.json)
    return printJson(results.length === 1 ? results[0]!.report : results.map((r) => r.report));
  for (const result of results) {
    const approvals = result.report.policy.approvals;
    println(
      `Signed${approvals.length ? ` with the approvals of ${approvals.join(', ')}` : ''}: ${result.description}`,
    );
    const frames = frameCounts.get(result.report.requestId) ?? 0;
    const files = result.report.outputs.slice(0, result.report.outputs.length - frames);
    for (const output of files) println(`  wrote ${output}`);
    // One summary line for the QR frames, however many (each file is listed in --json).
    if (frames > 0) {
      const framePaths = result.report.outputs.slice(-frames);
      println(
        frames === 1
          ? `  wrote 1 QR frame: ${framePaths[0]}`
          : `  wrote ${frames} QR frames: ${framePaths[0]} … ${framePaths[frames - 1]}`,
      );
    }
    println(
      `  audit entry ${result.report.audit.seq}; checkpoint head ${result.report.audit.head.seq} ${result.report.audit.head.hash}`,
    );
  }
}

/** A refusal's report (every reason of every rule) carries the review model and the unlock's warning too, for `sign --json`. */
async function withReview<T>(
  session: ApplianceSession,
  auditWarning: string | undefined,
  reviewed: Reviewed[],
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const report = (error as { report?: RequestReport }).report;
    const refused = reviewed.find((r) => r.prepared.requestId === report?.requestId);
    if (report && refused) {
      report.review = session.reviewModel(refused, report.policy.approvals);
      withWarning(report, auditWarning);
    }
    throw error;
  }
}

/** The report with the unlock's audit warning in `audit.warning` (a script reading --json sees what stderr said). */
function withWarning(report: RequestReport, auditWarning: string | undefined): RequestReport {
  if (auditWarning) report.audit = { ...report.audit, warning: auditWarning };
  return report;
}

/** In an output directory, an earlier output of the same request is kept unless --force. */
function refuseEarlierOutput(dir: string, requestId: string, force?: boolean): void {
  const prefix = `request-${requestId.slice(0, 16)}`;
  const earlier = readdirSync(dir).find((name) => name.startsWith(prefix));
  if (earlier && !force)
    throw makeError(
      'OUTPUT_EXISTS',
      `${join(dir, earlier)} already exists; add --force to replace it (nothing was signed).`,
    );
}

function readApproval(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw makeError('INPUT_NOT_FOUND', `The approval file ${path} cannot be read.`);
  }
  return parseJsonStrict(text, `The approval file ${path}`, 'APPROVAL_INVALID');
}

/** Writes DIR/frame-0001.png … (SPEC `--qr DIR`), one frame per UR part, reporting progress (done, total). */
export async function writeQrFrames(
  dir: string,
  parts: string[],
  prefix?: string,
  force = false,
  onProgress?: (done: number, total: number) => void,
): Promise<string[]> {
  const { renderQrPng } = await import('../../qr/index.js');
  return parts.map((part, i) => {
    const name = `${prefix ? `${prefix}-` : ''}frame-${String(i + 1).padStart(4, '0')}.png`;
    const path = join(dir, name);
    writeOutputFile(path, renderQrPng(/^ur:/i.test(part) ? part.toUpperCase() : part), force);
    onProgress?.(i + 1, parts.length);
    return path;
  });
}

/**
 * `--format auto` with `--out NAME.psbt` for a Bitcoin request writes a binary PSBT (BIP-174), even when the request
 * came by QR (whose answer would otherwise be crypto-psbt UR text): a file named .psbt holds a PSBT.
 */
export function formatFor(format: OutputFormat, chain: 'btc' | 'evm', outFile: string | null): OutputFormat {
  return format === 'auto' && chain === 'btc' && outFile !== null && /\.psbt$/i.test(outFile)
    ? 'psbt'
    : format;
}
