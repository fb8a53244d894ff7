#!/usr/bin/env bash
# Builds the desktop app and launches it in Electron when the Electron binary is present. The binary is not
# downloaded by `npm ci` here (package.json allowScripts: electron false); install it where the app is to run.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/app-build.mjs
if ! electron_bin="$(node -e "process.stdout.write(require('electron'))" 2>/dev/null)" || [ ! -x "$electron_bin" ]; then
  echo "The Electron binary is absent (node_modules/electron has no dist/): the app was built into app/dist and" >&2
  echo "app/renderer/dist but cannot be launched here. Use scripts/app-dev.sh to run the screens in a browser." >&2
  exit 3
fi
exec "$electron_bin" app/dist/main.mjs "$@"
