#!/usr/bin/env bash
# The whole test suite, with its own set-up: installs the npm dependencies when they are missing or
# stale, builds every package, runs every test. Usage: bash scripts/test.sh [tap arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "scripts/test.sh: node and npm are needed (Node 20 or newer)" >&2
  exit 2
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "scripts/test.sh: Node $(node --version) is too old, 20 or newer is needed" >&2
  exit 2
fi

# npm ci when node_modules is absent or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "scripts/test.sh: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

npx tsc -b
exec npx tap "$@"
