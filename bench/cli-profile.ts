/**
 * Where the main-thread time of whole `coldsign` processes goes, from V8 CPU profiles: each sample's self time
 * is put in one category (module loading, GC, native addons, PKCS#11, SQLite, fsync, zod, …) and the categories
 * are averaged over the profiles in a folder. The table of docs/bench/cli.md ("Where the time of a 1-input sign
 * goes") comes from it:
 *   for i in 1 2 3 4 5 6; do node --cpu-prof --cpu-prof-dir=PROFILES bin/coldsign sign one.psbt --out o --force; done
 *   npx tsx bench/cli-profile.ts PROFILES dist/bundle
 * Bundle code is named by the package its source map points into (zod, bitcoinjs, ethers, …): per position in the
 * one-script bundle (main.cjs), per chunk in the ES module chunks of earlier builds.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [dir, bundle] = process.argv.slice(2);
if (!dir || !bundle) {
  console.error('usage: npx tsx bench/cli-profile.ts PROFILE_DIR BUNDLE_DIR');
  process.exit(2);
}

const PACKAGES: Array<[RegExp, string]> = [
  [/zod\/v4/, 'bundle: zod'],
  [/ethers\/src/, 'bundle: ethers'],
  [/hash-wasm/, 'bundle: hash-wasm (EVM keccak)'],
  [/bitcoinjs-lib|bip174/, 'bundle: bitcoinjs-lib'],
];
const OWN = 'bundle: coldsign and other libraries';
const kindOfSources = (sources: string) => PACKAGES.find(([pattern]) => pattern.test(sources))?.[1] ?? OWN;

/** ES module chunks of earlier builds: a chunk is named by the package most of its source map points into. */
const chunkKinds = new Map<string, string>();
function chunkKind(chunk: string): string {
  let kind = chunkKinds.get(chunk);
  if (kind) return kind;
  const map = join(bundle!, `${chunk}.map`);
  kind = existsSync(map)
    ? kindOfSources((JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources.join(' '))
    : OWN;
  chunkKinds.set(chunk, kind);
  return kind;
}

/** The one-script bundle (main.cjs): a frame is named by the source its position maps to. */
let scriptMap: SourceMap | null | undefined;
function scriptKind({ lineNumber, columnNumber }: ProfileNode['callFrame']): string {
  if (scriptMap === undefined) {
    const map = join(bundle!, 'main.cjs.map');
    scriptMap = existsSync(map)
      ? new SourceMap(JSON.parse(readFileSync(map, 'utf8')) as SourceMapPayload)
      : null;
  }
  const entry = scriptMap?.findEntry(lineNumber, columnNumber) as { originalSource?: string } | undefined;
  return entry?.originalSource ? kindOfSources(entry.originalSource) : OWN;
}

function bundleKind(frame: ProfileNode['callFrame']): string | undefined {
  const file = /dist\/bundle\/([^/]+\.c?js)$/.exec(frame.url)?.[1];
  if (!file) return undefined;
  return file === 'main.cjs' ? scriptKind(frame) : chunkKind(file);
}

/** The category of a frame by what it is; a frame without one (a native call, a built-in) takes its caller's. */
function ownCategory(frame: ProfileNode['callFrame']): string | undefined {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting for HSM threads and I/O)';
  if (fn === '(program)') return 'V8/Node internals';
  if (/secp256k1\//.test(url)) return 'secp256k1 addon load';
  if (/better-sqlite3|\/bindings\/|file-uri-to-path/.test(url))
    return 'SQLite (load, statements, commits, close)';
  if (/pkcs11js/.test(url)) return 'PKCS#11 calls on the main thread (login, find, pin writes)';
  if (fn === 'fsyncSync') return 'fsync (anchor record file, output file)';
  if (fn === 'compileSourceTextModule') return 'ES module parse and compile';
  if (url.startsWith('node:internal/modules/esm')) return 'ES module loader (resolve, read, link, evaluate)';
  if (url.startsWith('node:internal/modules/cjs')) return 'CommonJS require (native packages)';
  if (url === 'node:vm' || /bin\/load-bundle\.cjs$/.test(url))
    return 'script compile from the code cache (bin/load-bundle.cjs)';
  return bundleKind(frame);
}

const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
const totals = new Map<string, number>();
let wall = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categories = new Map<number, string>();
  const categorize = (id: number): string => {
    const known = categories.get(id);
    if (known) return known;
    let category = ownCategory(byId.get(id)!.callFrame);
    if (!category) {
      const up = parent.get(id);
      const inherited = up === undefined ? 'other' : categorize(up);
      category = inherited === 'GC' || inherited.startsWith('idle') ? 'other' : inherited;
    }
    categories.set(id, category);
    return category;
  };
  wall += (profile.endTime - profile.startTime) / 1000 / files.length;
  profile.samples.forEach((id, i) => {
    const category = categorize(id);
    totals.set(category, (totals.get(category) ?? 0) + profile.timeDeltas[i]! / 1000 / files.length);
  });
}
console.log(`${files.length} profiles, ${wall.toFixed(0)} ms of profile each on average (ms per process):`);
for (const [category, ms] of [...totals].sort((a, b) => b[1] - a[1]))
  console.log(`${ms.toFixed(1).padStart(8)}  ${category}`);
