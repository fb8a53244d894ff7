/** Officers, policies and approvals: `officer keygen`, `policy show|sign|apply`, `approve`. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { makeError } from '../../core/errors.js';
import { groupInputs } from '../../core/pipeline/intake.js';
import { parsePolicy } from '../../policy/schema.js';
import { MAX_POLICY_BYTES, parsePolicyText } from '../../policy/text.js';
import { generateOfficerKey, loadOfficerKey, signApproval, signPolicy } from '../../appliance/officers.js';
import { refuseApprovalOfDenied } from '../../appliance/session.js';
import { checkOutputPath, readInputs, writeOutputFile } from '../files.js';
import { printJson, println } from '../output.js';
import { formatReview } from '../review-text.js';
import { PASSPHRASE, readSecret } from '../secrets.js';
import { withSession } from '../session.js';

export async function officerKeygenCommand(
  name: string,
  options: { out: string; json?: boolean },
): Promise<void> {
  if (existsSync(options.out))
    throw makeError('OUTPUT_EXISTS', `${options.out} already exists; an officer key is never overwritten.`);
  const passphrase = await readSecret(PASSPHRASE, { confirm: true });
  const { pem, publicKey } = generateOfficerKey(name, passphrase);
  writeOutputFile(options.out, pem);
  if (options.json) return printJson({ officer: name, keyFile: options.out, publicKey });
  println(`Officer key of ${name} written to ${options.out} (encrypted with the passphrase).`);
  println(`Enrol it with: coldsign init --officer ${name}=${publicKey}`);
  println(publicKey);
}

/** A policy file's text, refused before reading when larger than the appliance reads (the app's limit too). */
function readPolicyFile(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw makeError('INPUT_NOT_FOUND', `${path} cannot be read.`);
  }
  if (size > MAX_POLICY_BYTES)
    throw makeError('POLICY_INVALID', `${path} is larger than ${MAX_POLICY_BYTES / 1024 / 1024} MiB.`);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw makeError('INPUT_NOT_FOUND', `${path} cannot be read.`);
  }
}

function readOfficerKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw makeError('INPUT_NOT_FOUND', `The officer key file ${path} cannot be read.`);
  }
}

export async function policyShowCommand(options: { json?: boolean }): Promise<void> {
  const shown = await withSession(async (session) => session.policyShow(), { unlock: false });
  if (options.json) return printJson({ policy: shown.document, appliance: shown.appliance });
  if (!shown.document)
    println(
      'No policy is in force: every request is refused (default deny). Apply one with `coldsign policy apply`.',
    );
  else process.stdout.write(shown.text);
  println(`A policy for this appliance names it as "appliance": "${shown.appliance}".`);
}

export async function policySignCommand(
  file: string,
  options: { key: string; json?: boolean },
): Promise<void> {
  checkOutputPath(file, true);
  const doc = parsePolicy(parsePolicyText(readPolicyFile(file), file));
  const keyText = readOfficerKeyFile(options.key);
  const officer = loadOfficerKey(keyText, await readSecret(PASSPHRASE));
  const signed = signPolicy(doc, officer);
  writeOutputFile(file, `${JSON.stringify(signed, null, 2)}\n`, true);
  const signers = (signed.signatures ?? []).map((s) => s.officer);
  // Signed anyway (the document is the officers' to word), but no appliance will apply it as it stands.
  if (signed.appliance === undefined)
    process.stderr.write(
      'coldsign: warning: this policy names no appliance; policy apply refuses it until "appliance" (the audit public key of the appliance it is for) is added and it is signed again.\n',
    );
  if (options.json) return printJson({ file, version: signed.version, signers });
  println(
    `Signed policy version ${signed.version} in ${file} as ${officer.name}; signatures now: ${signers.join(', ')}.`,
  );
}

export async function policyApplyCommand(file: string, options: { json?: boolean }): Promise<void> {
  const text = readPolicyFile(file);
  const applied = await withSession((session) => session.policyApply(text));
  if (options.json) return printJson(applied);
  println(`Policy version ${applied.version} is now in force.`);
}

export async function approveCommand(
  inputs: string[],
  options: { key: string; out: string; force?: boolean; json?: boolean },
): Promise<void> {
  checkOutputPath(options.out, options.force);
  const groups = groupInputs(readInputs(inputs));
  if (groups.length !== 1) throw makeError('USAGE', 'approve takes the input(s) of exactly one request.');
  const keyText = readOfficerKeyFile(options.key);
  const preview = await withSession((session) => session.approvalPreview(groups[0]!), { unlock: false });
  // The officer sees what they approve before their passphrase is asked for.
  if (!options.json) println(formatReview(preview.model));
  // A request the policy refuses is not approved (POLICY_DENIED, exit 4).
  refuseApprovalOfDenied(preview.model);
  const officer = loadOfficerKey(keyText, await readSecret(PASSPHRASE));
  const approval = signApproval(preview.binding, officer, new Date(), preview.expiryMs);
  writeOutputFile(options.out, `${JSON.stringify(approval, null, 2)}\n`, options.force);
  if (options.json) return printJson({ approval, file: options.out });
  println(`Approval of request ${preview.requestId} by ${officer.name} written to ${options.out}.`);
}
