// BIRD 2 for the BGP benchmarks (bench/bgp.js): configuration text, a daemon started in a network
// namespace, and a client for its control socket (the protocol birdc speaks), so polling costs a
// line on a Unix socket instead of a process start.
//
// The sender's routes are 10.0.0.0/8 /32s in a `static` protocol as `blackhole` routes: NLRI data
// between BIRD and us inside the bench's namespaces only. No configuration here has a `kernel`
// protocol, so no route ever reaches a kernel table, and nothing sends traffic to these addresses.
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { poll, startIn } from './bgp-netns.js';

/** The i-th benchmark prefix: 10.0.0.0/8 as /32s, i in 0 .. 2^24-1 (NLRI data only, see above). */
export function benchPrefix(i) {
  return `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}/32`;
}

/**
 * BIRD configuration: `routerId`, optionally `staticRoutes` (that many benchmark prefixes, as
 * blackhole routes), and BGP protocols [{ name, local, localAs, neighbor, peerAs, passive, disabled,
 * importAll, exportAll, holdTime }]. Protocol times are printed to the millisecond (for `Since`).
 */
export function birdConfig({ routerId, staticRoutes = 0, protocols }) {
  const parts = [
    'log stderr { warning, error, fatal, bug };',
    `router id ${routerId};`,
    'timeformat protocol iso long ms;',
    'protocol device {}',
    // No `protocol kernel`: nothing learnt or loaded here is ever installed in a kernel table.
  ];
  if (staticRoutes > 0) {
    const lines = ['protocol static prefixes {', '  ipv4;'];
    for (let i = 0; i < staticRoutes; i++) lines.push(`  route ${benchPrefix(i)} blackhole;`);
    lines.push('}');
    parts.push(lines.join('\n'));
  }
  for (const p of protocols) {
    parts.push(
      [
        `protocol bgp ${p.name} {`,
        p.disabled ? '  disabled;' : '',
        `  local ${p.local} as ${p.localAs};`,
        `  neighbor ${p.neighbor} as ${p.peerAs};`,
        p.passive ? '  passive on;' : '',
        '  connect delay time 1;',
        p.holdTime ? `  hold time ${p.holdTime};` : '',
        `  ipv4 { import ${p.importAll ? 'all' : 'none'}; export ${p.exportAll ? 'all' : 'none'}; };`,
        '}',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
  return `${parts.join('\n')}\n`;
}

/** A connection to BIRD's control socket; commands are answered in order. */
export class BirdControl {
  constructor(socket) {
    this.socket = socket;
    this.pending = [];
    this.lines = [];
    this.buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.failAll(err));
    socket.on('close', () => this.failAll(new Error('BIRD control socket closed')));
  }

  /** Connects to the socket at `path` and waits for BIRD's greeting. */
  static connect(path) {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(path);
      const ctl = new BirdControl(socket);
      socket.once('error', reject);
      ctl.pending.push({ resolve: () => resolve(ctl), reject });
    });
  }

  onData(chunk) {
    this.buffer += chunk;
    let nl;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      // "NNNN-text" and " text" continue a reply, "NNNN text" ends it (codes 8xxx/9xxx are errors).
      this.lines.push(line.replace(/^(\d{4}[ -]| )/, ''));
      const end = /^(\d{4}) /.exec(line);
      if (end) {
        const text = this.lines.join('\n');
        this.lines = [];
        const waiter = this.pending.shift();
        if (waiter) end[1] >= '8000' ? waiter.reject(new Error(`BIRD: ${text}`)) : waiter.resolve(text);
      }
    }
  }

  failAll(err) {
    for (const w of this.pending.splice(0)) w.reject(err);
  }

  /** Sends one command ("show protocols all peer") and resolves with the reply's text. */
  command(text) {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(`${text}\n`);
    });
  }

  close() {
    this.socket.destroy();
  }
}

/** Routes imported by a protocol (`show protocols all <name>`). */
export async function importedRoutes(ctl, name) {
  const m = /Routes:\s+(\d+) imported/.exec(await ctl.command(`show protocols all ${name}`));
  return m ? Number(m[1]) : 0;
}

/** The protocol's state and when it entered it (ms since the epoch, BIRD runs with TZ=UTC). */
export async function protocolState(ctl, name) {
  const text = await ctl.command(`show protocols ${name}`);
  const m = new RegExp(
    `^${name}\\s+\\S+\\s+\\S+\\s+(\\S+)\\s+(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3})\\s*(.*)$`,
    'm',
  ).exec(text);
  if (!m) throw new Error(`cannot read the state of ${name} from: ${text}`);
  return { state: m[1], since: Date.parse(`${m[2].replace(' ', 'T')}Z`), info: m[3].trim() };
}

const UNITS = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** `show memory`, effective bytes per line ("Routing tables", "Total", ...). */
export async function birdMemory(ctl) {
  const out = {};
  for (const line of (await ctl.command('show memory')).split('\n')) {
    const m = /^\s*([A-Za-z ]+):\s+([\d.]+)\s+(B|kB|MB|GB)/.exec(line);
    if (m) out[m[1].trim()] = Number(m[2]) * UNITS[m[3]];
  }
  return out;
}

/** VmRSS and VmHWM of a process, in bytes. */
export function processMemory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** CPU time (user + system) a process has used, in ms (from /proc/<pid>/stat, clock ticks of 10 ms). */
export function processCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is field 3, utime field 14, stime field 15 (proc(5)).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/**
 * Starts `bird -f` in namespace `ns` with `config`, files in `dir` (named after `name`); resolves
 * once the control socket answers (after BIRD has parsed the whole configuration).
 */
export async function startBird(ns, dir, name, config) {
  const conf = join(dir, `${name}.conf`);
  const sock = join(dir, `${name}.ctl`);
  writeFileSync(conf, config);
  const started = Date.now();
  const daemon = startIn(ns, 'bird', ['-f', '-c', conf, '-s', sock], { env: { TZ: 'UTC' } });
  let exited = false;
  void daemon.exited.then(() => (exited = true));
  const ctl = await poll(`BIRD ${name} to answer on ${sock}`, () => (exited ? null : BirdControl.connect(sock)), {
    ms: 60_000,
    everyMs: 50,
  });
  if (ctl === null) throw new Error(`BIRD ${name} exited: ${daemon.output().trim()}`);
  return {
    name,
    ctl,
    pid: daemon.proc.pid,
    startMs: Date.now() - started,
    output: daemon.output,
    async stop() {
      ctl.close();
      await daemon.stop();
    },
  };
}
