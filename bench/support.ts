/**
 * Benchmark helpers: timing, medians, writing a section of docs/BENCHMARKS.md (docs/bench/<name>.md), and the
 * request sets several benchmarks share.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFunctionData, parseAbi, serializeTransaction } from 'viem';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Median of `runs` timings of fn (ms). */
export async function medianOf(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeIt(fn));
  return percentile(times, 50);
}

/** Runs `fn` over `items` with `width` calls in flight. */
export async function inFlight<T>(
  items: T[],
  width: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Writes docs/bench/<name>.md with a header naming the run's machine and date. */
export function writeSection(name: string, title: string, body: string): void {
  const file = join(ROOT, 'docs', 'bench', `${name}.md`);
  mkdirSync(dirname(file), { recursive: true });
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  // bench/thread-pool.ts: the pool the coldsign launcher chooses (Node's default is 4)
  const pool = process.env.UV_THREADPOOL_SIZE ?? '4';
  const machine = `${cpus().length} cores, Node ${process.version}, libuv thread pool of ${pool}`;
  writeFileSync(
    file,
    `## ${title}\n\n_Measured ${when} UTC on ${machine}; \`npx tsx bench/${name}.bench.ts\`._\n\n${body.trim()}\n`,
  );
  process.stdout.write(`wrote docs/bench/${name}.md\n`);
}

/** USDC on Ethereum mainnet: the token contract of the ERC-20 transfers below. */
export const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const erc20 = parseAbi(['function transfer(address to, uint256 amount)']);

/**
 * `n` unsigned EIP-1559 ERC-20 transfers on chain 1 (USDC.transfer to a random recipient each, distinct amounts,
 * nonces and fee caps), serialized by viem as 0x hex: the request set of the EVM benchmarks.
 */
export function erc20Transfers(n: number): `0x${string}`[] {
  return Array.from({ length: n }, (_, i) =>
    serializeTransaction({
      type: 'eip1559',
      chainId: 1,
      nonce: i,
      to: USDC,
      gas: 65_000n,
      maxFeePerGas: 30_000_000_000n + BigInt(i),
      maxPriorityFeePerGas: 1_000_000_000n,
      data: encodeFunctionData({
        abi: erc20,
        functionName: 'transfer',
        args: [`0x${Buffer.from(randomBytes(20)).toString('hex')}`, BigInt(1 + i) * 1_000_000n],
      }),
    }),
  );
}
