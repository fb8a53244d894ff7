/** Small named values of the appliance (e.g. the audit public key the database is bound to). */
import type { ColdsignDb } from './database.js';

export function getSetting(db: ColdsignDb, name: string): string | undefined {
  const row = db.sqlite.prepare('SELECT value FROM settings WHERE name = ?').get(name) as
    { value: string } | undefined;
  return row?.value;
}

export function setSetting(db: ColdsignDb, name: string, value: string): void {
  db.sqlite
    .prepare(
      'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
    )
    .run(name, value);
}
