// The routers of the Kubernetes benchmarks (bench/k8s.js): passive gobgpd instances in the router
// namespace, one per peer of the daemon, and two ways of seeing what they hold:
// - RouteMonitor: `gobgp monitor global rib -j`, a stream of route changes as they happen (one line
//   per path), which times single announcements and withdrawals without polling. gobgpd hands the
//   monitor one path at a time: with thousands of routes arriving at once it slowed the four routers
//   from ~2 s to ~27 s (measured), so bulk rows do not use it.
// - GobgpApi: gobgpd's gRPC API spoken directly over HTTP/2 (node:http2, no dependency): GetTable
//   gives the number of prefixes in the global RIB, cheap enough to ask every 10 ms.
// Each router's API listens on its IPv4 address of the link (192.0.2.1-4 port 50051), so the bench's
// host namespace reaches it without entering the router namespace.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_V4, HOST_V6, OUR_AS, ROUTER_AS, eachLine, now, scratch, stopProcess, track, until } from './k8s-rig.js';

const API_PORT = 50051;

/** Address of router i (0-based) of a family: 192.0.2.1... or 2001:db8::1... */
export const routerAddress = (family, i) => (family === 4 ? `192.0.2.${i + 1}` : `2001:db8::${i + 1}`);

function gobgpdConfig(i, family) {
  return [
    '[global.config]',
    `  as = ${ROUTER_AS}`,
    `  router-id = "192.0.2.${i + 1}"`,
    `  local-address-list = ["${routerAddress(family, i)}"]`,
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${family === 4 ? HOST_V4 : HOST_V6}"`,
    `    peer-as = ${OUR_AS}`,
    '  [neighbors.transport.config]',
    '    passive-mode = true',
    '  [[neighbors.afi-safis]]',
    '    [neighbors.afi-safis.config]',
    `      afi-safi-name = "${family === 4 ? 'ipv4-unicast' : 'ipv6-unicast'}"`,
    '',
  ].join('\n');
}

/**
 * Starts one passive gobgpd per entry of `families` (4 or 6) in namespace `ns`: router i listens on
 * routerAddress(family, i) port 179 with our node as its only neighbor, its API on 192.0.2.<i+1>:50051.
 * Resolves once every API answers; with `monitor`, each router has a RouteMonitor already streaming.
 */
