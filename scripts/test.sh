#!/usr/bin/env bash
# The one entry to every check: installs what is missing, then types, lint (with the layering
# boundaries), every vitest suite (unit, SoftHSM2, SQLite, CLI end to end, headless Chromium UI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

echo "==> Type-checking"
npx tsc -p tsconfig.json --noEmit
echo "==> Type-checking the Electron main and preload against the electron package's types"
npx tsc -p app/tsconfig.json --noEmit
echo "==> Linting (typescript-eslint and layer boundaries) and formatting (prettier)"
npx eslint .
npx prettier --check . --log-level warn
echo "==> Electronegativity over app/ (fails on any finding of medium severity or above)"
node scripts/app-electronegativity.mjs
echo "==> Tests"
mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-report.json || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/vitest-report.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} not run` : "") + (r.success ? "" : "; the run FAILED (a failed test or an error outside tests, e.g. a crashed test process: see above)"));
' || true
exit $status
