// Assembles docs/BENCHMARKS.md from the sections that each benchmark writes to docs/bench/<name>.md.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const order = ['hsm', 'btc', 'evm', 'evm-codec', 'qr', 'store', 'cli', 'app'];
const files = readdirSync('docs/bench').filter((f) => f.endsWith('.md'));
files.sort(
  (a, b) => ((order.indexOf(a.slice(0, -3)) + 100) % 100) - ((order.indexOf(b.slice(0, -3)) + 100) % 100),
);
const intro = `# Benchmarks

Every figure is measured against a baseline taken in the same run (this machine is shared and noisy), so the
ratios are what to compare. Re-run all with \`npm run bench\` (or \`bash scripts/bench.sh NAME\` for one);
each benchmark rewrites its section in docs/bench/ and this file is assembled from them.
`;
const sections = files.map((f) => readFileSync(`docs/bench/${f}`, 'utf8').trim());
writeFileSync('docs/BENCHMARKS.md', `${intro}\n${sections.join('\n\n')}\n`);
console.log(`docs/BENCHMARKS.md assembled from ${files.length} sections`);
