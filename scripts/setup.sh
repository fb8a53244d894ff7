#!/usr/bin/env bash
# Installs what coldsign needs and is missing: Debian packages (softhsm2; chromium, zbar-tools and, for the
# Electrum interop test, python3-electrum for the test suite) and the npm dependencies (npm ci, which also
# builds dist/ through `prepare`).
# Usage: scripts/setup.sh [runtime|test]
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${1:-runtime}"
packages=(softhsm2)
if [ "$profile" = test ]; then packages+=(chromium zbar-tools python3-electrum); fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> Installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "coldsign setup: these Debian packages are missing and I am not root: ${missing[*]}" >&2
      echo "Install them with: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  else SUDO=""; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "==> Debian packages present: ${packages[*]}"
fi

# The Electron binary is not needed to build or test (and cannot be downloaded on the build machines).
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
stamp=node_modules/.coldsign-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "==> Installing npm dependencies (npm ci) and building"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
else
  echo "==> npm dependencies up to date; building"
  npm run --silent build
fi
