#!/usr/bin/env bash
# The whole test suite, with its own set-up: installs the npm dependencies when they are missing or
# stale, builds every package, runs every test. Usage: bash scripts/test.sh [tap arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib/node.sh
. scripts/lib/node.sh
ensure_node || exit 2

# npm ci when node_modules is absent or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "scripts/test.sh: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

npx tsc -b
# tap only transpiles test files; type-check them too (against the built packages).
npx tsc -p tsconfig.typecheck.json
exec npx tap "$@"
