/**
 * Re-anchor by an officer quorum (docs/operations.md "Re-anchor by an officer quorum"): after a rollback
 * alarm (AUDIT_ROLLBACK), the officers accept the database as it is and move the HSM's audit anchor to its
 * head. The request names what the alarm found (appliance id, audit key, database head, every anchor the HSM
 * holds with its status, the highest anchor the record file names, the alarm) and an expiry; its id is the
 * SHA-256 of its RFC 8785 form without "signatures". Officers sign it with their Ed25519 keys like a policy
 * (RFC 8032, over a domain tag and the same canonical bytes). Applying it checks the quorum, that the
 * alarm still stands with exactly the findings named (so an approval cannot be replayed after the state
 * moved), and that the database's own chain verifies; then appends `audit.reanchored` and anchors a
 * checkpoint over it, destroying every anchor key the HSM held for this appliance.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { isColdsignError, makeError } from '../core/errors.js';
import { toHex, utf8 } from '../core/bytes.js';
import { compressPublicKey } from '../core/signature.js';
import { canonicalJson } from '../policy/canonical.js';
import { assertOfficerQuorum, toBase64, verifyOfficerSignatures, type Officer } from '../policy/signing.js';
import { Auditor, auditHead, readCheckpoints, verifyAudit, type AuditHead, type PinStore } from './audit.js';
import { hsmAuditPorts, type AnchorState, type AuditHsm } from './audit-hsm.js';
import type { ColdsignDb } from './database.js';
import { getQuorum, listOfficers } from './officers.js';

/** Longest life of a re-anchor request: officers approve what they saw, not a standing permission. */
export const REANCHOR_MAX_LIFETIME_MS = 7 * 24 * 3600 * 1000;
export const REANCHOR_DEFAULT_LIFETIME_MS = 24 * 3600 * 1000;
const SIGNING_DOMAIN = 'coldsign-reanchor/1\n';

const headSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
const anchorSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
  status: z.enum(['valid', 'unrecorded', 'forged']),
  pinnedSeq: z.number().int().nonnegative().optional(),
  pinnedHead: z.string().optional(),
});
const findingSchema = z.strictObject({
  applianceId: z.string().regex(/^[0-9a-f]{32}$/),
  auditPublicKey: z.string().regex(/^[0-9a-f]{66}$/),
  alarm: z.string().max(1000),
  databaseHead: headSchema,
  recordedAnchorSeq: z.number().int().nonnegative(),
  anchors: z.array(anchorSchema).max(16),
});
const requestSchema = z.strictObject({
  type: z.literal('coldsign-reanchor-request'),
  version: z.literal(1),
  found: findingSchema,
  reason: z.string().min(1).max(500),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  signatures: z
    .array(z.strictObject({ officer: z.string().max(64), signature: z.string().max(200) }))
    .max(32)
    .optional(),
});

export type ReanchorFinding = z.infer<typeof findingSchema>;
export type ReanchorRequest = z.infer<typeof requestSchema>;

/** Parses a re-anchor request document (REANCHOR_INVALID with the first problem otherwise). */
export function parseReanchorRequest(value: unknown): ReanchorRequest {
  const parsed = requestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw makeError(
      'REANCHOR_INVALID',
      `The re-anchor request is not valid: ${issue.path.join('.') || 'document'}: ${issue.message}.`,
    );
  }
  return parsed.data;
}

function unsigned(request: ReanchorRequest): Omit<ReanchorRequest, 'signatures'> {
  const { signatures: _signatures, ...rest } = request;
  return rest;
}

/** The request id: SHA-256 of its RFC 8785 form without "signatures". */
export function reanchorRequestId(request: ReanchorRequest): string {
  return toHex(sha256(utf8(canonicalJson(unsigned(request)))));
}

/** The bytes an officer signs: a domain tag (never a policy or an approval) and the canonical request. */
export function reanchorSigningBytes(request: ReanchorRequest): Uint8Array {
  return utf8(SIGNING_DOMAIN + canonicalJson(unsigned(request)));
}

/** Adds (or replaces) `officer`'s signature made by `sign` over reanchorSigningBytes. */
export function withReanchorSignature(
  request: ReanchorRequest,
  officer: string,
  signature: Uint8Array,
): ReanchorRequest {
  const others = (request.signatures ?? []).filter((s) => s.officer !== officer);
  return { ...request, signatures: [...others, { officer, signature: toBase64(signature) }] };
}

