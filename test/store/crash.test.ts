/**
 * Crash safety: a child process signing in a loop (crash-signer.ts, real SoftHSM token and SQLite
 * file) is killed with SIGKILL at random moments, over 100 times. Afterwards the log verifies and
 * every output file on disk has its signature and digest in the log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../core/bytes.js';
import { Auditor, auditPublicKeyOf, verifyAudit } from '../../store/audit.js';
import { hsmAuditPorts } from '../../store/audit-hsm.js';
import { openDatabase } from '../../store/database.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';

const KILLS = 110;
const here = dirname(fileURLToPath(import.meta.url));

let token: TestToken;
let dir: string;
let key: { keyId: string; publicKey: string };

beforeAll(async () => {
  token = createTestToken('coldsign-crash');
  dir = mkdtempSync(join(tmpdir(), 'coldsign-crash-'));
  mkdirSync(join(dir, 'out'));
  const hsm = token.open();
  try {
    const generated = await hsm.keys.generate('crash-key');
    key = { keyId: generated.keyId, publicKey: toHex(generated.publicKey) };
    const db = openDatabase(join(dir, 'coldsign.db'));
    const auditor = await Auditor.open(db, await hsmAuditPorts(hsm, { db, create: true }), new Date());
    await auditor.log('init', { purpose: 'crash test' }, new Date());
    await auditor.checkpoint(new Date());
    db.close();
  } finally {
    hsm.close();
  }
});
afterAll(() => {
  if (process.env.KEEP_CRASH_DIR) {
    console.log('kept', dir, token.home);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  token.cleanup();
});

/** Runs the signer until a random moment (before or after it is ready), then SIGKILLs it. */
function runAndKill(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(here, 'crash-signer.ts'),
        join(dir, 'coldsign.db'),
        join(dir, 'out'),
        key.keyId,
        key.publicKey,
      ],
      {
        env: { ...process.env, COLDSIGN_PIN: token.pin, COLDSIGN_TOKEN: token.token },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = (ms: number) => {
      timer = setTimeout(() => child.kill('SIGKILL'), ms);
    };
    // one run in eight dies during start-up (audit recovery), the others while signing; never
    // before the HSM login is done (see crash-signer.ts)
    const early = Math.random() < 0.125;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (timer !== undefined) return;
      if (early && output.includes('logged-in')) kill(Math.random() * 60);
      else if (output.includes('ready')) kill(Math.random() * 250);
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the signer exited by itself (code ${code}): ${stderr.slice(0, 2000)}`));
    });
  });
}

describe('crash safety under SIGKILL', () => {
  it(`after ${KILLS} kills at random moments the log verifies and every output is in the log`, async () => {
    for (let i = 0; i < KILLS; i += 1) await runAndKill();

    const hsm = token.open();
    try {
      const db = openDatabase(join(dir, 'coldsign.db'));
      await Auditor.open(db, await hsmAuditPorts(hsm, { db }), new Date());
      const result = verifyAudit(db, auditPublicKeyOf(db)!);
      expect(result).toMatchObject({ ok: true });

      const logged = new Map<string, { digest: string; signature: string }>();
      for (const row of db.sqlite.prepare("SELECT payload FROM audit_log WHERE type = 'signature'").all() as {
        payload: string;
      }[]) {
        const entry = JSON.parse(row.payload) as {
          output: { path: string; digest: string };
          signatures: { signature: string }[];
        };
        logged.set(entry.output.path, {
          digest: entry.output.digest,
          signature: entry.signatures[0]!.signature,
        });
      }
      const outputs = readdirSync(join(dir, 'out')).filter((name) => name.endsWith('.json'));
      for (const name of outputs) {
        const text = readFileSync(join(dir, 'out', name), 'utf8');
        const inLog = logged.get(name);
        expect(inLog, `output ${name} has no signature in the log`).toBeDefined();
        expect(createHash('sha256').update(text).digest('hex')).toBe(inLog!.digest);
        const { requestId, signature } = JSON.parse(text) as { requestId: string; signature: string };
        expect(signature).toBe(inLog!.signature);
        const digest = createHash('sha256').update(requestId).digest();
        expect(
          secp256k1.verify(fromHex(signature), digest, fromHex(key.publicKey), {
            prehash: false,
            format: 'der',
          }),
        ).toBe(true);
      }
      // the loop did sign, and crashes did leave entries beyond the pin that were recovered
      expect(outputs.length).toBeGreaterThan(KILLS);
      const recovered = db.sqlite
        .prepare("SELECT COUNT(*) AS n FROM audit_log WHERE type = 'audit.recovered'")
        .get() as { n: number };
      expect(recovered.n).toBeGreaterThan(0);
      db.close();
    } finally {
      hsm.close();
    }
  }, 240_000);
});
