// A small lab fabric for interop tests: a switch namespace holding a bridge, and one namespace per
// host joined to it by a veth pair (documentation addresses only; IPv6 ones added with `nodad`, so
// they are usable at once). Also the Speaker child: our built Speaker run inside a host namespace,
// printing its events as JSON lines and taking commands on stdin. Everything is removed in t.teardown.
import type { Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnnounceAttributes, PeerOptions } from '@bgp-announce/bgp-speaker';
import type { BfdEngineOptions } from '@bgp-announce/bfd';
import { ip } from './netns.js';
import { poll, startProcess } from './gobgpd.js';

/** One host of the fabric: its namespace, its device towards the switch, its bare addresses. */
export interface FabricHost {
  ns: string;
  dev: string;
  addresses: string[];
}

/** The fabric: the switch namespace (bridge `br0`) and the hosts by the names they were given. */
export interface Fabric {
  switchNs: string;
  hosts: Record<string, FabricHost>;
}

/**
 * Creates a switch namespace with a bridge and, for each entry of `hosts` (name -> CIDR addresses such
 * as '192.0.2.1/24' or '2001:db8::1/64'), a namespace `<prefix><name>-<id>` with loopback up and `eth0`
 * plugged into the bridge. Names are at most 6 characters. Removal is registered with t.teardown before
 * anything is created, so a failure halfway still cleans up.
 */
export function fabric(t: Test, hosts: Record<string, string[]>, prefix = 'bgpf'): Fabric {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const switchNs = `${prefix}sw-${id}`;
  const names = Object.keys(hosts);
  for (const name of names)
    if (!/^[a-z0-9]{1,6}$/.test(name))
      throw new Error(`fabric host name ${JSON.stringify(name)}: use 1-6 lower-case letters or digits`);
  const namespaces = [switchNs, ...names.map((n) => `${prefix}${n}-${id}`)];
  t.teardown(() => {
    for (const ns of namespaces) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created (or already gone)
      }
    }
  });
  ip('netns', 'add', switchNs);
  ip('-n', switchNs, 'link', 'set', 'lo', 'up');
  ip('-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', switchNs, 'link', 'set', 'br0', 'up');
  const out: Fabric = { switchNs, hosts: {} };
  for (const name of names) {
    const ns = `${prefix}${name}-${id}`;
    const port = `p-${name}`;
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', switchNs);
    ip('-n', switchNs, 'link', 'set', port, 'master', 'br0');
    ip('-n', switchNs, 'link', 'set', port, 'up');
    for (const cidr of hosts[name]!) {
      ip('-n', ns, 'addr', 'add', cidr, 'dev', 'eth0', ...(cidr.includes(':') ? ['nodad'] : []));
    }
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    out.hosts[name] = { ns, dev: 'eth0', addresses: hosts[name]!.map((c) => c.split('/')[0]!) };
  }
  return out;
}

const here = fileURLToPath(new URL('.', import.meta.url));
/** The built Speaker the child imports (npx tsc -b makes it). */
export const builtSpeaker = join(here, '../../packages/bgp-speaker/dist/speaker.js');
/** The built BFD engine the child imports when it runs one. */
export const builtBfdEngine = join(here, '../../packages/bfd/dist/index.js');

/** What the Speaker child runs: the speaker's identity, its peers and the routes it announces. */
export interface SpeakerChildOptions {
  localAs: number;
  bgpId: string;
  peers: { id: string; options: PeerOptions }[];
  routes: { prefix: string; attributes?: AnnounceAttributes }[];
  /** Start a BfdEngine with these options and give it to the Speaker (SpeakerOptions.bfd), for peers with `bfd`. */
  bfd?: BfdEngineOptions;
}

/**
 * A JSON event the child printed: {event: 'established' | 'down' | 'error' | 'peerState' | 'peers' |
 * 'stopped' | 'bfd' | 'bfdError', ...}; peerState, established and down carry `at` (Date.now() in the child).
 */
export type SpeakerChildEvent = { event: string } & Record<string, unknown>;

