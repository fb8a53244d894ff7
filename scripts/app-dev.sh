#!/usr/bin/env bash
# Serves the desktop app's renderer to a browser against a local test host (real appliance: HSM, SQLite), for
# development. Makes a throwaway home with the embedded SoftHSM2 token; a COLDSIGN_HOME that is set is opened only
# with COLDSIGN_DEV_REAL_HOME=1 (the browser has none of the Electron hardening).
# The PIN of a throwaway home comes from COLDSIGN_PIN (default 123456); it is never passed on a command line.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/app-build.mjs
if [ -z "${COLDSIGN_HOME:-}" ]; then
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  COLDSIGN_HOME="$scratch/home"
  export COLDSIGN_HOME
  export COLDSIGN_DEV_THROWAWAY_HOME="$COLDSIGN_HOME"
  export COLDSIGN_PIN="${COLDSIGN_PIN:-123456}"
  node bin/coldsign init >/dev/null
  echo "Throwaway home ${COLDSIGN_HOME} (embedded SoftHSM2 token; PIN from COLDSIGN_PIN)."
fi
npx tsx app/test-host/main.ts
