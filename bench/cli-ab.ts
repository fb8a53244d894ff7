/**
 * Interleaved before/after pairs of whole `coldsign` processes: each round runs every case once with every
 * launcher, in an order that rotates by round, so machine load falls on all builds alike. Prints the median
 * and the minimum of wall time and of process CPU (user + system, children included) per case and launcher.
 *   npx tsx bench/cli-ab.ts before=/path/to/copy/bin/coldsign after=bin/coldsign
 *   npx tsx bench/cli-ab.ts plain=bin/coldsign 'flagged=--min-semi-space-size=16 bin/coldsign'
 * A launcher is a copy of bin/coldsign with its dist/bundle/ beside it (and node_modules reachable from it), optionally
 * preceded by Node options (space-separated) to run it with.
 * AB_ROUNDS (default 10) sets the rounds, AB_CASES (default help,sign1,sign500) the cases; with AB_PROFILE=DIR every
 * process also writes a V8 CPU profile to DIR/<case>/<build>/ for bench/cli-profile.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeBenchHome } from './cli-home.js';
import { percentile } from './support.js';

const launchers = process.argv.slice(2).map((arg) => {
  const [name, ...rest] = arg.split('=');
  const words = rest.join('=').split(' ').filter(Boolean);
  const path = words.pop();
  if (!name || !path) throw new Error(`expected NAME=[NODE_OPTION ...] LAUNCHER, got ${arg}`);
  return { name, path: resolve(path), nodeOptions: words };
});
if (launchers.length === 0) {
  console.error('usage: npx tsx bench/cli-ab.ts NAME=LAUNCHER [NAME=LAUNCHER ...]');
  process.exit(2);
}
type Launcher = (typeof launchers)[number];
const ROUNDS = Number(process.env.AB_ROUNDS ?? 10);
const CASES = (process.env.AB_CASES ?? 'help,sign1,sign500').split(',');

// One home per launcher, made by it: builds whose database schemas differ are compared on the same work.
const benches = new Map(launchers.map((l) => [l, makeBenchHome(l.path)]));
const timeFile = join(mkdtempSync(join(tmpdir(), 'coldsign-ab-')), 'time');
function argsOf(name: string, bench: ReturnType<typeof makeBenchHome>): string[] {
  const cases: Record<string, string[]> = {
    help: ['--help'],
    sign1: ['sign', bench.psbt1, '--out', join(bench.dir, 'one.out'), '--force'],
    sign500: ['sign', bench.psbt500, '--out', join(bench.dir, '500.out'), '--force'],
    evm: ['sign', bench.evmTx, '--out', join(bench.dir, 'evm.out'), '--force'],
  };
  return cases[name]!;
}

/** One process: wall ms measured here, CPU ms from /usr/bin/time (user + system). */
function measure(launcher: Launcher, args: string[], profileDir?: string): { wall: number; cpu: number } {
  const start = performance.now();
  const result = spawnSync(
    '/usr/bin/time',
    [
      ...['-f', '%U %S', '-o', timeFile, process.execPath],
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...launcher.nodeOptions,
      launcher.path,
      ...args,
    ],
    { env: benches.get(launcher)!.env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  const wall = performance.now() - start;
  if (result.status !== 0)
    throw new Error(`${launcher.path} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const [user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: (user! + system!) * 1000 };
}

const loadStart = loadavg()[0]!;
const samples = new Map<string, { wall: number[]; cpu: number[] }>();
for (let round = 0; round < ROUNDS; round++)
  for (const name of CASES)
    for (let i = 0; i < launchers.length; i++) {
      const launcher = launchers[(i + round) % launchers.length]!;
      const key = `${name}\t${launcher.name}`;
      const entry = samples.get(key) ?? { wall: [], cpu: [] };
      const profileDir = process.env.AB_PROFILE && join(process.env.AB_PROFILE, name, launcher.name);
      const { wall, cpu } = measure(launcher, argsOf(name, benches.get(launcher)!), profileDir);
      entry.wall.push(wall);
      entry.cpu.push(cpu);
      samples.set(key, entry);
    }
for (const bench of benches.values()) rmSync(bench.dir, { recursive: true, force: true });

console.log(`${ROUNDS} rounds, load ${loadStart.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} (1 min)`);
console.log('case\tbuild\twall median\twall min\tCPU median\tCPU min (ms)');
for (const [key, { wall, cpu }] of samples)
  console.log(
    `${key}\t${percentile(wall, 50).toFixed(0)}\t${Math.min(...wall).toFixed(0)}\t${percentile(cpu, 50).toFixed(0)}\t${Math.min(...cpu).toFixed(0)}`,
  );
