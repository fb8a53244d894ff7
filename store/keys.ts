/**
 * The key registry: keys generated in the HSM, as the appliance knows them (never private material).
 * The keys table is a projection of "key.registered" audit entries (store/state.ts); this module
 * only reads it and checks a new key before its entry is appended. It takes the SQLite handle, not
 * the ColdsignDb, so that database.ts can use it without an import loop.
 */
import type Database from 'better-sqlite3';
import { makeError } from '../core/errors.js';
import type { BtcNetwork, BtcScriptType, Chain, KeyRecord } from '../core/signer.js';

type Sqlite = Database.Database;

interface KeyRow {
  label: string;
  chain: Chain;
  public_key: string;
  key_id: string;
  address: string;
  network: BtcNetwork | null;
  script: BtcScriptType | null;
  descriptor: string | null;
  created_at: string;
}

const COLUMNS = 'label, chain, public_key, key_id, address, network, script, descriptor, created_at';

function fromRow(row: KeyRow): KeyRecord {
  const record: KeyRecord = {
    label: row.label,
    chain: row.chain,
    publicKey: row.public_key,
    keyId: row.key_id,
    address: row.address,
    createdAt: row.created_at,
  };
  if (row.network !== null) record.network = row.network;
  if (row.script !== null) record.script = row.script;
  if (row.descriptor !== null) record.descriptor = row.descriptor;
  return record;
}

export function listKeys(sqlite: Sqlite): KeyRecord[] {
  const rows = sqlite.prepare(`SELECT ${COLUMNS} FROM keys ORDER BY seq, pos`).all() as KeyRow[];
  return rows.map(fromRow);
}

/*
 * Lookups read the table itself (NOT INDEXED): start-up verified its rows against the log, not its indexes, whose
 * pages an edit of the file below SQLite could change unseen (a label hidden there would let a second key take it).
 * The table holds one row per key, so the scan is short.
 */

export function findKey(sqlite: Sqlite, label: string): KeyRecord | undefined {
  const row = sqlite
    .prepare(`SELECT ${COLUMNS} FROM keys NOT INDEXED WHERE label = ? ORDER BY seq LIMIT 1`)
    .get(label) as KeyRow | undefined;
  return row && fromRow(row);
}

export function findKeyByPublicKey(sqlite: Sqlite, publicKeyHex: string): KeyRecord | undefined {
  const row = sqlite
    .prepare(`SELECT ${COLUMNS} FROM keys NOT INDEXED WHERE public_key = ? ORDER BY seq LIMIT 1`)
    .get(publicKeyHex.toLowerCase()) as KeyRow | undefined;
  return row && fromRow(row);
}

/** KEY_LABEL_TAKEN when the label or the public key is already registered. */
export function assertKeyIsNew(sqlite: Sqlite, record: KeyRecord): void {
  if (findKey(sqlite, record.label)) {
    throw makeError('KEY_LABEL_TAKEN', `A key labelled "${record.label}" already exists.`, {
      label: record.label,
    });
  }
  if (findKeyByPublicKey(sqlite, record.publicKey)) {
    throw makeError('KEY_LABEL_TAKEN', 'This public key is already registered under another label.', {
      label: record.label,
    });
  }
}
