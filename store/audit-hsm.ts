/**
 * The audit ports over an HSM: a dedicated secp256k1 key labelled "coldsign-audit" generated on the
 * token (sensitive, non-extractable) signs checkpoints, and a ratchet of HSM secret keys anchors the
 * pinned checkpoint (no data objects, no attribute changes: the same mechanism on every HSM profile).
 *
 * The anchor (docs/hsm.md "The audit anchor", docs/audit.md): each pin written is sealed by a new
 * generic-secret token key, label "coldsign-audit-anchor", whose CKA_ID is
 *   "CSA" 0x01 ‖ appliance id (16) ‖ anchor seq (8, big-endian) ‖ SHA-256(pin value) (32)   = 60 bytes
 * and a record file beside the database (`<database>-anchor.json`, written atomically) keeps
 * (anchor seq, CKA_ID, pin value, HMAC-SHA-256(key, tag ‖ CKA_ID ‖ value)).
 * The new key is created and its record stored, then the previous key destroyed. Reading requires
 * exactly one anchor of this appliance whose record exists and whose HMAC recomputed inside the HSM
 * matches; after a crash two may exist, and the higher one that verifies wins.
 * Structural types only, so that the CLI, the desktop app and tests share it with any HSM object.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';
import { makeError } from '../core/errors.js';
import type { DigestSigner } from '../core/signer.js';
import { concatBytes, fromHex, toHex, utf8 } from '../core/bytes.js';
import { compressPublicKey } from '../core/signature.js';
import { Auditor, type AuditPorts, type PinStore } from './audit.js';
import type { ColdsignDb } from './database.js';

export const AUDIT_KEY_LABEL = 'coldsign-audit';
/** Label of the legacy data-object pin (migrated to the key anchor) and default anchor namespace. */
export const AUDIT_PIN_LABEL = 'coldsign-audit-checkpoint';
/** The fixed, non-empty label of every anchor key. */
export const AUDIT_ANCHOR_LABEL = 'coldsign-audit-anchor';

const ID_MAGIC = Uint8Array.from([0x43, 0x53, 0x41, 0x01]); // "CSA", version 1
const NAMESPACE_BYTES = 16;
const ID_BYTES = ID_MAGIC.length + NAMESPACE_BYTES + 8 + 32;
const MAC_TAG = utf8('coldsign audit anchor v1');

export interface AnchorKeyRef {
  handle: Buffer;
  id: Uint8Array;
}

export interface AuditHsm {
  keys: {
    list(): Promise<Array<{ label: string; keyId: string; publicKey: Uint8Array }>>;
    generate(label: string): Promise<{ label: string; keyId: string; publicKey: Uint8Array }>;
    readAllData(label: string): Promise<Uint8Array[]>;
    destroyData(label: string): Promise<number>;
  };
  anchors: {
    list(label: string): Promise<AnchorKeyRef[]>;
    generate(label: string, id: Uint8Array): Promise<AnchorKeyRef>;
    hmac(key: AnchorKeyRef, data: Uint8Array): Promise<Uint8Array>;
    destroy(key: AnchorKeyRef): Promise<void>;
  };
  signer: DigestSigner;
}

/** Steps of a pin write, named so that tests can inject a crash after each (faultAt). */
export type AnchorStep = 'created' | 'recorded' | 'destroyed-one' | 'destroyed-all';

/** An audit entry the anchor asks the auditor to append (recovery after a crash, migration). */
export interface AnchorEvent {
  type: 'hsm.anchor-resolved' | 'hsm.anchor-migrated';
  payload: Record<string, unknown>;
}

type AnchorStatus = 'valid' | 'unrecorded' | 'forged';

export interface AnchorState {
  seq: number;
  /** First 16 hex digits of SHA-256 of the anchor's CKA_ID. */
  fingerprint: string;
  status: AnchorStatus;
  /** The pinned checkpoint's seq and head hash, when the pin value is readable. */
  pinnedSeq?: number;
  pinnedHead?: string;
}

interface FoundAnchor {
  key: AnchorKeyRef;
  seq: number;
  status: AnchorStatus;
  value?: Uint8Array;
}

/** One record of the anchor file: what the HSM key with CKA_ID `keyId` seals. */
interface AnchorRecord {
  namespace: string;
  seq: number;
  keyId: string;
  value: string;
  mac: string;
}

/**
 * The anchor records beside a database file (in memory for a database without a file). Read afresh
 * each time, so a store survives the database being closed and reopened by its owner.
 */
