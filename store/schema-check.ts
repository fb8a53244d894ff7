/**
 * The database's structure is this version's: every table, index, trigger and view SQLite records in its schema
 * table (sqlite_schema, "The Schema Table" of SQLite's file format) is the one the migrations make, and there is
 * nothing else. A table rebuilt without STRICT, a dropped column or index, or an added trigger (SQL that would run
 * inside coldsign's own transactions) is an integrity failure of the store, found when it opens, not a query error
 * met later.
 */
import { makeError } from '../core/errors.js';
import type { Sqlite } from './database.js';

/** One schema object as SQLite records it: name, type, table, CREATE text (null for none). */
export type SchemaObject = readonly [name: string, type: string, table: string, sql: string | null];

/** The objects of a database by name, SQLite's internal ones (sqlite_…) left out. */
export function schemaOf(sqlite: Sqlite): SchemaObject[] {
  return sqlite
    .prepare(
      "SELECT name, type, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .raw()
    .all() as SchemaObject[];
}

const byName = (objects: readonly SchemaObject[]) =>
  new Map(objects.map((o) => [o[0], { type: o[1], text: JSON.stringify(o) }]));

/**
 * Throws STORE_CORRUPT, naming the first object that differs, unless `sqlite` holds exactly the `expected`
 * objects.
 */
export function checkSchema(sqlite: Sqlite, expected: readonly SchemaObject[]): void {
  const want = byName(expected);
  const have = byName(schemaOf(sqlite));
  let finding: string | undefined;
  for (const [name, object] of want) {
    const found = have.get(name);
    if (found?.text === object.text) continue;
    finding = `the ${object.type} ${name} ${found === undefined ? 'is missing' : 'is not defined as this version defines it'}`;
    break;
  }
  if (!finding)
    for (const [name, object] of have)
      if (!want.has(name)) {
        finding = `the ${object.type} ${name} is not part of it`;
        break;
      }
  if (finding)
    throw makeError(
      'STORE_CORRUPT',
      `The coldsign database's structure was changed outside coldsign (${finding}): restore the home from a backup (\`coldsign backup\`), then run \`coldsign audit verify\`.`,
      { object: finding },
    );
}
