#!/usr/bin/env bash
# The whole test suite, with its own set-up: Node if needed, the Debian packages of the real test peers,
# the npm dependencies when they are missing or stale; then builds every package and runs every test. Usage: bash scripts/test.sh [tap arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib/node.sh
. scripts/lib/node.sh
ensure_node || exit 2

# Debian packages the interop tests need (real peers in network namespaces). Installed when missing
# and we are root; otherwise those tests say what is missing.
need_debs=()
command -v gobgpd >/dev/null || need_debs+=(gobgpd)
{ command -v vtysh >/dev/null && [ -x /usr/lib/frr/bgpd ]; } || need_debs+=(frr)
command -v bird >/dev/null || need_debs+=(bird2)
command -v ip >/dev/null || need_debs+=(iproute2)
# promtool (Prometheus 2.42) checks and unit-tests deploy/monitoring (test/monitoring.test.ts). The
# package also installs a prometheus service: stop it if the install started one (nothing here uses it).
command -v promtool >/dev/null || need_debs+=(prometheus)
# The native socket addon (packages/sockopt: TCP MD5, GTSM) is built from source by node-gyp.
{ command -v g++ && command -v make; } >/dev/null || need_debs+=(build-essential)
command -v python3 >/dev/null || need_debs+=(python3)
# A self-signed certificate for the HTTPS health check test (packages/announcer/test/health-probe.test.ts).
command -v openssl >/dev/null || need_debs+=(openssl)
if [ ${#need_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: installing Debian packages: ${need_debs[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_debs[@]}" >/dev/null
    if [[ " ${need_debs[*]} " == *" prometheus "* ]]; then
      { command -v systemctl >/dev/null && systemctl disable --now prometheus >/dev/null 2>&1; } || true
      { [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus stop >/dev/null 2>&1; } || true
    fi
  else
    echo "scripts/test.sh: missing Debian packages (${need_debs[*]}); the interop tests need them and root" >&2
  fi
fi

# shellcheck source=lib/build.sh
. scripts/lib/build.sh
ensure_build scripts/test.sh
# tap only transpiles test files; type-check them too (against the built packages).
npx tsc -p tsconfig.typecheck.json
# With arguments: just those tests.
if [ $# -gt 0 ]; then exec npx tap "$@"; fi
# Files whose point is a timing property (BFD detection against FRR, the BFD worker carrying on while
# the main thread is blocked, detection after a link cut) run after the rest, one at a time, so no
# other test file shares the cores with them. Everything else runs first, two files at a time.
timing=(test/interop/bfd-failover.test.ts packages/bfd/test/engine-timing.test.ts packages/bfd/test/engine-netns.test.ts)
status=0
npx tap "${timing[@]/#/--exclude=}" || status=1
npx tap --jobs=1 "${timing[@]}" || status=1
exit $status
