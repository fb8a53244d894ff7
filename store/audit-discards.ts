/**
 * What an "audit.discarded" entry records of a tail dropped at start-up (Auditor.open, docs/audit.md
 * "Unfinished work is discarded"): the range, the hash of its last entry, how many entries of each
 * type, the request ids its signing entries named, and the detail of earlier discards that the tail
 * itself held: a process killed between a discard and the checkpoint over it leaves the
 * "audit.discarded" entry beyond the open pin, and the next start-up discards that entry too, carrying
 * its detail forward. Read back for `audit verify`.
 */
import { followsSigning, signingRequestIds } from './audit-entry-hash.js';
import { isAuditType } from './audit-chain.js';
import type { ColdsignDb } from './database.js';

export interface DiscardedTypeCount {
  /** An entry type name, or null for names no coldsign entry can have. */
  type: string | null;
  count: number;
}

/** One discard's record (the payload of an "audit.discarded" entry). */
export interface DiscardDetail {
  pinnedSeq: number;
  discardedFrom: number;
  discardedTo: number;
  /** Hash of the last discarded entry. */
  discardedHead: string;
  types: DiscardedTypeCount[];
  /** Request ids named by discarded "signing.started", "signature" and "signing.failed" entries. */
  signingRequestIds?: string[];
  /**
   * Earlier discards whose "audit.discarded" entry was in this tail (never checkpointed), oldest first,
   * each without its own `earlierDiscards` (those come before it in this list).
   */
  earlierDiscards?: DiscardDetail[];
}

const HASH_RE = /^[0-9a-f]{64}$/;
/** Request ids are hex SHA-256 digests; anything else in an unverified tail is not copied. */
const REQUEST_ID_RE = /^[0-9a-f]{64}$/;

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Sorted, without repeats. */
function distinctSorted(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort();
}

/**
 * The detail an "audit.discarded" payload records, its fields checked one by one (the payload may come
 * from a tail no checkpoint covers): undefined when it is not a discard record; fields that do not
 * have their shape are left out.
 */
export function parseDiscardDetail(payload: string): DiscardDetail | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return detailOf(value, true);
}

/** `withEarlier`: the top level, whose carried details are read too (one level: they are kept flat). */
function detailOf(value: unknown, withEarlier: boolean): DiscardDetail | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isCount(v.pinnedSeq) || !isCount(v.discardedFrom) || !isCount(v.discardedTo)) return undefined;
  if (typeof v.discardedHead !== 'string' || !HASH_RE.test(v.discardedHead)) return undefined;
  const types = Array.isArray(v.types)
    ? v.types.flatMap((t: unknown) => {
        const { type, count } = (t ?? {}) as { type?: unknown; count?: unknown };
        const name = typeof type === 'string' && isAuditType(type) ? type : type === null ? null : undefined;
        return name !== undefined && isCount(count) ? [{ type: name, count }] : [];
      })
    : [];
  const detail: DiscardDetail = {
    pinnedSeq: v.pinnedSeq,
    discardedFrom: v.discardedFrom,
    discardedTo: v.discardedTo,
    discardedHead: v.discardedHead,
    types,
  };
  if (Array.isArray(v.signingRequestIds)) {
    const ids = v.signingRequestIds.filter(
      (id): id is string => typeof id === 'string' && REQUEST_ID_RE.test(id),
    );
    if (ids.length > 0) detail.signingRequestIds = distinctSorted(ids);
  }
  if (withEarlier && Array.isArray(v.earlierDiscards)) {
    const earlier = v.earlierDiscards.flatMap((e: unknown) => {
      const d = detailOf(e, false);
      return d ? [d] : [];
    });
    if (earlier.length > 0) detail.earlierDiscards = earlier;
  }
  return detail;
}

/** Collects, entry by entry, what the discard of a tail records (Auditor.verifyTail feeds it). */
export class TailRecord {
  private readonly types = new Map<string | null, number>();
  private readonly requestIds = new Set<string>();
  private readonly earlier: DiscardDetail[] = [];

  add(type: string, payload: string): void {
    // A name coldsign cannot have written (assertAuditType) is counted, not copied.
    const name = isAuditType(type) ? type : null;
    this.types.set(name, (this.types.get(name) ?? 0) + 1);
    if (followsSigning(type)) {
      for (const id of signingRequestIds(safeParse(payload)))
        if (REQUEST_ID_RE.test(id)) this.requestIds.add(id);
    }
    if (type === 'audit.discarded') {
      // A discard whose checkpoint never landed: what it dropped is kept, flat and oldest first.
      const detail = parseDiscardDetail(payload);
      if (detail) {
        const { earlierDiscards, ...own } = detail;
        this.earlier.push(...(earlierDiscards ?? []), own);
      }
    }
  }

  /** The payload of the "audit.discarded" entry for the tail (pinnedSeq, from]…to ending at `head`. */
  payload(pinnedSeq: number, to: number, head: string): DiscardDetail {
    return {
      pinnedSeq,
      discardedFrom: pinnedSeq + 1,
      discardedTo: to,
      discardedHead: head,
      types: [...this.types]
        .sort(([a], [b]) => ((a ?? '') < (b ?? '') ? -1 : 1))
        .map(([type, count]) => ({ type, count })),
      ...(this.requestIds.size > 0 ? { signingRequestIds: distinctSorted(this.requestIds) } : {}),
      ...(this.earlier.length > 0 ? { earlierDiscards: this.earlier } : {}),
    };
  }
}

function safeParse(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return undefined;
  }
}

/** An "audit.discarded" entry of the log. */
export interface RecordedDiscard extends DiscardDetail {
  seq: number;
  /** When the discard was made (the start-up after the crash). */
  time: string;
}

/** Every "audit.discarded" entry of the log, oldest first. */
export function recordedDiscards(db: ColdsignDb): RecordedDiscard[] {
  const rows = db.sqlite
    .prepare("SELECT seq, time, payload FROM audit_log WHERE type = 'audit.discarded' ORDER BY seq")
    .all() as Array<{ seq: number; time: string; payload: string }>;
  return rows.flatMap((row) => {
    const detail = parseDiscardDetail(row.payload);
    return detail ? [{ seq: row.seq, time: row.time, ...detail }] : [];
  });
}
