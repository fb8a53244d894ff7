#!/usr/bin/env bash
# Runs every benchmark (apart from the tests) and assembles docs/BENCHMARKS.md from docs/bench/*.md.
# Usage: scripts/bench.sh [name ...]   (names of bench/<name>.bench.ts; default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in bench/*.bench.ts; do names+=("$(basename "$f" .bench.ts)"); done
fi
for name in "${names[@]}"; do
  echo "==> bench/$name.bench.ts"
  npx tsx "bench/$name.bench.ts"
done
node scripts/assemble-benchmarks.mjs
