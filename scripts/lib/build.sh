# Sourced by scripts/test.sh and scripts/lab.sh: the npm dependencies when missing or stale, the native
# addon, and the TypeScript build. Expects to run from the repository root with Node on the PATH.
ensure_build() {
  local who="$1"
  # npm ci when node_modules is absent or older than the lock file.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "$who: installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund
  fi
  # npm ci builds the addon (its install script); build it here too if it is missing or stale. A failed
  # build only warns: what needs it then says how to build it.
  node packages/sockopt/scripts/build-addon.mjs --if-missing --optional
  npx tsc -b
}