/**
 * Every signature must be an enrolled officer's and verify (REANCHOR_SIGNATURE_INVALID); at least `quorum`
 * distinct officers must have signed (REANCHOR_QUORUM_MISSING). Returns the signers' names.
 */
export function verifyReanchorSignatures(
  request: ReanchorRequest,
  officers: readonly Officer[],
  quorum: number,
): string[] {
  const signers = verifyOfficerSignatures(
    reanchorSigningBytes(request),
    request.signatures ?? [],
    officers,
    (officer, enrolled) =>
      makeError(
        'REANCHOR_SIGNATURE_INVALID',
        enrolled
          ? `The signature of officer "${officer}" does not verify: the re-anchor request was changed after it was signed.`
          : `The re-anchor request is signed by "${officer}", who is not an enrolled officer.`,
        { officer },
      ),
  );
  assertOfficerQuorum(signers, quorum, 'REANCHOR_QUORUM_MISSING', 'A re-anchor');
  return [...signers];
}

function anchorView(state: AnchorState): ReanchorFinding['anchors'][number] {
  return {
    seq: state.seq,
    fingerprint: state.fingerprint,
    status: state.status,
    ...(state.pinnedSeq === undefined ? {} : { pinnedSeq: state.pinnedSeq }),
    ...(state.pinnedHead === undefined ? {} : { pinnedHead: state.pinnedHead }),
  };
}

/**
 * What a rollback alarm finds now: undefined when the database opens against the HSM without one (nothing
 * to re-anchor; an open may record a crash recovery, as every unlock does). Errors other than
 * AUDIT_ROLLBACK (a mismatched home, edited rows) are thrown: they are not a rollback.
 */
export async function findRollback(
  db: ColdsignDb,
  hsm: AuditHsm,
  now: Date,
): Promise<ReanchorFinding | undefined> {
  const ports = await hsmAuditPorts(hsm, { db });
  let alarm: string;
  try {
    await Auditor.open(db, ports, now);
    return undefined;
  } catch (error) {
    if (!isColdsignError(error, 'AUDIT_ROLLBACK')) throw error;
    alarm = error.message;
  }
  const inspect = await hsmAuditPorts(hsm, { db });
  return {
    applianceId: inspect.pins.applianceId,
    auditPublicKey: toHex(compressPublicKey(inspect.signer.publicKey)),
    alarm,
    databaseHead: auditHead(db),
    recordedAnchorSeq: inspect.pins.recordedSeq(),
    anchors: (await inspect.pins.state()).map(anchorView),
  };
}

/** A new request over `finding`, expiring `lifetimeMs` after `now`. */
export function buildReanchorRequest(
  finding: ReanchorFinding,
  reason: string,
  now: Date,
  lifetimeMs = REANCHOR_DEFAULT_LIFETIME_MS,
): ReanchorRequest {
  if (!(lifetimeMs > 0 && lifetimeMs <= REANCHOR_MAX_LIFETIME_MS))
    throw makeError('USAGE', 'A re-anchor request lives between 1 second and 7 days.');
  return parseReanchorRequest({
    type: 'coldsign-reanchor-request',
    version: 1,
    found: finding,
    reason,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + lifetimeMs).toISOString(),
  });
}

/** Checks that cost nothing in the HSM: lifetime and expiry, the quorum of the enrolled officers. */
export function checkReanchorApprovals(db: ColdsignDb, request: ReanchorRequest, now: Date): string[] {
  const created = Date.parse(request.createdAt);
  const expires = Date.parse(request.expiresAt);
  if (expires - created > REANCHOR_MAX_LIFETIME_MS || expires <= created)
    throw makeError('REANCHOR_INVALID', 'A re-anchor request lives at most 7 days after it was made.');
  if (now.getTime() >= expires)
    throw makeError(
      'REANCHOR_EXPIRED',
      `The re-anchor request expired at ${request.expiresAt}: make a new one and have it signed again.`,
    );
  return verifyReanchorSignatures(request, listOfficers(db), getQuorum(db) ?? 1);
}

function sameFinding(a: ReanchorFinding, b: ReanchorFinding): boolean {
  const { alarm: _a, ...left } = a;
  const { alarm: _b, ...right } = b;
  return canonicalJson(left) === canonicalJson(right);
}

