// The network of the BFD benchmarks (bench/bfd.js): namespace `a` (our engine) and namespace `b`
// (FRR's bfdd), each joined by a veth pair to a port of bridge br0 in a third namespace, `sw` (the
// switch). A link cut takes `a`'s port out of the bridge on the switch side: the veth ends in `a` and
// `b` stay up with carrier, so neither end hears of the cut from its interface, only from BFD, as with
// a failure somewhere in a real switch. Namespaces come from bench/bgp-netns.js (removed on exit, also
// on an error or Ctrl-C). Documentation addresses only.
import { execFileSync, spawn } from 'node:child_process';
import { ip, namespace, onCleanup, poll } from './bgp-netns.js';
import { wallClockMs } from './bfd-engine.js';

const BRIDGE = 'br0';
const PORT_A = 'pa';
const PORT_B = 'pb';

/** Adds the addresses (CIDR text) to `dev` in `ns` with one `ip -batch` run. */
function addAddresses(ns, dev, addresses) {
  const input = addresses.map((a) => `addr add ${a} dev ${dev}`).join('\n');
  execFileSync('ip', ['-n', ns, '-batch', '-'], { input: `${input}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
}

/**
 * Creates the three namespaces and the links; `addressesA` and `addressesB` (CIDR text) go on the
 * hosts' `eth0`. Returns the namespace names { a, b, sw }.
 */
export function fabric(addressesA, addressesB) {
  const ns = { a: namespace('bfd-a'), b: namespace('bfd-b'), sw: namespace('bfd-sw') };
  ip('-n', ns.sw, 'link', 'add', BRIDGE, 'type', 'bridge'); // no STP: a port forwards as soon as it joins
  ip('-n', ns.sw, 'link', 'set', BRIDGE, 'up');
  for (const [host, port, addresses] of [
    [ns.a, PORT_A, addressesA],
    [ns.b, PORT_B, addressesB],
  ]) {
    ip('link', 'add', port, 'netns', ns.sw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host);
    ip('-n', ns.sw, 'link', 'set', port, 'master', BRIDGE);
    ip('-n', ns.sw, 'link', 'set', port, 'up');
    addAddresses(host, 'eth0', addresses);
    ip('-n', host, 'link', 'set', 'eth0', 'up');
  }
  return ns;
}

/** Whether `a`'s port is in the bridge (`ip -j link show`). */
function attached(sw) {
  const [link] = JSON.parse(ip('-n', sw, '-j', 'link', 'show', 'dev', PORT_A));
  return link?.master === BRIDGE;
}

/**
 * Cuts and heals the link between `a` and the switch. One `ip -batch -` process stays running and
 * reads the commands from a pipe, so a cut starts a fraction of a millisecond after `cut()` takes its
 * timestamp, instead of after an `ip` process start (several ms, more on a loaded machine).
 */
export function linkCutter(sw) {
  const batch = spawn('ip', ['-n', sw, '-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let errors = '';
  batch.stderr.on('data', (d) => (errors += d));
  onCleanup(() => batch.kill('SIGKILL'));
  const run = async (command, wantAttached) => {
    batch.stdin.write(`${command}\n`);
    await poll(
      `the switch to run "${command}"`,
      () => {
        if (errors) throw new Error(`ip -batch: ${errors.trim()}`);
        return attached(sw) === wantAttached ? true : undefined;
      },
      { ms: 5000, everyMs: 2 },
    );
  };
  return {
    /** Takes `a`'s port out of the bridge; returns the wall-clock time (ms) just before the command went out. */
    async cut() {
      const at = wallClockMs();
      await run(`link set ${PORT_A} nomaster`, false);
      return at;
    },
    /** Puts the port back into the bridge. */
    heal: () => run(`link set ${PORT_A} master ${BRIDGE}`, true),
    close: () => batch.stdin.end(),
  };
}
