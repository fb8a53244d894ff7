/**
 * Versioned schema migrations of the coldsign database, applied in order. A migration is never
 * edited once released: add a new one at the end. `schema_version` records what has been applied.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      'key registry, officers, governance, policies, requests, decisions, approvals, signatures, velocity, audit log',
    sql: `
      CREATE TABLE keys (
        label       TEXT PRIMARY KEY,
        chain       TEXT NOT NULL CHECK (chain IN ('btc', 'evm')),
        public_key  TEXT NOT NULL UNIQUE,
        key_id      TEXT NOT NULL,
        address     TEXT NOT NULL,
        network     TEXT,
        script      TEXT,
        descriptor  TEXT,
        created_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE officers (
        name        TEXT PRIMARY KEY,
        public_key  TEXT NOT NULL UNIQUE,
        enrolled_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE governance (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        quorum      INTEGER NOT NULL CHECK (quorum >= 1),
        updated_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE settings (
        name        TEXT PRIMARY KEY,
        value       TEXT NOT NULL
      ) STRICT;

      CREATE TABLE policies (
        version     INTEGER PRIMARY KEY,
        document    TEXT NOT NULL,
        digest      TEXT NOT NULL,
        applied_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE requests (
        request_id  TEXT PRIMARY KEY,
        chain       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        summary     TEXT NOT NULL,
        canonical   BLOB,
        created_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE decisions (
        id              INTEGER PRIMARY KEY,
        request_id      TEXT NOT NULL REFERENCES requests(request_id),
        allowed         INTEGER NOT NULL,
        rule            TEXT,
        required_approvals INTEGER NOT NULL,
        reasons         TEXT NOT NULL,
        policy_version  INTEGER,
        created_at      TEXT NOT NULL
      ) STRICT;

      CREATE TABLE approvals (
        request_id  TEXT NOT NULL REFERENCES requests(request_id),
        officer     TEXT NOT NULL REFERENCES officers(name),
        signature   TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (request_id, officer)
      ) STRICT;

      CREATE TABLE signatures (
        id            INTEGER PRIMARY KEY,
        request_id    TEXT NOT NULL REFERENCES requests(request_id),
        key_label     TEXT NOT NULL,
        signature     TEXT NOT NULL,
        output_path   TEXT,
        output_digest TEXT,
        created_at    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX signatures_by_request ON signatures(request_id);

      CREATE TABLE velocity (
        id          INTEGER PRIMARY KEY,
        request_id  TEXT NOT NULL REFERENCES requests(request_id),
        rule        TEXT NOT NULL,
        asset       TEXT NOT NULL,
        raw         TEXT NOT NULL,
        time_ms     INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX velocity_by_rule_time ON velocity(rule, time_ms);

      CREATE TABLE audit_log (
        seq         INTEGER PRIMARY KEY,
        time        TEXT NOT NULL,
        type        TEXT NOT NULL,
        payload     TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
      ) STRICT;

      CREATE TABLE audit_checkpoints (
        seq         INTEGER PRIMARY KEY,
        head_hash   TEXT NOT NULL,
        time        TEXT NOT NULL,
        signature   TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description:
      'state tables become projections of the audit log (seq, pos, link); checkpoints commit to the state; index audit_log(type, seq)',
    sql: `
      DROP TABLE approvals;
      DROP TABLE velocity;
      DROP TABLE officers;
      DROP TABLE governance;
      DROP TABLE keys;
      DROP TABLE policies;

      CREATE TABLE officers (
        seq INTEGER NOT NULL, pos INTEGER NOT NULL,
        name TEXT, public_key TEXT, enrolled_at TEXT,
        link TEXT NOT NULL, PRIMARY KEY (seq, pos)
      ) STRICT;
      CREATE TABLE governance (
        seq INTEGER NOT NULL, pos INTEGER NOT NULL,
        quorum INTEGER, officers TEXT,
        link TEXT NOT NULL, PRIMARY KEY (seq, pos)
      ) STRICT;
      CREATE TABLE keys (
        seq INTEGER NOT NULL, pos INTEGER NOT NULL,
        label TEXT, chain TEXT, public_key TEXT, key_id TEXT, address TEXT,
        network TEXT, script TEXT, descriptor TEXT, created_at TEXT,
        link TEXT NOT NULL, PRIMARY KEY (seq, pos)
      ) STRICT;
      CREATE INDEX keys_by_label ON keys(label);
      CREATE INDEX keys_by_public_key ON keys(public_key);
      CREATE TABLE policies (
        seq INTEGER NOT NULL, pos INTEGER NOT NULL,
        version INTEGER, document TEXT, digest TEXT, applied_at TEXT,
        link TEXT NOT NULL, PRIMARY KEY (seq, pos)
      ) STRICT;
      CREATE TABLE velocity (
        seq INTEGER NOT NULL, pos INTEGER NOT NULL,
        request_id TEXT, rule TEXT, asset TEXT, raw TEXT, time_ms INTEGER, txid TEXT,
        link TEXT NOT NULL, PRIMARY KEY (seq, pos)
      ) STRICT;
      CREATE TABLE approvals (
        seq INTEGER NOT NULL, pos INTEGER NOT NULL,
        request_id TEXT, officer TEXT, signature TEXT, created_at TEXT,
        policy_version INTEGER, expires_at TEXT, keys TEXT,
        link TEXT NOT NULL, PRIMARY KEY (seq, pos)
      ) STRICT;
      CREATE INDEX approvals_by_request ON approvals(request_id);

      ALTER TABLE audit_checkpoints ADD COLUMN state TEXT;
      CREATE INDEX audit_log_by_type ON audit_log(type, seq);
    `,
  },
  {
    version: 3,
    description:
      'outpoints: the Bitcoin outpoints our keys signed, with the amount and scriptPubKey claimed (projection of "signature")',
    sql: `
      CREATE TABLE outpoints (
        seq INTEGER NOT NULL, pos INTEGER NOT NULL,
        request_id TEXT, outpoint TEXT, sats TEXT, script TEXT, key_label TEXT, sighash_type INTEGER,
        link TEXT NOT NULL, PRIMARY KEY (seq, pos)
      ) STRICT;
    `,
  },
  {
    version: 4,
    description:
      "outpoint_buckets: the ledger's index (each bucket's newest link), so a decision walks one outpoint's bucket, not the whole table",
    sql: `
      ALTER TABLE outpoints ADD COLUMN bucket INTEGER;
      UPDATE outpoints SET bucket = coldsign_outpoint_bucket(outpoint);
      CREATE INDEX outpoints_by_bucket ON outpoints (bucket, seq, pos);
      CREATE TABLE outpoint_buckets (bucket INTEGER PRIMARY KEY, link TEXT NOT NULL) STRICT;
    `,
  },
  {
    version: 5,
    description:
      "outpoints_by_bucket covers the columns of a ledger row's text: a decision reads its buckets' rows from the index alone, not one table page per row",
    sql: `
      DROP INDEX outpoints_by_bucket;
      CREATE INDEX outpoints_by_bucket ON outpoints (bucket, seq, pos, request_id, outpoint, sats, script, key_label, sighash_type);
    `,
  },
];