class AnchorRecords {
  private memory: AnchorRecord[] = [];
  readonly path: string | undefined;

  constructor(databasePath: string) {
    this.path = databasePath && databasePath !== ':memory:' ? `${databasePath}-anchor.json` : undefined;
  }

  all(): AnchorRecord[] {
    if (!this.path) return this.memory;
    if (!existsSync(this.path)) return [];
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as {
        version: number;
        records: AnchorRecord[];
      };
      if (parsed.version === 1 && Array.isArray(parsed.records)) return parsed.records;
    } catch {}
    throw makeError('AUDIT_CHECKPOINT_INVALID', `The audit anchor record file ${this.path} is unreadable.`);
  }

  save(records: AnchorRecord[]): void {
    if (!this.path) this.memory = records;
    else writeFileAtomic(this.path, `${JSON.stringify({ version: 1, records }, null, 1)}\n`);
  }
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What identifies an anchor verified by this process: its object handle, CKA_ID and record. */
function verifiedMark(key: AnchorKeyRef, record: AnchorRecord): string {
  return `${key.handle.toString('hex')}/${toHex(key.id)}/${record.keyId}/${record.value}/${record.mac}`;
}

function rollback(message: string, info: Record<string, number> = {}): never {
  throw makeError('AUDIT_ROLLBACK', message, info);
}

/** The pin store over the anchor-key ratchet. */
export class AnchorPinStore implements PinStore {
  private readonly prefix: Uint8Array;
  private readonly namespace: string;
  private firstRead = true;
  /** Anchors that lost the crash resolution: destroyed by the next write. */
  private stale: FoundAnchor[] = [];
  /** Legacy data-object pins still on the token: destroyed by the next write. */
  private legacyPending = false;
  private events: AnchorEvent[] = [];
  private readonly records: AnchorRecords;
  /**
   * The anchor this process created or verified, as (object handle, CKA_ID, recorded value and MAC): found
   * again unchanged, its HMAC is not recomputed. A key re-created with the same id has another handle, and
   * an edited record another value or MAC, so either is checked in the HSM again.
   */
  private verified: string | undefined;

  constructor(
    db: ColdsignDb,
    private readonly hsm: AuditHsm,
    auditPublicKey: Uint8Array,
    private readonly legacyLabel: string,
    private readonly faultAt?: (step: AnchorStep) => void,
  ) {
    // The appliance id: bound to the audit key (one per token) and the namespace label.
    const id = sha256(
      concatBytes(utf8('coldsign appliance id'), compressPublicKey(auditPublicKey), utf8(legacyLabel)),
    ).slice(0, NAMESPACE_BYTES);
    this.prefix = concatBytes(ID_MAGIC, id);
    this.namespace = toHex(id);
    this.records = new AnchorRecords(db.path);
  }

  /** The appliance id (hex): binds the anchor keys, and a re-anchor request, to this audit key. */
  get applianceId(): string {
    return this.namespace;
  }

  /** The highest anchor seq the record file beside the database names for this appliance (0: none). */
  recordedSeq(): number {
    return this.maxRecordedSeq();
  }

  private mine(): AnchorRecord[] {
    return this.records.all().filter((r) => r.namespace === this.namespace);
  }

  /** Audit entries owed for what reading found (crash resolution, migration); cleared once taken. */
  takeEvents(): AnchorEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  async read(): Promise<Uint8Array[]> {
    const found = await this.findAnchors();
    const first = this.firstRead;
    this.firstRead = false;
    if (found.length === 0) return this.readWithoutAnchor(first);
    if (first) await this.noteLegacyLeftovers();
    const live = found.filter((a) => !this.stale.some((s) => s.seq === a.seq));
    if (live.length > 1 && first) return [this.resolveCrash(live)];
    if (live.length > 1) {
      rollback(
        `The HSM holds ${live.length} audit anchors for this appliance where exactly one is expected (another process wrote?); signing is refused.`,
      );
    }
    const [anchor] = live as [FoundAnchor];
    const recorded = this.maxRecordedSeq();
    if (anchor.status === 'unrecorded' && anchor.seq < recorded) {
      rollback(
        `The HSM's audit anchor #${anchor.seq} is older than the one this database recorded (#${recorded}): the HSM was restored from an older backup; officers must re-anchor (coldsign audit reanchor, docs/operations.md).`,
        { anchorSeq: anchor.seq, recordedSeq: recorded },
      );
    }
    if (anchor.status === 'unrecorded') {
      rollback(
        `The HSM's audit anchor #${anchor.seq} is not recorded in this database: an older copy of the database was restored, or it belongs to another appliance.`,
        { anchorSeq: anchor.seq },
      );
    }
    if (anchor.status === 'forged') {
      rollback(
        `The HSM's audit anchor #${anchor.seq} does not prove the checkpoint recorded with it (HMAC mismatch): the anchor key was re-created or restored from an older HSM backup.`,
        { anchorSeq: anchor.seq },
      );
    }
    return [anchor.value as Uint8Array];
  }

