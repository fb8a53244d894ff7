/**
 * `coldsign audit reanchor`: the officers' way out of a rollback alarm (docs/operations.md).
 *   --reason TEXT --out FILE   (PIN) write a request naming what the alarm found
 *   --sign FILE --key PEM      (passphrase) add an officer's signature to the request, in place
 *   --apply FILE               (PIN) check the quorum and the findings, record `audit.reanchored`, re-anchor
 * The PIN-taking modes hold the home's writer lock; they cannot use the ordinary unlock, which refuses a
 * database the anchor does not vouch for.
 */
import { readFileSync } from 'node:fs';
import { makeError } from '../../core/errors.js';
import {
  applyReanchorRequest,
  parseReanchorText,
  reanchorRequestId,
  requestReanchor,
  signReanchorRequest,
  type LockedHomeIo,
  type ReanchorFinding,
  type ReanchorRequest,
} from '../../appliance/reanchor.js';
import { checkOutputPath, writeOutputFile } from '../files.js';
import { printJson, println } from '../output.js';
import { PASSPHRASE, PIN, readSecret } from '../secrets.js';

interface ReanchorOptions {
  reason?: string;
  out?: string;
  force?: boolean;
  expiresIn?: number;
  sign?: string;
  key?: string;
  apply?: string;
  json?: boolean;
}

export async function auditReanchorCommand(options: ReanchorOptions): Promise<void> {
  const modes = [options.out !== undefined, options.sign !== undefined, options.apply !== undefined];
  if (modes.filter(Boolean).length !== 1)
    throw makeError(
      'USAGE',
      'Give exactly one of --out FILE (make a request), --sign FILE (officer signature) or --apply FILE.',
    );
  if (options.sign !== undefined) return signRequest(options.sign, options);
  if (options.apply !== undefined) return applyRequest(options.apply, options);
  return makeRequest(options.out!, options);
}

const lockedHomeIo: LockedHomeIo = {
  readPin: () => readSecret(PIN),
  onWait: () =>
    process.stderr.write('Another coldsign process is using this home; waiting for it to finish...\n'),
};

function readRequest(path: string): ReanchorRequest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw makeError('INPUT_NOT_FOUND', `${path} cannot be read.`);
  }
  return parseReanchorText(text, path);
}

function describeFinding(found: ReanchorFinding): void {
  println(`Rollback alarm: ${found.alarm}`);
  println(`  appliance id:   ${found.applianceId}`);
  println(`  database head:  entry ${found.databaseHead.seq} ${found.databaseHead.hash}`);
  println(`  anchor records: the database's record file names anchor #${found.recordedAnchorSeq}`);
  if (found.anchors.length === 0) println('  HSM anchors:    none');
  for (const a of found.anchors) {
    const pinned =
      a.pinnedSeq === undefined
        ? 'checkpoint unknown (no record of it here)'
        : `checkpoint at entry ${a.pinnedSeq}`;
    println(`  HSM anchor:     #${a.seq} ${a.status}, fingerprint ${a.fingerprint}, ${pinned}`);
  }
}

async function makeRequest(out: string, options: ReanchorOptions): Promise<void> {
  if (!options.reason?.trim())
    throw makeError('USAGE', 'Say why with --reason TEXT: it is recorded in the audit log.');
  checkOutputPath(out, options.force);
  const lifetimeMs = (options.expiresIn ?? 24) * 3600 * 1000;
  const request = await requestReanchor(lockedHomeIo, options.reason!.trim(), lifetimeMs);
  writeOutputFile(out, `${JSON.stringify(request, null, 2)}\n`, options.force);
  const requestId = reanchorRequestId(request);
  if (options.json) return printJson({ file: out, requestId, request });
  describeFinding(request.found);
  println(`Re-anchor request ${requestId} written to ${out} (expires ${request.expiresAt}).`);
  println(`Each officer signs it with: coldsign audit reanchor --sign ${out} --key OFFICER.pem`);
  println(`Then apply it with: coldsign audit reanchor --apply ${out}`);
}

async function signRequest(path: string, options: ReanchorOptions): Promise<void> {
  if (!options.key) throw makeError('USAGE', '--sign needs --key OFFICER.pem.');
  checkOutputPath(path, true);
  const request = readRequest(path);
  let keyText: string;
  try {
    keyText = readFileSync(options.key, 'utf8');
  } catch {
    throw makeError('INPUT_NOT_FOUND', `The officer key file ${options.key} cannot be read.`);
  }
  // The officer sees what they accept before their passphrase is asked for.
  if (!options.json) {
    describeFinding(request.found);
    println(`  reason:         ${request.reason}`);
    println(`  expires:        ${request.expiresAt}`);
  }
  const { signed, officer } = signReanchorRequest(request, keyText, await readSecret(PASSPHRASE));
  writeOutputFile(path, `${JSON.stringify(signed, null, 2)}\n`, true);
  const signers = (signed.signatures ?? []).map((s) => s.officer);
  if (options.json) return printJson({ file: path, requestId: reanchorRequestId(signed), signers });
  println(
    `Signed re-anchor request ${reanchorRequestId(signed)} as ${officer}; signatures now: ${signers.join(', ')}.`,
  );
}

async function applyRequest(path: string, options: ReanchorOptions): Promise<void> {
  const request = readRequest(path);
  const outcome = await applyReanchorRequest(lockedHomeIo, request);
  if (options.json) return printJson(outcome);
  println(
    `Re-anchored: audit entry ${outcome.entry.seq} (audit.reanchored) records request ${outcome.requestId}, accepted by ${outcome.officers.join(', ')}.`,
  );
  for (const a of outcome.anchor)
    println(
      `  new HSM anchor #${a.seq} ${a.status}, fingerprint ${a.fingerprint}, checkpoint at entry ${a.pinnedSeq}`,
    );
  println('Run `coldsign audit verify` and hand a fresh `coldsign audit export` to the auditors.');
}
