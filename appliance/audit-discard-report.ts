/**
 * The discards `audit verify` reports (docs/audit.md "Unfinished work is discarded"): each
 * "audit.discarded" entry with what it dropped, and the unfinished signings whose signature entries
 * (or failure) were among the dropped entries — a signing discarded after a crash, which the HSM may
 * have signed although coldsign recorded and exported no signature.
 */
import type { DiscardDetail, RecordedDiscard } from '../store/audit-discards.js';

export type { DiscardedTypeCount } from '../store/audit-discards.js';

export interface UnfinishedSigning {
  seq: number;
  requestIds: string[];
}

/** One "audit.discarded" entry as `audit verify --json` prints it (field `discarded`). */
export interface DiscardReport extends RecordedDiscard {
  /** Unfinished signings (announced and pinned) whose closing entries this discard dropped. */
  unfinishedSignings: UnfinishedSigning[];
}

/** Entry types that close a signing: a signature, or its failure. */
const CLOSING_TYPES = new Set(['signature', 'signing.failed']);

/** The details of a discard: its own and those it carried forward. */
function detailsOf(discard: DiscardDetail): DiscardDetail[] {
  return [...(discard.earlierDiscards ?? []), discard];
}

/** How many discarded entries of `type` a discard records (carried-forward details included). */
export function discardedCount(discard: DiscardDetail, type: string): number {
  return detailsOf(discard)
    .flatMap((d) => d.types)
    .reduce((n, t) => (t.type === type ? n + t.count : n), 0);
}

/** The request ids the signing entries of a discarded tail named (carried-forward details included). */
export function discardedRequestIds(discard: DiscardDetail): string[] {
  return [...new Set(detailsOf(discard).flatMap((d) => d.signingRequestIds ?? []))].sort();
}

/**
 * Whether `discard` dropped the closing entries of the signing announced at `signing.seq`: the tail
 * it dropped began right after that announcement (the pin was the announcement's open checkpoint)
 * and held a signature or a failure, or named one of the signing's request ids.
 */
function droppedClosingOf(discard: RecordedDiscard, signing: UnfinishedSigning): boolean {
  if (discard.seq <= signing.seq) return false;
  return detailsOf(discard).some(
    (d) =>
      d.pinnedSeq === signing.seq &&
      (d.types.some((t) => t.type !== null && CLOSING_TYPES.has(t.type)) ||
        (d.signingRequestIds ?? []).some((id) => signing.requestIds.includes(id))),
  );
}

/** Each discard with the unfinished signings it dropped the closing entries of (each signing: its first such discard). */
export function discardReports(
  discards: readonly RecordedDiscard[],
  unfinished: readonly UnfinishedSigning[],
): DiscardReport[] {
  const reports = discards.map((d) => ({ ...d, unfinishedSignings: [] as UnfinishedSigning[] }));
  for (const signing of unfinished) {
    const report = reports.find((d) => droppedClosingOf(d, signing));
    report?.unfinishedSignings.push({ seq: signing.seq, requestIds: [...signing.requestIds] });
  }
  return reports;
}