  /**
   * One pin write: a new anchor key, its record in one atomic write of the record file (which drops the
   * superseded records of this appliance: a crash before they are destroyed leaves them unrecorded, and
   * the new anchor, which verifies, wins), then every older anchor key destroyed.
   */
  async write(value: Uint8Array): Promise<void> {
    const existing = await this.findAnchors(false);
    const all = this.records.all();
    const recorded = Math.max(0, ...all.filter((r) => r.namespace === this.namespace).map((r) => r.seq));
    const seq = Math.max(recorded, ...existing.map((a) => a.seq)) + 1;
    const id = concatBytes(this.prefix, u64(seq), sha256(value));
    const key = await this.hsm.anchors.generate(AUDIT_ANCHOR_LABEL, id);
    this.faultAt?.('created');
    const mac = await this.hsm.anchors.hmac(key, concatBytes(MAC_TAG, id, value));
    const record: AnchorRecord = {
      namespace: this.namespace,
      seq,
      keyId: toHex(id),
      value: toHex(value),
      mac: toHex(mac),
    };
    this.records.save([...all.filter((r) => r.namespace !== this.namespace), record]);
    // The HSM computed this MAC over the value just recorded: no need to ask it again while the key lives.
    this.verified = verifiedMark(key, record);
    this.faultAt?.('recorded');
    for (const old of existing) {
      await this.hsm.anchors.destroy(old.key);
      this.faultAt?.('destroyed-one');
    }
    this.faultAt?.('destroyed-all');
    if (this.legacyPending) {
      await this.hsm.keys.destroyData(this.legacyLabel);
      this.legacyPending = false;
    }
    this.stale = [];
  }

  /** The anchors of this appliance with their verification status (for `hsm info`). */
  async state(): Promise<AnchorState[]> {
    return (await this.findAnchors()).map((anchor) => {
      const state: AnchorState = {
        seq: anchor.seq,
        fingerprint: toHex(sha256(anchor.key.id)).slice(0, 16),
        status: anchor.status,
      };
      try {
        const pin = JSON.parse(new TextDecoder().decode(anchor.value)) as { seq?: unknown; head?: unknown };
        if (typeof pin.seq === 'number') state.pinnedSeq = pin.seq;
        if (typeof pin.head === 'string') state.pinnedHead = pin.head;
      } catch {}
      return state;
    });
  }

  /** Anchors of this appliance on the token, highest seq first, each verified against its record. */
  private async findAnchors(verify = true): Promise<FoundAnchor[]> {
    const keys = (await this.hsm.anchors.list(AUDIT_ANCHOR_LABEL)).filter(
      (key) => key.id.length === ID_BYTES && equalBytes(key.id.subarray(0, this.prefix.length), this.prefix),
    );
    const found: FoundAnchor[] = [];
    const recorded = keys.length > 0 ? this.mine() : [];
    for (const key of keys) {
      const seq = Number(new DataView(key.id.buffer, key.id.byteOffset).getBigUint64(this.prefix.length));
      const row = recorded.find((r) => r.seq === seq);
      if (!row || row.keyId !== toHex(key.id)) {
        found.push({ key, seq, status: 'unrecorded' });
        continue;
      }
      const value = fromHex(row.value);
      if (!verify || this.verified === verifiedMark(key, row)) {
        found.push({ key, seq, status: 'valid', value });
        continue;
      }
      const digestOk = equalBytes(sha256(value), key.id.subarray(this.prefix.length + 8));
      const mac = await this.hsm.anchors.hmac(key, concatBytes(MAC_TAG, key.id, value));
      const ok = digestOk && equalBytes(mac, fromHex(row.mac));
      if (ok) this.verified = verifiedMark(key, row);
      found.push({ key, seq, status: ok ? 'valid' : 'forged', value });
    }
    return found.sort((a, b) => b.seq - a.seq);
  }