/** A pin store that trusts the database's newest signed checkpoint (read) and writes a new HSM anchor. */
class DatabaseCheckpointPins implements PinStore {
  constructor(
    private readonly db: ColdsignDb,
    private readonly anchor: PinStore,
  ) {}

  async read(): Promise<Uint8Array[]> {
    const newest = readCheckpoints(this.db).at(-1);
    if (!newest) return [];
    return [utf8(JSON.stringify({ ...newest, open: false, gen: 0 }))];
  }

  write(value: Uint8Array): Promise<void> {
    return this.anchor.write(value);
  }
}

export interface ReanchorOutcome {
  requestId: string;
  officers: string[];
  entry: AuditHead;
  anchor: AnchorState[];
}

/**
 * Applies a signed request: quorum and expiry, the alarm still standing with exactly the findings the
 * officers signed (REANCHOR_NOT_NEEDED when nothing is wrong, REANCHOR_STALE when the findings moved or the
 * request was applied before), the database's own chain verifying (AUDIT_TAMPERED otherwise: edited rows
 * are not a rollback). Then `audit.reanchored` is appended and a checkpoint over it anchored in a new HSM
 * key; every earlier anchor key of the appliance is destroyed.
 */
export async function applyReanchor(
  db: ColdsignDb,
  hsm: AuditHsm,
  request: ReanchorRequest,
  now: Date,
): Promise<ReanchorOutcome> {
  const officers = checkReanchorApprovals(db, request, now);
  const requestId = reanchorRequestId(request);
  const found = await findRollback(db, hsm, now);
  if (!found)
    throw makeError(
      'REANCHOR_NOT_NEEDED',
      'The database and the HSM anchor agree: there is no rollback alarm to re-anchor; nothing was changed.',
    );
  if (!sameFinding(found, request.found))
    throw makeError(
      'REANCHOR_STALE',
      'The re-anchor request does not describe what the HSM and the database hold now (another appliance, a different head or anchor, or a request already applied): make a new request and have it signed.',
    );
  const ports = await hsmAuditPorts(hsm, { db });
  const whole = verifyAudit(db, ports.signer.publicKey, 'all');
  if (!whole.ok)
    throw makeError(
      'AUDIT_TAMPERED',
      `The database's own audit log does not verify (${whole.firstBad!.reason}): a re-anchor accepts an older log, never an edited one.`,
      { seq: whole.firstBad!.seq },
    );
  const auditor = await Auditor.open(
    db,
    { signer: ports.signer, pins: new DatabaseCheckpointPins(db, ports.pins) },
    now,
  );
  const pinnedSeqs = found.anchors.flatMap((a) => (a.pinnedSeq === undefined ? [] : [a.pinnedSeq]));
  const anchoredSeq = pinnedSeqs.length > 0 ? Math.max(...pinnedSeqs) : null;
  const entry = await auditor.log(
    'audit.reanchored',
    {
      requestId,
      reason: request.reason,
      officers,
      databaseHead: found.databaseHead,
      oldAnchors: found.anchors,
      recordedAnchorSeq: found.recordedAnchorSeq,
      anchoredSeq,
      missingEntries: anchoredSeq === null ? null : Math.max(0, anchoredSeq - found.databaseHead.seq),
      alarm: found.alarm,
    },
    now,
  );
  const after = await hsmAuditPorts(hsm, { db });
  return {
    requestId,
    officers,
    entry: { seq: entry.seq, hash: entry.hash },
    anchor: await after.pins.state(),
  };
}

/** A re-anchor the log records (shown by `audit verify`: the gap stays visible). */
export interface RecordedReanchor {
  seq: number;
  time: string;
  officers: string[];
  reason: string;
  missingEntries: number | null;
}

/** Every `audit.reanchored` entry of the log, oldest first. */
export function recordedReanchors(db: ColdsignDb): RecordedReanchor[] {
  const rows = db.sqlite
    .prepare("SELECT seq, time, payload FROM audit_log WHERE type = 'audit.reanchored' ORDER BY seq")
    .all() as Array<{ seq: number; time: string; payload: string }>;
  return rows.map((row) => {
    const payload = JSON.parse(row.payload) as {
      officers?: string[];
      reason?: string;
      missingEntries?: number | null;
    };
    return {
      seq: row.seq,
      time: row.time,
      officers: payload.officers ?? [],
      reason: payload.reason ?? '',
      missingEntries: payload.missingEntries ?? null,
    };
  });
}
