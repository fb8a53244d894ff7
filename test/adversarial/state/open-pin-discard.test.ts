/**
 * Entries written into the database beyond an open pin are discarded at the next start-up, never adopted
 * (docs/audit.md "Unfinished work is discarded"). Real `bin/coldsign` processes on an embedded SoftHSM2 token are
 * killed (SIGKILL) while they hold the pin open: the preload support/hold-at-pin-write.mjs stops a process at its
 * Nth pin write and says so on stderr, and only then does the test kill it (no clock involved).
 *
 * The attack (found by a red team): someone who can write the SQLite file but has no officer key kills a review,
 * appends hash-chained `officer.enrolled` mallory and `governance.quorum` 1 with their state rows (SHA-256, no
 * key), and waits for the next start-up to make them official; mallory then signs a policy alone. Here the next
 * start-up discards them: mallory is no officer, the quorum is still 2, her policy and her approval are refused.
 * The control: an honest `sign` killed after its signatures were recorded, before its closing checkpoint, leaves
 * a log that verifies, the signing reported unfinished, and an `audit.discarded` entry.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplianceHome, officerPassphrase, type ApplianceHome } from '../../support/appliance-home.js';
import { canonicalPayload, entryHash } from '../../../store/audit-chain.js';
import { applyRows, projectEntry, storedHeads } from '../../../store/state.js';
import { killWhenHeld, withHomeDb } from './support/kill-at-pin.js';
import { LedgerIndex } from '../../../store/outpoint-ledger.js';
import { ApplianceSession } from '../../../appliance/session.js';

const PAYEE = '0x1111111111111111111111111111111111111111';
const ATTACKER = '0x000000000000000000000000000000000000dEaD';

let a: ApplianceHome;
let nonce = 0;

beforeAll(() => {
  a = createApplianceHome({
    officers: ['alice', 'bob', 'mallory'], // mallory: a key pair of the attacker's own, never enrolled
    keys: [{ chain: 'evm', label: 'treasury' }],
    policy: () => ({
      version: 1,
      rules: [
        {
          id: 'small',
          chain: 'evm',
          chainIds: [1],
          keys: ['treasury'],
          destinations: [{ address: PAYEE, label: 'Supplier' }],
          maxAmount: '0.01',
          maxFee: '0.1',
        },
        {
          id: 'large',
          chain: 'evm',
          chainIds: [1],
          keys: ['treasury'],
          destinations: [{ address: PAYEE, label: 'Supplier' }],
          maxAmount: '10',
          maxFee: '0.1',
          approvals: 2,
        },
      ],
    }),
  });
});
afterAll(() => a?.cleanup());

const home = () => a.cli.env.COLDSIGN_HOME!;

/** A new EVM payment request file (each with its own nonce, so its own request id). */
function request(name: string, to: string, wei: string): string {
  const path = a.file(name);
  writeFileSync(
    path,
    JSON.stringify({
      type: 'transaction',
      from: a.keys.treasury!.address,
      chainId: 1,
      txType: 2,
      nonce: nonce++,
      to,
      value: wei,
      gasLimit: '21000',
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '1000000000',
    }),
  );
  return path;
}