  /** Two anchors after a crash: the higher one that verifies wins; the others go at the next write. */
  private resolveCrash(anchors: FoundAnchor[]): Uint8Array {
    const winner = anchors.find((a) => a.status === 'valid');
    if (!winner) {
      rollback(
        `The HSM holds ${anchors.length} audit anchors for this appliance and none proves a checkpoint of this database; signing is refused.`,
      );
    }
    this.stale = anchors.filter((a) => a !== winner);
    this.events.push({
      type: 'hsm.anchor-resolved',
      payload: {
        kept: winner.seq,
        removed: this.stale.map((a) => ({ seq: a.seq, status: a.status })),
        reason: 'two anchors after an interrupted write',
      },
    });
    return winner.value as Uint8Array;
  }

  /** No anchor: a new appliance, a home still on the data-object pin, or an anchor that disappeared. */
  private async readWithoutAnchor(first: boolean): Promise<Uint8Array[]> {
    const recorded = this.maxRecordedSeq();
    if (recorded > 0) {
      rollback(
        `The HSM holds no audit anchor but this database recorded anchor #${recorded}: the anchor was deleted or the HSM was restored from an older backup.`,
        { anchorSeq: recorded },
      );
    }
    const legacy = await this.hsm.keys.readAllData(this.legacyLabel);
    if (legacy.length > 0 && first) {
      this.legacyPending = true;
      this.events.push({
        type: 'hsm.anchor-migrated',
        payload: { from: 'data-object pin', to: 'key anchor', legacyObjects: legacy.length },
      });
    }
    return legacy;
  }

  private async noteLegacyLeftovers(): Promise<void> {
    if ((await this.hsm.keys.readAllData(this.legacyLabel)).length > 0) this.legacyPending = true;
  }

  private maxRecordedSeq(): number {
    return Math.max(0, ...this.mine().map((r) => r.seq));
  }
}

export interface AuditPortOptions {
  /** The database whose pins are anchored (the anchor records live beside the audit log). */
  db: ColdsignDb;
  /** Generate the audit key when absent (init). */
  create?: boolean;
  /** Namespace of the anchor on a token shared by several databases (tests); default the product's. */
  pinLabel?: string;
  /** Tests only: called after each step of a pin write, to inject a crash. */
  faultAt?: (step: AnchorStep) => void;
}

/**
 * Finds the audit key on the token (generating it when `create` is set, i.e. at init) and returns
 * the checkpoint signer and the anchor pin store. HSM_KEY_NOT_FOUND when the key is absent and not created.
 */
export async function hsmAuditPorts(
  hsm: AuditHsm,
  options: AuditPortOptions,
): Promise<AuditPorts & { pins: AnchorPinStore }> {
  const found = (await hsm.keys.list()).filter((key) => key.label === AUDIT_KEY_LABEL);
  if (found.length > 1) {
    throw makeError(
      'HSM_ERROR',
      `The HSM holds ${found.length} keys labelled "${AUDIT_KEY_LABEL}"; exactly one is expected.`,
    );
  }
  let key = found[0];
  if (!key) {
    if (!options.create) {
      throw makeError(
        'HSM_KEY_NOT_FOUND',
        `The HSM has no audit key "${AUDIT_KEY_LABEL}"; was the appliance initialized?`,
      );
    }
    key = await hsm.keys.generate(AUDIT_KEY_LABEL);
  }
  const { keyId, publicKey } = key;
  return {
    signer: {
      publicKey,
      sign: async (digest) => {
        const signature = await hsm.signer.signDigest(keyId, publicKey, digest);
        return concatBytes(signature.r, signature.s);
      },
    },
    pins: new AnchorPinStore(
      options.db,
      hsm,
      publicKey,
      options.pinLabel ?? AUDIT_PIN_LABEL,
      options.faultAt,
    ),
  };
}

/**
 * Opens the auditor over the HSM and appends what the anchor owes the log: the resolution of two
 * anchors after a crash ("hsm.anchor-resolved") or the migration from the data-object pin
 * ("hsm.anchor-migrated"), then checkpoints so the superseded objects are destroyed.
 */
export async function openHsmAuditor(
  db: ColdsignDb,
  hsm: AuditHsm,
  now: Date,
  options: Omit<AuditPortOptions, 'db'> = {},
): Promise<Auditor> {
  const ports = await hsmAuditPorts(hsm, { ...options, db });
  const auditor = await Auditor.open(db, ports, now);
  const events = ports.pins.takeEvents();
  if (events.length > 0) {
    for (const event of events) await auditor.log(event.type, event.payload, now);
    await auditor.checkpoint(now);
  }
  return auditor;
}
