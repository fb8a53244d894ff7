/**
 * The audit anchor's cost per unit of work (an entry logged and checkpointed, then the head checked against
 * the HSM as before every signature), on a real SoftHSM2 token and a real SQLite file: the current
 * store/audit-hsm.ts against the previous one (two atomic writes of the record file per pin write and an
 * HMAC in the HSM at every head check), loaded from git in the same run. Rounds alternate which goes first,
 * so machine load hits both alike; the figure to read is the ratio. Writes docs/bench/anchor.md.
 *   npx tsx bench/anchor.bench.ts          (BENCH_OPS per round, BENCH_ROUNDS rounds)
 */
import './thread-pool.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hsm } from '../hsm/index.js';
import { findSoftHsmModule, initSoftHsmToken, useSoftHsmHome } from '../hsm/softhsm.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { openDatabase } from '../store/database.js';
import * as current from '../store/audit-hsm.js';
import type { Auditor } from '../store/audit.js';
import { fmt, percentile, ROOT, writeSection } from './support.js';

/** The commit whose store/audit-hsm.ts is the baseline (before the merged record write and the MAC cache). */
const BASELINE_COMMIT = '7f93b38';
const OPS = Number(process.env.BENCH_OPS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const PIN = '246810';

type OpenAuditor = typeof current.openHsmAuditor;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coldsign-bench-anchor-'));
  const baselineFile = join(ROOT, 'store', `.audit-hsm-baseline-${process.pid}.ts`);
  writeFileSync(
    baselineFile,
    execFileSync('git', ['show', `${BASELINE_COMMIT}:store/audit-hsm.ts`], { cwd: ROOT, encoding: 'utf8' }),
  );
  try {
    const baseline = (await import(baselineFile)) as typeof current;
    useSoftHsmHome(dir);
    const module = findSoftHsmModule();
    initSoftHsmToken(module, 'bench-anchor', '13579135', PIN);
    const hsm = Hsm.open({ module, token: 'bench-anchor' }, PIN);
    try {
      const open = async (name: string, openAuditor: OpenAuditor): Promise<Auditor> => {
        const db = openDatabase(join(dir, `${name}.db`));
        return openAuditor(db, hsm, new Date(), { create: true, pinLabel: `bench-${name}` });
      };
      const variants = {
        before: await open('before', baseline.openHsmAuditor),
        after: await open('after', current.openHsmAuditor),
      };
      const times: Record<keyof typeof variants, number[]> = { before: [], after: [] };
      let n = 0;
      const unit = async (auditor: Auditor): Promise<number> => {
        const start = performance.now();
        await auditor.log('bench.entry', { n: (n += 1) }, new Date());
        await auditor.assertHeadMatchesToken();
        return performance.now() - start;
      };
      for (let round = 0; round < ROUNDS; round += 1) {
        const order = round % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
        for (const name of order)
          for (let i = 0; i < OPS; i += 1) times[name].push(await unit(variants[name]));
      }
      // Where a unit's time goes: the HSM calls and one atomic record write, each timed alone.
      const parts = await componentTimes(hsm, dir);
      const before = percentile(times.before, 50);
      const after = percentile(times.after, 50);
      const line = `anchor: before-ms=${fmt(before, 1)} after-ms=${fmt(after, 1)} ratio=${fmt(before / after)} ops=${OPS * ROUNDS} generate-ms=${fmt(parts.generate, 1)} record-write-ms=${fmt(parts.write, 1)}`;
      process.stdout.write(`${line}\n`);
      writeSection(
        'anchor',
        'Audit anchor: cost per logged entry with checkpoint and head check',
        `
One unit of work = \`Auditor.log\` (open pin write, entry, checkpoint, pin write) + \`assertHeadMatchesToken\`
(the check before every signature), on a SoftHSM2 token and a SQLite file in a temporary directory.
"before" is store/audit-hsm.ts of commit ${BASELINE_COMMIT} (two atomic record-file writes per pin write, an HMAC
in the HSM at every head check), loaded from git in the same process; "after" is the current module (one atomic
write per pin write; no HMAC for the anchor this process wrote or verified). ${ROUNDS} rounds of ${OPS} units each,
alternating which variant goes first; medians. Load average (1 min) when written: ${fmt(loadavg()[0]!, 1)}.

| variant | median ms per unit | p90 ms |
| ------- | ------------------ | ------ |
| before  | ${fmt(before, 1)} | ${fmt(percentile(times.before, 90), 1)} |
| after   | ${fmt(after, 1)} | ${fmt(percentile(times.after, 90), 1)} |

Ratio before / after: **${fmt(before / after)}×**.

The parts of a pin write, each timed alone (median of ${PART_RUNS}): \`C_GenerateKey\` of an anchor key
${fmt(parts.generate, 1)} ms, HMAC in the HSM ${fmt(parts.hmac, 1)} ms, \`C_DestroyObject\` ${fmt(parts.destroy, 1)} ms,
one atomic write of the record file (file and directory fsync) ${fmt(parts.write, 1)} ms. A unit makes two pin
writes (the open pin before the entries, the checkpoint after them), so two key generations; the change removes
two atomic writes and one HMAC per unit, and what stays is dominated by the key generations on SoftHSM2.

\`${line}\`
`,
      );
    } finally {
      hsm.close();
    }
  } finally {
    rmSync(baselineFile, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

const PART_RUNS = 10;

async function componentTimes(hsm: Hsm, dir: string) {
  const median = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < PART_RUNS; i += 1) {
      const start = performance.now();
      await fn();
      times.push(performance.now() - start);
    }
    return percentile(times, 50);
  };
  const keys: Awaited<ReturnType<typeof hsm.anchors.generate>>[] = [];
  let i = 0;
  const generate = await median(async () =>
    keys.push(await hsm.anchors.generate('bench-parts', Uint8Array.from([0xbe, 0x0c, (i += 1)]))),
  );
  const hmac = await median(() => hsm.anchors.hmac(keys[0]!, new Uint8Array(300)));
  const destroy = await median(() => hsm.anchors.destroy(keys.pop()!));
  const write = await median(() => writeFileAtomic(join(dir, 'parts.json'), 'x'.repeat(600)));
  return { generate, hmac, destroy, write };
}

await main();