export async function startRouters(ns, families, { monitor = true } = {}) {
  const dir = mkdtempSync(join(process.env.K8S_BENCH_SCRATCH ?? tmpdir(), 'gobgpd-'));
  scratch.push(dir);
  const routers = families.map((family, i) => {
    const conf = join(dir, `r${i}.toml`);
    writeFileSync(conf, gobgpdConfig(i, family));
    const apiHost = routerAddress(4, i);
    const proc = track(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'gobgpd',
          '-f',
          conf,
          '--api-hosts',
          `${apiHost}:${API_PORT}`,
          '--pprof-disable',
          '-l',
          'warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    let output = '';
    proc.stdout.on('data', (c) => (output += c));
    proc.stderr.on('data', (c) => (output += c));
    const gobgp = (...args) =>
      execFileSync('gobgp', ['-u', apiHost, '-p', String(API_PORT), ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    return {
      index: i,
      family,
      address: routerAddress(family, i),
      neighbor: family === 4 ? HOST_V4 : HOST_V6,
      apiHost,
      proc,
      pid: proc.pid,
      gobgp,
      output: () => output,
    };
  });
  for (const r of routers) {
    await until(`gobgpd ${r.address} to answer on its API`, () => r.gobgp('neighbor', '-j') && true, {
      ms: 20_000,
      everyMs: 100,
    }).catch((err) => {
      throw new Error(`${err.message}; its output: ${r.output().slice(-1000)}`);
    });
    r.api = new GobgpApi(r.apiHost, API_PORT);
    if (monitor) r.monitor = await RouteMonitor.start(r);
  }
  return {
    routers,
    async stop() {
      for (const r of routers) r.api?.close();
      await Promise.all(routers.flatMap((r) => [r.monitor?.stop(), stopProcess(r.proc)]));
    },
  };
}

/** gobgpd's state of its neighbor: 'established', 'active', ... (GoBGP API session_state names). */
export function neighborState(router) {
  const n = JSON.parse(router.gobgp('neighbor', router.neighbor, '-j'));
  return (
    ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'][n.state?.session_state] ??
    String(n.state?.session_state)
  );
}

/**
 * Asks each router's API every `everyMs` how many prefixes of its family its global RIB holds, until
 * every one holds `count`. Resolves with, per router, when the first prefix and when the last were
 * seen (now() when the answer came back: the change happened between the previous question and then).
 * `check()` runs each round and may throw to give up.
 */
export async function whenRibsHold(routers, count, { ms = 120_000, everyMs = 10, check } = {}) {
  const first = routers.map(() => undefined);
  const full = routers.map(() => undefined);
  const deadline = now() + ms;
  let counts = [];
  while (full.some((t) => t === undefined)) {
    check?.();
    const answers = await Promise.all(
      routers.map((r, i) =>
        full[i] !== undefined ? [count, full[i]] : r.api.prefixes(r.family).then((c) => [c, now()]),
      ),
    );
    counts = answers.map(([c]) => c);
    answers.forEach(([c, at], i) => {
      if (first[i] === undefined && c > 0) first[i] = at;
      if (full[i] === undefined && c >= count) full[i] = at;
    });
    if (now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting for ${count} routes at every router (they hold ${counts.join(', ')})`,
      );
    if (full.some((t) => t === undefined)) await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return { first, full };
}

// ---------------------------------------------------------------------------------------------
// gRPC, by hand: a unary call is one HTTP/2 POST with a 5-byte prefix (compressed flag, length)
// before the protobuf message, answered the same way, with grpc-status in the trailers.

/** Reads a protobuf varint at `offset`; returns [value, next offset]. */
function varint(buf, offset) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[offset++];
    if (b === undefined) throw new Error('truncated protobuf varint');
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, offset];
    shift += 7;
  }
}

/** The varint fields of a protobuf message by field number (other wire types are skipped). */
function varintFields(buf) {
  const out = new Map();
  let offset = 0;
  while (offset < buf.length) {
    let key;
    [key, offset] = varint(buf, offset);
    const field = Math.floor(key / 8);
    const type = key & 7;
    if (type === 0) {
      let v;
      [v, offset] = varint(buf, offset);
      out.set(field, v);
    } else if (type === 2) {
      let len;
      [len, offset] = varint(buf, offset);
      offset += len;
    } else if (type === 1) offset += 8;
    else if (type === 5) offset += 4;
    else throw new Error(`unexpected protobuf wire type ${type}`);
  }
  return out;
}

/** A client of gobgpd's gRPC API (service apipb.GobgpApi) over one HTTP/2 connection. */
export class GobgpApi {
  constructor(host, port) {
    this.session = connect(`http://${host}:${port}`);
    this.session.on('error', () => undefined); // a call in flight fails with it
  }

  /** One unary call: the request message bytes in, the response message bytes out. */
  call(method, message) {
    return new Promise((resolve, reject) => {
      const req = this.session.request({
        ':method': 'POST',
        ':path': `/apipb.GobgpApi/${method}`,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks = [];
      let status;
      let text = '';
      req.on('response', (headers) => {
        if (headers['grpc-status'] !== undefined) status = Number(headers['grpc-status']); // trailers-only answer
        text = headers['grpc-message'] ?? '';
      });
      req.on('trailers', (trailers) => {
        status = Number(trailers['grpc-status']);
        text = trailers['grpc-message'] ?? '';
      });
      req.on('data', (c) => chunks.push(c));
      req.on('error', reject);
      req.on('end', () => {
        if (status !== 0)
          return reject(new Error(`gobgpd ${method}: grpc-status ${status} ${decodeURIComponent(text)}`));
        const body = Buffer.concat(chunks);
        resolve(body.subarray(5, 5 + body.readUInt32BE(1)));
      });
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      message.copy(frame, 5);
      req.end(frame);
    });
  }

  /** Prefixes in the global RIB of IPv4 or IPv6 unicast: GetTable { type GLOBAL, family } -> num_destination. */
  async prefixes(family) {
    const request = Buffer.from([0x12, 0x04, 0x08, family === 4 ? 1 : 2, 0x10, 0x01]); // family { afi, safi 1 }
    try {
      return varintFields(await this.call('GetTable', request)).get(1) ?? 0;
    } catch (err) {
      if (/grpc-status 2 .*(no|not) .*(table|found)/i.test(err.message)) return 0; // a family with no table yet
      throw err;
    }
  }

  close() {
    this.session.close();
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The route changes of one gobgpd as they happen (`gobgp monitor global rib -j`: one JSON array of
 * paths per line, `withdrawal: true` on withdrawals). Keeps, per prefix, the time of its last
 * announcement and withdrawal as this process read them, and the set of prefixes present.
 */
export class RouteMonitor {
  /**
   * Starts the stream and proves it runs: a probe prefix is added to the router's own RIB and removed
   * again until the stream shows a change of it, then its withdrawal.
   */
  static async start(router) {
    const m = new RouteMonitor(
      spawn('gobgp', ['-u', router.apiHost, '-p', String(API_PORT), 'monitor', 'global', 'rib', '-j'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const probe = router.family === 4 ? '192.0.2.255/32' : '2001:db8:ffff::1/128';
    const family = router.family === 4 ? 'ipv4' : 'ipv6';
    // Adding a path that is already there changes nothing, so each attempt adds and then removes it.
    await until(
      'the route monitor to see a probe route',
      () => {
        if (m.proc.exitCode !== null) throw new Error(`gobgp monitor exited: ${m.errors}`);
        if (m.announcedAt.has(probe) || m.withdrawnAt.has(probe)) return true;
        router.gobgp('global', 'rib', '-a', family, 'add', probe);
        router.gobgp('global', 'rib', '-a', family, 'del', probe);
        return undefined;
      },
      { ms: 30_000, everyMs: 200 },
    );
    await m.when('the probe route withdrawn', (x) => x.withdrawnAt.has(probe) && !x.present.has(probe), 20_000);
    m.announcedAt.clear();
    m.withdrawnAt.clear();
    return m;
  }

  constructor(proc) {
    this.proc = track(proc);
    this.announcedAt = new Map();
    this.withdrawnAt = new Map();
    this.present = new Set();
    this.lines = 0;
    this.errors = '';
    this.waiters = new Set();
    proc.stderr.on('data', (c) => (this.errors += c));
    eachLine(proc.stdout, (line) => this.onLine(line, now()));
  }

  onLine(line, at) {
    if (!line.startsWith('[')) return;
    this.lines++;
    for (const path of JSON.parse(line)) {
      const prefix = path.nlri?.prefix;
      if (prefix === undefined) continue;
      if (path.withdrawal) {
        this.withdrawnAt.set(prefix, at);
        this.present.delete(prefix);
      } else {
        this.announcedAt.set(prefix, at);
        this.present.add(prefix);
      }
    }
    for (const w of this.waiters) if (w.test(this)) w.resolve(at);
  }

  /** Resolves with the time of the first line after which test(monitor) holds (at once if it does now). */
  when(what, test, ms = 60_000) {
    if (test(this)) return Promise.resolve(now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what} (${this.present.size} prefixes present)`));
      }, ms);
      const w = {
        test,
        resolve: (at) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(at);
        },
      };
      this.waiters.add(w);
    });
  }

  stop() {
    return stopProcess(this.proc, 1000);
  }
}
