/** The key registry: keys generated in the HSM, as the appliance knows them (never private material). */
import { makeError } from '../core/errors.js';
import type { BtcNetwork, BtcScriptType, Chain, KeyRecord } from '../core/signer.js';
import type { ColdsignDb } from './database.js';

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

export function listKeys(db: ColdsignDb): KeyRecord[] {
  const rows = db.sqlite.prepare('SELECT * FROM keys ORDER BY created_at, label').all() as KeyRow[];
  return rows.map(fromRow);
}

export function findKey(db: ColdsignDb, label: string): KeyRecord | undefined {
  const row = db.sqlite.prepare('SELECT * FROM keys WHERE label = ?').get(label) as KeyRow | undefined;
  return row && fromRow(row);
}

export function findKeyByPublicKey(db: ColdsignDb, publicKeyHex: string): KeyRecord | undefined {
  const row = db.sqlite.prepare('SELECT * FROM keys WHERE public_key = ?').get(publicKeyHex.toLowerCase()) as
    KeyRow | undefined;
  return row && fromRow(row);
}

export function addKey(db: ColdsignDb, record: KeyRecord): void {
  if (findKey(db, record.label)) {
    throw makeError('KEY_LABEL_TAKEN', `A key labelled "${record.label}" already exists.`, {
      label: record.label,
    });
  }
  if (findKeyByPublicKey(db, record.publicKey)) {
    throw makeError('KEY_LABEL_TAKEN', 'This public key is already registered under another label.', {
      label: record.label,
    });
  }
  db.sqlite
    .prepare(
      `INSERT INTO keys (label, chain, public_key, key_id, address, network, script, descriptor, created_at)
       VALUES (@label, @chain, @publicKey, @keyId, @address, @network, @script, @descriptor, @createdAt)`,
    )
    .run({
      label: record.label,
      chain: record.chain,
      publicKey: record.publicKey.toLowerCase(),
      keyId: record.keyId,
      address: record.address,
      network: record.network ?? null,
      script: record.script ?? null,
      descriptor: record.descriptor ?? null,
      createdAt: record.createdAt,
    });
}
