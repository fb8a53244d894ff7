/**
 * An edit of a SQLite database file below SQL, for tamper tests: text replaced in the b-tree pages of one index
 * only, so that the index and its table disagree (a statement always changes both alike).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * Replaces every occurrence of `from` by `to` (the same length, so every cell keeps its size and SQLite reads the
 * pages as sound) in the pages of `index` of the database `file`, which no other connection may hold open. Returns
 * how many occurrences were replaced.
 */
export function replaceInIndexPages(file: string, index: string, from: string, to: string): number {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to))
    throw new Error('the replacement must keep the length');
  const db = new Database(file);
  let pageSize: number;
  let pages: number[];
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    pageSize = db.pragma('page_size', { simple: true }) as number;
    pages = db.prepare('SELECT pageno FROM dbstat WHERE name = ?').pluck().all(index) as number[];
  } finally {
    db.close();
  }
  const bytes = readFileSync(file);
  const [needle, replacement] = [Buffer.from(from), Buffer.from(to)];
  let replaced = 0;
  for (const page of pages) {
    const cells = bytes.subarray((page - 1) * pageSize, page * pageSize);
    for (let at = cells.indexOf(needle); at >= 0; at = cells.indexOf(needle, at + needle.length)) {
      replacement.copy(cells, at);
      replaced += 1;
    }
  }
  writeFileSync(file, bytes);
  return replaced;
}