/** Appends one entry the way an attacker with the file can: hash-chained, with its state rows linked. */
function forge(db: Database.Database, type: string, payload: unknown): string {
  const head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as {
    seq: number;
    hash: string;
  };
  const seq = head.seq + 1;
  const time = new Date().toISOString();
  const text = canonicalPayload(payload);
  const hash = entryHash(seq, time, type, text, head.hash);
  db.prepare(
    'INSERT INTO audit_log (seq, time, type, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(seq, time, type, text, head.hash, hash);
  applyRows(
    db as never,
    projectEntry({ seq, time, type, payload: text }),
    storedHeads(db as never),
    LedgerIndex.stored(db as never),
  );
  return hash;
}

/** Enrols mallory and sets a quorum of one, with plain SQLite; returns the hash of the last forged entry. */
function forgeMallory(): string {
  return withHomeDb(a, (db) =>
    db.transaction(() => {
      forge(db, 'officer.enrolled', { name: 'mallory', publicKey: a.officerKeys.mallory });
      return forge(db, 'governance.quorum', { quorum: 1, officers: ['alice', 'bob', 'mallory'] });
    })(),
  );
}

/** The pin the token holds now (the newest anchor record's value). */
function pinNow(): { seq: number; open: boolean } {
  const file = JSON.parse(readFileSync(join(home(), 'coldsign.db-anchor.json'), 'utf8')) as {
    records: Array<{ seq: number; value: string }>;
  };
  const newest = file.records.reduce((x, y) => (y.seq > x.seq ? y : x));
  return JSON.parse(Buffer.from(newest.value, 'hex').toString('utf8')) as { seq: number; open: boolean };
}

interface LoggedEntry {
  seq: number;
  time: string;
  type: string;
  payload: string;
  hash: string;
}

function entriesAfter(seq: number): LoggedEntry[] {
  return withHomeDb(
    a,
    (db) =>
      db
        .prepare('SELECT seq, time, type, payload, hash FROM audit_log WHERE seq > ? ORDER BY seq')
        .all(seq) as LoggedEntry[],
  );
}

/** The fields of `audit verify --json` these tests read. */
interface VerifyReport {
  ok: boolean;
  unfinishedSignings?: Array<{ seq: number; requestIds: string[] }>;
  discarded?: Array<Record<string, unknown>>;
}

/**
 * A 0.005 ETH payment `<name>.json` signed to `<name>.out` and killed at pin write `hold`: its request file, output
 * path, the pin it left (open) and the entries beyond it.
 */
async function killedPayment(name: string, hold: string) {
  const payment = request(`${name}.json`, PAYEE, '5000000000000000');
  const out = a.file(`${name}.out`);
  const killed = await killWhenHeld(a, ['sign', payment, '--out', out, '--json'], hold);
  expect(killed).toEqual({ signal: 'SIGKILL', held: true });
  const pin = pinNow();
  expect(pin.open).toBe(true);
  return { payment, out, pin, tail: entriesAfter(pin.seq) };
}

function lastDiscarded(): Record<string, unknown> {
  const row = withHomeDb(
    a,
    (db) =>
      db
        .prepare("SELECT payload FROM audit_log WHERE type = 'audit.discarded' ORDER BY seq DESC LIMIT 1")
        .get() as { payload: string } | undefined,
  );
  expect(row, 'an audit.discarded entry').toBeDefined();
  return JSON.parse(row!.payload) as Record<string, unknown>;
}

function officers(): string[] {
  return withHomeDb(
    a,
    (db) => db.prepare('SELECT name FROM officers ORDER BY seq, pos').all() as { name: string }[],
  )
    .map((r) => r.name)
    .sort();
}

function governance(): { quorum: number; officers: string } {
  return withHomeDb(
    a,
    (db) =>
      db.prepare('SELECT quorum, officers FROM governance ORDER BY seq DESC, pos DESC LIMIT 1').get() as {
        quorum: number;
        officers: string;
      },
  );
}

function errorOf(stdout: string): { code: string; message: string } {
  const { code, message } = (JSON.parse(stdout) as { error: { code: string; message: string } }).error;
  return { code, message };
}

function approve(path: string, officer: string) {
  const out = `${path}.${officer}.approval.json`;
  return {
    out,
    result: a.run(['approve', path, '--key', a.file(`${officer}.pem`), '--out', out, '--json'], {
      COLDSIGN_PASSPHRASE: officerPassphrase(officer),
    }),
  };
}

describe('entries forged beyond an open pin are discarded at the next start-up', () => {
  it('an officer and a quorum of one, written while a killed inspect held the pin open, are gone; mallory alone is refused', async () => {
    const payment = request('large.json', PAYEE, '5000000000000000000');
    const drain = request('drain.json', ATTACKER, '50000000000000000000');
    expect(a.run(['sign', drain, '--out', a.file('drain.out'), '--json']).code).toBe(4);

    // A review killed at its first pin write: the begin, pin open, nothing appended yet.
    const killed = await killWhenHeld(a, ['inspect', payment, '--json'], '1:after');
    expect(killed).toEqual({ signal: 'SIGKILL', held: true });
    const pin = pinNow();
    expect(pin.open).toBe(true);
    expect(entriesAfter(pin.seq)).toEqual([]);

    // Plain SQLite: mallory enrolled, quorum 1, hash-chained, state rows linked.
    const forgedHead = forgeMallory();
    expect(officers()).toEqual(['alice', 'bob', 'mallory']);
    expect(entriesAfter(pin.seq).map((e) => e.type)).toEqual(['officer.enrolled', 'governance.quorum']);

    // Mallory signs a policy alone; applying it unlocks the HSM: start-up discards the forged tail first.
    const evil = a.file('evil-policy.json');
    writeFileSync(
      evil,
      JSON.stringify({
        version: 2,
        appliance: a.auditPublicKey,
        rules: [
          {
            id: 'drain',
            chain: 'evm',
            chainIds: [1],
            keys: ['treasury'],
            destinations: [{ address: ATTACKER, label: 'x' }],
            maxAmount: '1000',
            maxFee: '1',
          },
        ],
      }),
    );
    const signedByMallory = a.run(['policy', 'sign', evil, '--key', a.file('mallory.pem')], {
      COLDSIGN_PASSPHRASE: officerPassphrase('mallory'),
    });
    expect(signedByMallory.code, signedByMallory.stderr).toBe(0);
    const applied = a.run(['policy', 'apply', evil, '--json']);
    expect(applied.code, applied.stdout + applied.stderr).not.toBe(0);
    expect(errorOf(applied.stdout)).toEqual({
      code: 'POLICY_SIGNATURE_INVALID',
      message: 'The policy is signed by "mallory", who is not an enrolled officer.',
    });

    // The forged entries and their state rows are gone; one entry says what was dropped.
    expect(officers()).toEqual(['alice', 'bob']);
    expect(governance()).toEqual({ quorum: 2, officers: '["alice","bob"]' });
    const after = entriesAfter(pin.seq);
    expect(after[0]!.type).toBe('audit.discarded');
    expect(after.map((e) => e.type)).not.toContain('officer.enrolled');
    expect(after.map((e) => e.type)).not.toContain('governance.quorum');
    expect(JSON.parse(after[0]!.payload)).toEqual({
      pinnedSeq: pin.seq,
      discardedFrom: pin.seq + 1,
      discardedTo: pin.seq + 2,
      discardedHead: forgedHead,
      types: [
        { type: 'governance.quorum', count: 1 },
        { type: 'officer.enrolled', count: 1 },
      ],
    });
    expect(pinNow().open).toBe(false);
    withHomeDb(a, (db) => {
      const versions = db.prepare('SELECT version FROM policies').all() as { version: number }[];
      expect(versions.map((v) => v.version)).toEqual([1]);
    });

    // Mallory's approval does not count: with alice's it is refused; alice's and bob's sign.
    const byAlice = approve(payment, 'alice');
    expect(byAlice.result.code, byAlice.result.stderr).toBe(0);
    // Signing an approval needs nothing from the appliance; counting it does.
    const byMallory = approve(payment, 'mallory');
    expect(byMallory.result.code, byMallory.result.stderr).toBe(0);
    const withMallory = a.run([
      'sign',
      payment,
      '--out',
      a.file('large-mallory.out'),
      '--approval',
      byAlice.out,
      '--approval',
      byMallory.out,
      '--json',
    ]);
    expect(withMallory.code, withMallory.stdout + withMallory.stderr).not.toBe(0);
    expect(errorOf(withMallory.stdout)).toEqual({
      code: 'APPROVAL_INVALID',
      message: 'The approval is signed by "mallory", who is not an enrolled officer.',
    });
    expect(existsSync(a.file('large-mallory.out'))).toBe(false);
    const byBob = approve(payment, 'bob');
    expect(byBob.result.code, byBob.result.stderr).toBe(0);
    const withBob = a.run([
      'sign',
      payment,
      '--out',
      a.file('large.out'),
      '--approval',
      byAlice.out,
      '--approval',
      byBob.out,
      '--json',
    ]);
    expect(withBob.code, withBob.stdout + withBob.stderr).toBe(0);

    const verify = a.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.json<{ ok: boolean }>().ok).toBe(true);
  });

  it('forged entries appended after the signatures of a sign killed before its closing checkpoint go with them', async () => {
    // Held before the third pin write (begin, "signing.started" kept open, closing): the signatures are recorded.
    const { pin, tail: signature } = await killedPayment('small-forged', '3:before');
    expect(signature.map((e) => e.type)).toEqual(['signature']);
    const requestId = (JSON.parse(signature[0]!.payload) as { requestId: string }).requestId;

    const forgedHead = forgeMallory();
    const next = a.run(['keys', 'generate', '--chain', 'evm', '--label', 'probe', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(officers()).toEqual(['alice', 'bob']);
    expect(governance().quorum).toBe(2);
    expect(lastDiscarded()).toEqual({
      pinnedSeq: pin.seq,
      discardedFrom: pin.seq + 1,
      discardedTo: pin.seq + 3,
      discardedHead: forgedHead,
      types: [
        { type: 'governance.quorum', count: 1 },
        { type: 'officer.enrolled', count: 1 },
        { type: 'signature', count: 1 },
      ],
      signingRequestIds: [requestId],
    });
    expect(existsSync(a.file('small-forged.out'))).toBe(false);
    expect(a.run(['audit', 'verify']).code).toBe(0);
  });
});

describe('control: an honest crash in the middle of a sign', () => {
  it('killed before its announcement was pinned: audit verify says the signing was discarded after a crash, not unfinished', async () => {
    // Held before the second pin write (the checkpoint of "signing.started"): the announcement is not pinned.
    const { out, pin, tail } = await killedPayment('small-unannounced', '2:before');
    expect(tail.at(-1)!.type).toBe('signing.started');
    const requestId = (JSON.parse(tail.at(-1)!.payload) as { requestIds: string[] }).requestIds[0]!;

    const verify = a.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const report = verify.json<VerifyReport>();
    expect(report.unfinishedSignings ?? []).not.toContainEqual(
      expect.objectContaining({ requestIds: [requestId] }),
    );
    const discardEntry = entriesAfter(pin.seq)[0]!;
    expect(discardEntry.type).toBe('audit.discarded');
    expect(report.discarded).toContainEqual(
      expect.objectContaining({
        seq: discardEntry.seq,
        pinnedSeq: pin.seq,
        discardedFrom: pin.seq + 1,
        discardedTo: tail.at(-1)!.seq,
        types: expect.arrayContaining([{ type: 'signing.started', count: 1 }]) as unknown,
        signingRequestIds: [requestId],
        unfinishedSignings: [],
      }),
    );
    const text = a.run(['audit', 'verify']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `    a signing was discarded after a crash before its announcement was pinned (requests named: ${requestId}): coldsign asks the HSM to sign only once the announcement is pinned, and recorded and exported no signature`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('killed after its signatures were recorded, before the closing checkpoint: the log verifies, the signing is unfinished, the tail discarded', async () => {
    const { payment, out, pin, tail } = await killedPayment('small', '3:before');
    expect(tail.map((e) => e.type)).toEqual(['signature']);
    const requestId = (JSON.parse(tail[0]!.payload) as { requestId: string }).requestId;
    const started = entriesAfter(pin.seq - 1)[0]!;
    expect(started.type).toBe('signing.started');
    expect(existsSync(out)).toBe(false);

    // The next start-up (audit verify unlocks like every writing command) discards the unpinned signature.
    const verify = a.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const report = verify.json<VerifyReport>();
    expect(report.ok).toBe(true);
    expect(report.unfinishedSignings).toContainEqual({ seq: pin.seq, requestIds: [requestId] });
    const discarded = {
      pinnedSeq: pin.seq,
      discardedFrom: pin.seq + 1,
      discardedTo: pin.seq + 1,
      discardedHead: tail[0]!.hash,
      types: [{ type: 'signature', count: 1 }],
      signingRequestIds: [requestId],
    };
    expect(lastDiscarded()).toEqual(discarded);
    // audit verify names the discard and says the signing was discarded after a crash, its signature unrecorded.
    const discardEntry = entriesAfter(pin.seq)[0]!;
    expect(report.discarded).toContainEqual({
      seq: discardEntry.seq,
      time: discardEntry.time,
      ...discarded,
      unfinishedSignings: [{ seq: pin.seq, requestIds: [requestId] }],
    });
    const text = a.run(['audit', 'verify']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `  unfinished signing at entry ${pin.seq}: ${requestId} (discarded after a crash: the entries recorded after its announcement were dropped at entry ${discardEntry.seq}; the HSM may have signed, but coldsign recorded and exported no signature)`,
    );
    expect(text.stdout).toContain(
      `  discarded at entry ${discardEntry.seq} (${discardEntry.time}): entries ${pin.seq + 1} to ${pin.seq + 1}, left beyond the checkpoint pinned at entry ${pin.seq} by a process that stopped before its checkpoint, were dropped at start-up: 1 signature`,
    );
    expect(text.stdout).not.toContain('no signature was recorded');
    // The auditor's offline check of an export shows the same unfinished signing and discard.
    const exported = a.file('discard-export.jsonl');
    expect(a.run(['audit', 'export', '--out', exported]).code).toBe(0);
    const offline = a.run(['audit', 'verify', '--file', exported]);
    expect(offline.code, offline.stderr).toBe(0);
    const ownLines = (out: string) =>
      out.split('\n').filter((l) => /^ {2}(unfinished|discarded)|^ {4}/.test(l));
    expect(ownLines(offline.stdout)).toEqual(ownLines(text.stdout));
    expect(ownLines(offline.stdout)).toContain(
      `  unfinished signing at entry ${pin.seq}: ${requestId} (discarded after a crash: the entries recorded after its announcement were dropped at entry ${discardEntry.seq}; the HSM may have signed, but coldsign recorded and exported no signature)`,
    );
    expect(a.run(['audit', 'verify', '--file', exported, '--json']).json<VerifyReport>().discarded).toEqual(
      report.discarded,
    );
    withHomeDb(a, (db) => {
      const count = (sql: string) => (db.prepare(sql).get(requestId) as { n: number }).n;
      // Gone from the log; the write-only record table keeps its row, and velocity keeps what the pinned
      // "signing.started" announced (a signature may exist: test velocity-unfinished.test.ts).
      expect(
        count(
          "SELECT COUNT(*) AS n FROM audit_log WHERE type = 'signature' AND payload LIKE '%' || ? || '%'",
        ),
      ).toBe(0);
      expect(count('SELECT COUNT(*) AS n FROM velocity WHERE request_id = ?')).toBe(1);
      expect(count('SELECT COUNT(*) AS n FROM signatures WHERE request_id = ?')).toBe(1);
    });

    // The appliance goes on: the same request signs, and the log still verifies.
    const again = a.run(['sign', payment, '--out', out, '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(a.run(['audit', 'verify']).code).toBe(0);
  });
});

describe('control: the next unlock says what a stopped sign left', () => {
  const VERIFY_HINT = '; `coldsign audit verify` lists the unfinished work';

  it('signatures recorded, no closing checkpoint: the next command names the signing and the discard, once', async () => {
    const { payment, pin, tail } = await killedPayment('told-discard', '3:before');
    const requestId = (JSON.parse(tail[0]!.payload) as { requestId: string }).requestId;
    const next = a.run(['inspect', payment, '--json']);
    expect(next.code, next.stderr).toBe(0);
    const discardEntry = entriesAfter(pin.seq)[0]!;
    expect(discardEntry.type).toBe('audit.discarded');
    const said = `the previous session stopped during the signing announced at entry ${pin.seq} (${requestId}): the HSM may have signed, but coldsign recorded and exported no signature; start-up dropped entries ${pin.seq + 1} to ${pin.seq + 1} (1 signature), written after the last checkpoint by a process that stopped before its own, and recorded that at entry ${discardEntry.seq}${VERIFY_HINT}`;
    expect(next.stderr).toContain(`warning: ${said}`);
    // A script that reads only --json sees it too.
    expect(next.json<{ audit: { warning?: string } }>().audit.warning).toContain(said);
    // Said by the start-up that found it, not again.
    const after = a.run(['inspect', payment, '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).not.toContain('previous session stopped');
    expect(after.json<{ audit: { warning?: string } }>().audit.warning ?? '').not.toContain(
      'previous session stopped',
    );
  });

  it('announcement pinned, nothing recorded after it: the next unlock names the signing; nothing was dropped', async () => {
    const { payment, pin, tail } = await killedPayment('told-open', '2:after');
    expect(tail).toEqual([]);
    const started = entriesAfter(pin.seq - 1)[0]!;
    expect(started.type).toBe('signing.started');
    const requestId = (JSON.parse(started.payload) as { requestIds: string[] }).requestIds[0]!;
    // The app's unlock (the appliance session its IPC calls): the same words, and again after a reload.
    const session = new ApplianceSession(home());
    try {
      const { auditWarning } = await session.unlock(a.cli.env.COLDSIGN_PIN!);
      const said = `the previous session stopped during the signing announced at entry ${pin.seq} (${requestId}): the HSM may have signed; no signature was recorded${VERIFY_HINT}`;
      expect(auditWarning).toContain(said);
      expect(auditWarning).not.toContain('start-up dropped');
      expect((await session.unlockStatus()).auditWarning).toContain(said);
      // A verification of the log, which lists the unfinished signing itself, answers it.
      expect((await session.auditVerify()).ok).toBe(true);
      expect((await session.unlockStatus()).auditWarning ?? '').not.toContain('previous session stopped');
    } finally {
      await session.close();
    }
    expect(a.run(['inspect', payment]).stderr).not.toContain('previous session stopped');
  });
});

describe('a crash inside the discard itself', () => {
  it('killed between the discard and its checkpoint: the next start-up discards the "audit.discarded" entry too and keeps what it recorded', async () => {
    const { pin, tail } = await killedPayment('small-twice', '3:before');
    expect(tail.map((e) => e.type)).toEqual(['signature']);
    const requestId = (JSON.parse(tail[0]!.payload) as { requestId: string }).requestId;

    // The next start-up discards the signature and is killed before the pin write of the checkpoint over it.
    const again = await killWhenHeld(a, ['audit', 'verify', '--json'], '1:before');
    expect(again).toEqual({ signal: 'SIGKILL', held: true });
    expect(pinNow()).toMatchObject({ seq: pin.seq, open: true });
    const firstDiscard = entriesAfter(pin.seq);
    expect(firstDiscard.map((e) => e.type)).toEqual(['audit.discarded']);
    const first = {
      pinnedSeq: pin.seq,
      discardedFrom: pin.seq + 1,
      discardedTo: pin.seq + 1,
      discardedHead: tail[0]!.hash,
      types: [{ type: 'signature', count: 1 }],
      signingRequestIds: [requestId],
    };
    expect(JSON.parse(firstDiscard[0]!.payload)).toEqual(first);

    // The start-up after that discards the first discard's entry and carries its detail forward.
    const verify = a.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(pinNow()).toMatchObject({ open: false });
    const secondDiscard = entriesAfter(pin.seq)[0]!;
    const second = {
      pinnedSeq: pin.seq,
      discardedFrom: pin.seq + 1,
      discardedTo: pin.seq + 1,
      discardedHead: firstDiscard[0]!.hash,
      types: [{ type: 'audit.discarded', count: 1 }],
      earlierDiscards: [first],
    };
    expect(lastDiscarded()).toEqual(second);
    const report = verify.json<VerifyReport>();
    expect(report.discarded).toContainEqual({
      seq: secondDiscard.seq,
      time: secondDiscard.time,
      ...second,
      unfinishedSignings: [{ seq: pin.seq, requestIds: [requestId] }],
    });
    const text = a.run(['audit', 'verify']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `  unfinished signing at entry ${pin.seq}: ${requestId} (discarded after a crash: the entries recorded after its announcement were dropped at entry ${secondDiscard.seq};`,
    );
    expect(text.stdout).toContain(
      `    carried forward from an earlier discard, whose own entry was dropped with this tail (the process stopped again before the discard was checkpointed): entries ${pin.seq + 1} to ${pin.seq + 1}, beyond the checkpoint pinned at entry ${pin.seq}: 1 signature`,
    );
  });
});
