#!/usr/bin/env bash
# The one entry to every check: installs what is missing, then types, lint (with the layering
# boundaries), every vitest suite (unit, SoftHSM2, SQLite, CLI end to end, headless Chromium UI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

echo "==> Type-checking"
npx tsc -p tsconfig.json --noEmit
echo "==> Linting (typescript-eslint and layer boundaries)"
npx eslint .
echo "==> Tests"
npx vitest run
