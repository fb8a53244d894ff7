#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, then acts out a day in the secure room
# with a SoftHSM2 token and SQLite database inside COLDSIGN_HOME (default: ./demo-home/home; the requests
# and signed outputs go beside it, in COLDSIGN_HOME-files).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh runtime
export COLDSIGN_HOME="${COLDSIGN_HOME:-$PWD/demo-home/home}"
exec npx tsx scripts/demo/main.ts
