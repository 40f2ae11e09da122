#!/usr/bin/env bash
# The built-in lab with its own set-up: Node if needed, the npm dependencies and the build, then
# `bgp-announce lab` (which installs the Debian packages of the chosen router itself, saying so).
# Run as root. Usage: bash scripts/lab.sh [--peer gobgp|frr|bird] [--nodes N] [--bfd] [--hold] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib/node.sh
. scripts/lib/node.sh
ensure_node || exit 2
# The addon's build needs a compiler and python3; the lab needs ip(8).
need_debs=()
command -v ip >/dev/null || need_debs+=(iproute2)
{ command -v g++ && command -v make; } >/dev/null || need_debs+=(build-essential)
command -v python3 >/dev/null || need_debs+=(python3)
if [ ${#need_debs[@]} -gt 0 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "scripts/lab.sh: installing Debian packages: ${need_debs[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_debs[@]}" >/dev/null
fi
# shellcheck source=lib/build.sh
. scripts/lib/build.sh
ensure_build scripts/lab.sh >&2
exec node packages/cli/bin/bgp-announce.js lab "$@"
