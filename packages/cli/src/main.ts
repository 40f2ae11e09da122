#!/usr/bin/env node
// The bgp-announce command. Each subcommand's logic lives in its own module; this file parses the
// command line, does the I/O and sets the exit status (0 good, 1 bad input data, 2 usage error).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { decode, type DecodeOptions } from './decode.js';
import { collect, fileErrorReason } from './options.js';
import { MD5_PASSWORD_ENV, type PeerCommandOptions } from './peer.js';
import { peerCommand } from './peer-run.js';
import { BFD_KEY_ENV, type BfdCommandOptions } from './bfd.js';
import { bfdCommand } from './bfd-run.js';
import type { DaemonCommandOptions } from './daemon.js';
import { ADMIN_ADDRESS_ENV, statusCommand, type StatusCommandOptions } from './status.js';
import type { CheckCommandOptions } from './check.js';
import type { LabCommandOptions } from './lab/plan.js';
import type { ImportMetalLBOptions } from './import-metallb.js';

const USAGE_ERROR = 2;
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Reads FILE ('-' or none: stdin) whole. Throws an Error with a message fit for the user. */
async function readInput(file: string | undefined): Promise<Uint8Array> {
  if (file === undefined || file === '-') {
    if (process.stdin.isTTY) throw new Error('no input: give a FILE or pipe messages on stdin');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${fileErrorReason(err)}`);
  }
}

function write(stream: NodeJS.WriteStream, lines: string[]): void {
  if (lines.length > 0) stream.write(lines.join('\n') + '\n');
}

const program = new Command()
  .name('bgp-announce')
  .description('BGP route announcer for bare-metal Kubernetes')
  .version(version)
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');

program
  .command('decode')
  .description('decode concatenated BGP messages (raw bytes, or hex with --hex) into one JSON object per line')
  .argument('[file]', "input file; stdin when absent or '-'")
  .option('--hex', 'input is hex text (whitespace, newlines and 0x prefixes ignored)')
  .option('--add-path <families>', 'NLRI of these families carry ADD-PATH path identifiers (ipv4-unicast,ipv6-unicast)')
  .option('--as2', 'AS numbers in AS_PATH and AGGREGATOR are 2 octets')
  .option('--extended-message', 'accept messages up to 65535 bytes (RFC 8654)')
  .action(async (file: string | undefined, opts: DecodeOptions) => {
    let input: Uint8Array;
    try {
      input = await readInput(file);
    } catch (err) {
      process.stderr.write(`bgp-announce decode: ${(err as Error).message}\n`);
      process.exitCode = USAGE_ERROR;
      return;
    }
    const result = decode(input, opts);
    write(process.stdout, result.lines);
    write(process.stderr, result.stderr);
    process.exitCode = result.status;
  });

program
  .command('peer')
  .description(
    'open one BGP session, announce prefixes, print state changes and received routes (a lab peering test; see the README)',
  )
  .option('--local-as <asn>', 'our AS (1-4294967295, or asdot such as 1.10)')
  .option('--peer-as <asn>', "the peer's AS; equal to --local-as for iBGP")
  .option('--peer <address>', "the peer's IPv4 or IPv6 address")
  .option('--local-address <address>', 'our source address (and the listen address in passive mode)')
  .option('--port <port>', "the peer's TCP port (default 179)")
  .option('--router-id <id>', 'our BGP identifier (default: our IPv4 address toward the peer)')
  .option('--announce <prefix>', 'a prefix to announce (repeatable)', collect)
  .option('--announce-file <file>', "prefixes to announce, one per line ('#' comments)")
  .option(
    '--family <families>',
    "families to offer: ipv4-unicast, ipv6-unicast (default: the session's and the announced prefixes')",
    collect,
  )
  .option('--next-hop <address>', 'IPv4 next hop of our IPv4 prefixes (default: our address on the session)')
  .option('--next-hop-ipv6 <address>', 'IPv6 next hop of our IPv6 prefixes (needed on an IPv4 session)')
  .option('--extended-next-hop', 'offer IPv4 prefixes with an IPv6 next hop (RFC 8950)')
  .option('--community <A:B>', 'a community on our routes (repeatable)', collect)
  .option('--large-community <A:B:C>', 'a large community on our routes (repeatable)', collect)
  .option('--local-pref <n>', 'LOCAL_PREF on our routes (iBGP only)')
  .option('--med <n>', 'MULTI_EXIT_DISC on our routes')
  .option('--hold-time <seconds>', 'hold time we propose: 0 or 3-65535 (default 90)')
  .option('--passive', 'do not connect: wait for the peer to connect to us')
  .option('--listen <addr:port>', "also accept the peer's connection here (ADDR:PORT or [IPv6]:PORT)")
  .option('--md5-password <password>', `TCP MD5 key (RFC 2385); or set ${MD5_PASSWORD_ENV}`)
  .option('--ttl-security [hops]', 'GTSM (RFC 5082): the peer is at most this many hops away (default 1)')
  .option('--ebgp-multihop <ttl>', 'TTL of our packets (1-255)')
  .option('--graceful-restart <seconds>', 'advertise graceful restart with this restart time (0-4095)')
  .option(
    '--graceful-shutdown <seconds>',
    'on stop, re-announce with GRACEFUL_SHUTDOWN and wait this long before the Cease',
  )
  .option('--connect-timeout <seconds>', 'give up when no session is established this long (default 30; 0: never)')
  .option('--until <what>', 'stop at: established, eor (End-of-RIB of every family received) or SECONDS after start')
  .option('--json', 'print one JSON object per line')
  .option('--bfd', "require BFD with the peer (MetalLB's defaults: 300 ms x 3); BGP goes down when BFD does")
  .option('--bfd-interval <ms>', 'BFD transmit and receive interval, 10-60000 ms (implies --bfd)')
  .option('--bfd-multiplier <n>', 'BFD detect multiplier, 2-255 (implies --bfd)')
  .option('--bfd-multihop', 'multihop BFD (RFC 5883, UDP 4784) (implies --bfd)')
  .option('--bfd-passive', "BFD passive mode: wait for the peer's first packet (implies --bfd)")
  .action(async (opts: PeerCommandOptions) => {
    const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
    process.exitCode = await peerCommand(opts, { out: line(process.stdout), err: line(process.stderr) });
  });

program
  .command('bfd')
  .description(
    'run one BFD session (RFC 5880/5881/5883) and print its state changes and negotiated timers (see the README)',
  )
  .option('--peer <address>', "the peer's IPv4 or IPv6 address (fe80::2%eth0 for link-local)")
  .option('--local-address <address>', 'our address (default: the one the kernel uses toward the peer)')
  .option('--interface <dev>', 'bind to this network device (needed for link-local addresses)')
  .option('--multihop', 'multihop BFD (RFC 5883, UDP 4784) instead of single hop (RFC 5881, UDP 3784)')
  .option('--interval <ms>', 'transmit and receive interval, 10-60000 ms (default 300)')
  .option('--receive-interval <ms>', 'the slowest rate we ask the peer to send at (Required Min RX), 10-60000 ms')
  .option('--transmit-interval <ms>', 'the rate we want to send at once Up (Desired Min TX), 10-60000 ms')
  .option('--multiplier <n>', 'detect multiplier, 2-255 (default 3)')
  .option('--passive', "send nothing until the peer's first packet")
  .option('--minimum-ttl <ttl>', 'multihop: lowest TTL accepted, 1-254 (default 254)')
  .option('--auth <type>', 'authentication: simple, keyed-md5, meticulous-keyed-md5, keyed-sha1, meticulous-keyed-sha1')
  .option('--key-id <n>', 'authentication key id, 0-255 (default 1)')
  .option('--key <key>', `authentication key; or set ${BFD_KEY_ENV}`)
  .option('--allow-unchecked-ttl', 'run even when received TTLs cannot be checked (the socket addon is not built)')
  .option('--until <what>', 'stop at: up, or SECONDS after start')
  .option('--timeout <seconds>', 'with --until up: give up when not Up this long (default 30; 0: never)')
  .option('--json', 'print one JSON object per line')
  .action(async (opts: BfdCommandOptions) => {
    const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
    process.exitCode = await bfdCommand(opts, { out: line(process.stdout), err: line(process.stderr) });
  });

program
  .command('check')
  .description(
    "on a node: who listens on :179, another speaker's session to our routers from our source address, another controller on our Services; each finding with its fix (no root needed)",
  )
  .option('--config <file>', 'our configuration from this file (default: our resources in the cluster)')
  .option(
    '--kubeconfig <file>',
    'the cluster (default: $KUBECONFIG, in-cluster, or ~/.kube/config); with --config, used for the Services only',
  )
  .option('--namespace <ns>', "where our resources are (default: the pod's namespace in a cluster, else bgp-announce)")
  .option('--node-name <name>', "this node, for the peers' nodeSelectors (default: $NODE_NAME or the host name)")
  .option('--load-balancer-class <class>', 'our spec.loadBalancerClass (default bgp-announce.io/bgp)')
  .option('--default-load-balancer', 'we also handle LoadBalancer Services with no class')
  .option('--json', 'print one JSON object per finding')
  .addOption(new Option('--proc-root <dir>', 'read this directory instead of /proc (tests)').hideHelp())
  .action(async (opts: CheckCommandOptions) => {
    const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
    const { checkCommand } = await import('./check.js'); // loads the Kubernetes client: only when needed
    const status = await checkCommand(opts, { out: line(process.stdout), err: line(process.stderr) });
    // An API call that timed out may still hold a socket open: leave once the output is written.
    process.stdout.write('', () => process.exit(status));
  });

program
  .command('daemon')
  .description(
    'run the announcer: peers and routes from Kubernetes (default) or from --config FILE; logs, metrics, admin endpoint; SIGTERM drains (see the README)',
  )
  .option(
    '--config <file>',
    'take peers and routes from this YAML file (hosts without Kubernetes) instead of Kubernetes',
  )
  .option(
    '--local-config <file>',
    'Kubernetes: also this YAML file of our objects (a BGPPeer and a health-checked StaticRoute for the API server VIP), merged into the cluster configuration (its objects win) and applied from the start, before the API server answers and while it is down',
  )
  .option(
    '--kubeconfig <file>',
    "Kubernetes: a kubeconfig file (default: $KUBECONFIG, the pod's service account, ~/.kube/config)",
  )
  .option(
    '--kube-url <url>',
    'Kubernetes: the API server URL, without credentials (the lab and tests); in a pod the service account is used by default, which on Talos reaches KubePrism',
  )
  .option('--kube-context <name>', 'Kubernetes: a kubeconfig context other than the current one')
  .option(
    '--namespace <ns>',
    "Kubernetes: where our objects and the Lease live (default: the service account's namespace, else bgp-announce)",
  )
  .option('--lb-class <class>', 'Kubernetes: the spec.loadBalancerClass we handle (default bgp-announce.io/bgp)')
  .option('--default-lb', 'Kubernetes: also handle LoadBalancer Services without a class')
  .option('--node-name <name>', 'this node (default $NODE_NAME; with --config, the host name)')
  .option(
    '--router-id <id>',
    'our BGP identifier for peers without their own (default: the first IPv4 address of the host)',
  )
  .option('--local-as <asn>', 'our AS for peers without their own (peers from our config always have one)')
  .option(
    '--metrics-address <addr>',
    'metrics, /healthz and /readyz: HOST:PORT, [IPv6]:PORT or off (default 127.0.0.1:7475; the DaemonSet: the node address)',
  )
  .option(
    '--admin-address <addr>',
    'admin endpoint for `bgp-announce status`: HOST:PORT, unix:/path or off (default 127.0.0.1:7474)',
  )
  .option('--admin-allow-remote', 'let the admin endpoint listen on a non-loopback address (it has no authentication)')
  .option('--log-level <level>', 'trace, debug, info (default), warn, error, fatal or silent')
  .option(
    '--message-history <n>',
    'BGP messages and BFD state changes kept per peer for the admin endpoint (default 50)',
  )
  .option(
    '--drain-time <seconds>',
    "on SIGTERM, GRACEFUL_SHUTDOWN drain before the Cease (default 5; keep it below the pod's terminationGracePeriodSeconds)",
  )
  .option('--no-graceful-restart', 'on SIGTERM, drain every peer, even those that negotiated graceful restart')
  .option(
    '--state-dir <path>',
    'keep the graceful restart record here (a hostPath such as /var/run/bgp-announce), so a restart within 120 s sets the Restart State bit',
  )
  .option('--no-bfd', 'do not start the BFD engine (peers that require BFD are refused)')
  .option(
    '--bfd-allow-unchecked-ttl',
    'run BFD even when received TTLs cannot be checked (the socket addon is not built)',
  )
  .action(async (opts: DaemonCommandOptions) => {
    process.title = 'bgp-announce'; // how `bgp-announce check` and ps recognise the daemon, whatever the entrypoint
    const { daemonCommand } = await import('./daemon.js');
    const result = await daemonCommand(opts, { err: (line) => void process.stderr.write(`${line}\n`) });
    if (typeof result === 'number') process.exitCode = result;
  });

program
  .command('status')
  .description(
    "show a running daemon's peers, routes and last messages (from its admin endpoint); with --cluster, every node's sessions and Services through the Kubernetes API",
  )
  .option(
    '--admin <addr>',
    `the daemon's admin endpoint: HOST:PORT or unix:/path (default $${ADMIN_ADDRESS_ENV}, else 127.0.0.1:7474)`,
  )
  .option('--peer <id>', 'one peer in detail, with its advertised and received routes')
  .option('--messages', 'also the last BGP messages and BFD state changes (of --peer, or of every peer)')
  .option('--limit <n>', 'with --peer: at most this many routes of each list (default 1000)')
  .option(
    '--cluster',
    "the whole cluster instead of this node: each node's BGPNodeState and each Service's Announced condition, read through the Kubernetes API (no exec into a pod)",
  )
  .option(
    '--kubeconfig <file>',
    "with --cluster: a kubeconfig file (default: $KUBECONFIG, the pod's service account, ~/.kube/config)",
  )
  .option('--kube-url <url>', 'with --cluster: the API server URL, without credentials (the lab and tests)')
  .option('--kube-context <name>', 'with --cluster: a kubeconfig context other than the current one')
  .option(
    '--namespace <ns>',
    "with --cluster: where the BGPNodeStates are (default: the pod's namespace, else bgp-announce)",
  )
  .option('--node <name>', 'with --cluster: only this node')
  .option('--json', 'print the JSON the daemon answered (with --cluster: the cluster view)')
  .action(async (opts: StatusCommandOptions) => {
    const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
    process.exitCode = await statusCommand(opts, { out: line(process.stdout), err: line(process.stderr) });
  });

program
  .command('lab')
  .description(
    "a lab on this machine (root): a router (gobgpd, FRR or BIRD) and nodes running the daemon in network namespaces, with a built-in Kubernetes API server; shows the sessions, each Service's VIP and the router's ECMP next hops, then tears down",
  )
  .option('--peer <router>', 'the router: gobgp (default), frr or bird')
  .option('--nodes <n>', 'how many nodes, 1-32 (default 3)')
  .option('--bfd', 'BFD between the nodes and the router (frr or bird)')
  .option('--hold', 'keep the lab up and print how to look inside; Ctrl-C tears it down')
  .option(
    '--prometheus',
    "also run Prometheus (Debian's package) scraping every daemon with the alert rules loaded (every for: shortened); the report shows its URL and live queries",
  )
  .option('--rules <file>', 'with --prometheus: the alert rules to load (default deploy/monitoring/alerts.rules.yaml)')
  .option(
    '--weighted',
    'with --peer frr: weighted ECMP (link bandwidth, RFC 10005) and a Local Service with endpoints 3/1/1 over the nodes; the report shows the weight of each next hop as the kernel has it',
  )
  .option(
    '--control-plane',
    "each node also runs a stand-in API server (/readyz on 127.0.0.1:6443) and announces the API VIP 203.0.113.100 from a local config while it is healthy; the report shows the VIP's next hops following health, --hold says how to fail and heal a node's",
  )
  .option('--json', 'print the result as one JSON object (progress goes to stderr)')
  .action(async (opts: LabCommandOptions) => {
    const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
    const { labCommand } = await import('./lab/lab.js');
    const status = await labCommand(opts, { out: line(process.stdout), err: line(process.stderr) });
    process.stdout.write('', () => process.exit(status));
  });

const importCommand = program
  .command('import')
  .description("convert another load balancer's configuration to bgp-announce's objects (see the README)");

importCommand
  .command('metallb')
  .description(
    "convert MetalLB's configuration (metallb.io objects: a YAML/JSON FILE, stdin, or --from-cluster) to ours: YAML on stdout (or --output-dir), a report on stderr of what changed and what needs you; exit 0 all carried over, 1 something needs you, 2 bad input",
  )
  .argument('[file]', "YAML or JSON documents (a List too, as kubectl get -o yaml writes); stdin when absent or '-'")
  .option(
    '--from-cluster',
    "read MetalLB's objects from the cluster (and its Services, for the report) instead of a file",
  )
  .option(
    '--kubeconfig <file>',
    'with --from-cluster: a kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)',
  )
  .option('--kube-url <url>', 'with --from-cluster: the API server URL, without credentials (tests)')
  .option('--kube-context <name>', 'with --from-cluster: a kubeconfig context other than the current one')
  .option(
    '--metallb-namespace <ns>',
    "MetalLB's namespace: where --from-cluster reads and where its password Secrets are (default metallb-system)",
  )
  .option(
    '--namespace <ns>',
    'the namespace written into our objects, where the daemon reads them (default bgp-announce)',
  )
  .option('--output-dir <dir>', 'write one file per object here (<kind>-<name>.yaml) instead of stdout')
  .action(async (file: string | undefined, opts: ImportMetalLBOptions) => {
    const { importMetalLBCommand } = await import('./import-metallb.js'); // loads the Kubernetes client: only when needed
    const status = await importMetalLBCommand(file, opts, {
      out: (text) => void process.stdout.write(text),
      err: (line) => void process.stderr.write(`${line}\n`),
    });
    // An API call that timed out may still hold a socket open: leave once the output is written.
    process.stdout.write('', () => process.exit(status));
  });

// A reader that goes away (`| head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await program.parseAsync();
} catch (err) {
  // Commander has already printed its message; --help and --version come here with exit code 0.
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : USAGE_ERROR;
  else throw err;
}
