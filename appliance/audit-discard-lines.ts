/** The lines a verification (`audit verify`, its `--file` form, the app's Audit screen) shows for unfinished signings and for the discards of the log (docs/audit.md). */
import type { DiscardedTypeCount, DiscardReport, UnfinishedSigning } from './audit-discard-report.js';
import { discardedCount, discardedRequestIds } from './audit-discard-report.js';
import type { StartupInterruption } from '../store/audit.js';

function sameSigning(a: UnfinishedSigning, b: UnfinishedSigning): boolean {
  return a.seq === b.seq && a.requestIds.join() === b.requestIds.join();
}

/** What an unfinished signing may have left: with nothing recorded after its announcement, or with that dropped. */
const NOTHING_RECORDED = 'the HSM may have signed; no signature was recorded';
const NOTHING_EXPORTED = 'the HSM may have signed, but coldsign recorded and exported no signature';

/** One unfinished signing: discarded after a crash (its signature entries dropped), or with nothing recorded after it. */
export function unfinishedSigningLine(
  signing: UnfinishedSigning,
  discarded: readonly DiscardReport[],
): string {
  const at = `  unfinished signing at entry ${signing.seq}: ${signing.requestIds.join(', ')}`;
  const discard = discarded.find((d) => d.unfinishedSignings.some((u) => sameSigning(u, signing)));
  if (!discard) return `${at} (${NOTHING_RECORDED})`;
  return `${at} (discarded after a crash: the entries recorded after its announcement were dropped at entry ${discard.seq}; ${NOTHING_EXPORTED})`;
}

function countsText(types: readonly DiscardedTypeCount[]): string {
  if (types.length === 0) return 'no entries';
  return types.map((t) => `${t.count} ${t.type ?? 'of no valid entry type'}`).join(', ');
}

/** One discard: when, which entries, how many of each type, and any signing announcement it dropped. */
export function discardLines(discard: DiscardReport): string[] {
  const lines = [
    `  discarded at entry ${discard.seq} (${discard.time}): entries ${discard.discardedFrom} to ${discard.discardedTo}, left beyond the checkpoint pinned at entry ${discard.pinnedSeq} by a process that stopped before its checkpoint, were dropped at start-up: ${countsText(discard.types)}`,
  ];
  for (const earlier of discard.earlierDiscards ?? [])
    lines.push(
      `    carried forward from an earlier discard, whose own entry was dropped with this tail (the process stopped again before the discard was checkpointed): entries ${earlier.discardedFrom} to ${earlier.discardedTo}, beyond the checkpoint pinned at entry ${earlier.pinnedSeq}: ${countsText(earlier.types)}`,
    );
  const announcements = discardedCount(discard, 'signing.started');
  if (announcements > 0) {
    const named = discardedRequestIds(discard);
    const ids = named.length > 0 ? ` (requests named: ${named.join(', ')})` : '';
    lines.push(
      `    ${announcements === 1 ? 'a signing was' : `${announcements} signings were`} discarded after a crash before ${announcements === 1 ? 'its announcement was' : 'their announcements were'} pinned${ids}: coldsign asks the HSM to sign only once the announcement is pinned, and recorded and exported no signature`,
    );
  }
  return lines;
}

/** Every line a verification shows for its unfinished signings and discards, in that order (none when there are none). */
export function unfinishedWorkLines(
  unfinished: readonly UnfinishedSigning[] = [],
  discarded: readonly DiscardReport[] = [],
): string[] {
  return [
    ...unfinished.map((signing) => unfinishedSigningLine(signing, discarded)),
    ...discarded.flatMap(discardLines),
  ];
}

/**
 * What unlock says when its start-up found work a stopped process left (docs/audit.md "The next unlock says so"):
 * the discard it recorded and the signing it stopped in, in the words `audit verify` uses for them.
 */
export function interruptionWarning(stopped: StartupInterruption | undefined): string | undefined {
  if (!stopped?.discard && !stopped?.signing) return undefined;
  const parts: string[] = [];
  const { discard, signing } = stopped;
  if (signing) {
    const ids = signing.requestIds.length > 0 ? ` (${signing.requestIds.join(', ')})` : '';
    parts.push(
      `the previous session stopped during the signing announced at entry ${signing.seq}${ids}: ${
        discard ? NOTHING_EXPORTED : NOTHING_RECORDED
      }`,
    );
  }
  if (discard) {
    const { discardedFrom, discardedTo, types } = discard.detail;
    parts.push(
      `start-up dropped entries ${discardedFrom} to ${discardedTo} (${countsText(types)}), written after the last checkpoint by a process that stopped before its own, and recorded that at entry ${discard.seq}`,
    );
  }
  return `${parts.join('; ')}; \`coldsign audit verify\` lists the unfinished work`;
}