// The child: a Speaker built from dist. Commands on stdin, one JSON object a line: {"cmd":"stop",
// "drainMs"?, "restart"?, "message"?} (graceful stop, or with restart a graceful-restart leave, then exit), {"cmd":"peers"}, {"cmd":"announce", "prefix",
// "attributes"?}, {"cmd":"withdraw", "prefix"}, {"cmd":"adjRibIn", "id", "seq"} (answered with {event:
// 'adjRibIn', id, seq, routes}). With options.bfd it runs a BfdEngine too: BFD state
// changes are {event: 'bfd', id, from, to, diag, outcome, at} (at: the engine's time, ms since the epoch), engine errors
// {event: 'bfdError', code, message}; the engine stops after the Speaker.
const childSource = (url: string, bfdUrl: string): string => `
import { createInterface } from 'node:readline';
import { Speaker } from ${JSON.stringify(url)};
const o = JSON.parse(process.argv[1]);
const print = (x) => process.stdout.write(JSON.stringify(x) + '\\n');
const bfd = o.bfd ? await (await import(${JSON.stringify(bfdUrl)})).BfdEngine.start(o.bfd) : undefined;
bfd?.on('error', (e) => print({ event: 'bfdError', code: e.code, message: e.message }));
const s = new Speaker({ localAs: o.localAs, bgpId: o.bgpId, ...(bfd ? { bfd } : {}) });
s.on('bfd', (id, c, outcome) => print({ event: 'bfd', id, from: c.from, to: c.to, diag: c.diag, outcome: outcome ?? null, at: c.at ?? Date.now() }));
s.on('peerState', (id, to, from) => print({ event: 'peerState', id, to, from, at: Date.now() }));
s.on('established', (id, n) => print({ event: 'established', id, families: n.families, extendedNextHop: n.extendedNextHop, fourOctetAs: n.fourOctetAs, holdTime: n.holdTime, enhancedRouteRefresh: n.enhancedRouteRefresh, at: Date.now() }));
s.on('down', (id, r) => print({ event: 'down', id, kind: r.kind, message: r.message, at: Date.now() }));
s.on('error', (id, e) => print({ event: 'error', id, message: e.message }));
for (const r of o.routes) s.announce(r.prefix, r.attributes);
for (const p of o.peers) s.addPeer(p.id, p.options);
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  try {
    const c = JSON.parse(line);
    if (c.cmd === 'stop') {
      await s.stop({ ...(c.drainMs === undefined ? {} : { gracefulShutdown: { drainMs: c.drainMs } }), ...(c.restart ? { restart: true } : {}), message: c.message });
      await bfd?.stop();
      print({ event: 'stopped' });
      process.exit(0);
    } else if (c.cmd === 'peers') print({ event: 'peers', peers: s.peers().map(({ negotiated, ...p }) => p) });
    else if (c.cmd === 'announce') { s.announce(c.prefix, c.attributes); print({ event: 'announced', prefix: c.prefix }); }
    else if (c.cmd === 'withdraw') { s.withdraw(c.prefix); print({ event: 'withdrawn', prefix: c.prefix }); }
    else if (c.cmd === 'adjRibIn') print({ event: 'adjRibIn', id: c.id, seq: c.seq, routes: s.adjRibIn(c.id) ?? null });
  } catch (err) {
    print({ event: 'commandError', message: String(err && err.message || err) });
  }
});
rl.on('close', () => setTimeout(() => process.exit(0), 100).unref());
`;

/** A running Speaker child. */
export interface SpeakerChild {
  /** Everything it printed (stdout and stderr). */
  output: () => string;
  /** Its JSON events so far. */
  events: () => SpeakerChildEvent[];
  /** Writes one command line to its stdin. */
  command: (cmd: Record<string, unknown>) => void;
  /** Resolves with the first event matching `match` (polled, with a deadline). */
  waitFor: (what: string, match: (e: SpeakerChildEvent) => boolean, ms?: number) => Promise<SpeakerChildEvent>;
  /** Resolves once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts our built Speaker in namespace `ns` (`ip netns exec`), killed in t.teardown. Throws when the
 * packages are not built.
 */
export function startSpeaker(t: Test, ns: string, options: SpeakerChildOptions): SpeakerChild {
  if (!existsSync(builtSpeaker)) throw new Error(`${builtSpeaker} is missing: build the packages first (npx tsc -b)`);
  if (options.bfd !== undefined && !existsSync(builtBfdEngine))
    throw new Error(`${builtBfdEngine} is missing: build the packages first (npx tsc -b)`);
  const script = childSource(pathToFileURL(builtSpeaker).href, pathToFileURL(builtBfdEngine).href);
  const { proc, output } = startProcess(t, 'ip', [
    'netns',
    'exec',
    ns,
    process.execPath,
    '--input-type=module',
    '-e',
    script,
    JSON.stringify(options),
  ]);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const events = (): SpeakerChildEvent[] =>
    output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as SpeakerChildEvent);
  return {
    output,
    events,
    exited,
    command: (cmd) => {
      proc.stdin?.write(`${JSON.stringify(cmd)}\n`);
    },
    waitFor: (what, match, ms = 15000) =>
      poll(what, () => events().find(match), ms).catch((err: Error) => {
        throw new Error(`${err.message}\nspeaker output (${ns}):\n${output()}`);
      }),
  };
}
