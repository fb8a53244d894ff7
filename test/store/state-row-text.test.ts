/**
 * The full verification reads each stored state row as SQLite's json_array of its columns
 * (store/state.ts storedRowText) and compares that string with the projected row's text
 * (store/state.ts rowText, JSON.stringify's bytes). The two must be the same bytes for every value a
 * STRICT state table can hold, or an intact log would be reported as tampered (and a difference in the
 * other direction could hide an edit): every UTF-16 code unit alone and inside text, astral characters,
 * lone surrogates (stored as U+FFFD), the empty string, integers up to 2^53 and null, in every state table
 * of the real schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../store/database.js';
import { rowText, STATE_COLUMNS, STATE_TABLES, storedRowText, type RowValue } from '../../store/state.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coldsign-row-text-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every code unit alone and between letters, some astral characters and lone surrogates, and the empty string. */
function awkwardTexts(): string[] {
  const texts: string[] = ['', 'plain', 'quote " and backslash \\', '\u2028\u2029', '\ud800', 'x\udfffy'];
  for (let unit = 0; unit < 0x10000; unit += 1) {
    const char = String.fromCharCode(unit);
    texts.push(char, `a${char}b`);
  }
  for (const point of [0x10000, 0x1f600, 0x10ffff]) texts.push(String.fromCodePoint(point));
  return texts;
}

const INTEGERS: Array<number | null> = [0, 1, -1, 255, 1796161875867, 2 ** 53 - 1, -(2 ** 53), null];

describe('a stored state row read as json_array is its projected text, byte for byte', () => {
  it.each(STATE_TABLES)('in the %s table, for every text and integer it can hold', (table) => {
    const db = openDatabase(join(dir, `${table}.db`));
    try {
      const columns = STATE_COLUMNS[table];
      const types = new Map(
        (db.sqlite.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; type: string }>).map(
          (c) => [c.name, c.type],
        ),
      );
      const texts = awkwardTexts();
      const insert = db.sqlite.prepare(
        `INSERT INTO ${table} (${columns.join(', ')}, seq, pos, link) VALUES (${columns.map(() => '?').join(', ')}, ?, ?, ?)`,
      );
      db.sqlite.transaction(() => {
        texts.forEach((text, i) => {
          // Each column takes a different value of the cycle, so every value meets every column type.
          const values = columns.map((column, c) => {
            if (types.get(column) === 'INTEGER') {
              const value = INTEGERS[(i + c) % INTEGERS.length]!;
              return value === null ? null : BigInt(value);
            }
            return i % 97 === c ? null : texts[(i + c * 7919) % texts.length]!;
          });
          insert.run(...values, i, i % 3, '0'.repeat(64));
        });
      })();
      const rows = db.sqlite
        .prepare(
          `SELECT seq, pos, ${columns.join(', ')}, ${storedRowText(table)} FROM ${table} ORDER BY seq, pos`,
        )
        .raw()
        .all() as RowValue[][];
      expect(rows.length).toBe(texts.length);
      const differing = rows.filter((row) => {
        const [seq, pos, ...rest] = row;
        const values = Object.fromEntries(columns.map((column, c) => [column, rest[c] ?? null]));
        return rowText({ table, seq: seq as number, pos: pos as number, values }) !== rest[columns.length];
      });
      expect(differing.slice(0, 3)).toEqual([]);
    } finally {
      db.close();
    }
  });
});
