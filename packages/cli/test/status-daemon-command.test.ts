// `bgp-announce daemon` (the command the status command talks to): the command line as daemon
// options and a source choice, and the errors that stop it from starting, each with its exit status.
import t from 'tap';
import type { RouteSource } from '@bgp-announce/announcer';
import { createRequire } from 'node:module';
import {
  DEFAULT_NAMESPACE,
  daemonCommand,
  kubeConnectOptions,
  parseDaemonCommand,
  type DaemonSources,
} from '../src/daemon.js';

t.test('parseDaemonCommand', async (t) => {
  t.same(
    parseDaemonCommand({}, { NODE_NAME: 'node-a' }),
    { daemon: { nodeName: 'node-a' }, source: { kind: 'kubernetes', defaultLoadBalancer: false } },
    'Kubernetes by default, node from NODE_NAME',
  );
  t.same(
    parseDaemonCommand(
      {
        nodeName: 'n1',
        kubeconfig: '/etc/kubeconfig',
        kubeContext: 'lab',
        namespace: 'net',
        lbClass: 'example.com/lb',
        defaultLb: true,
        routerId: '192.0.2.7',
        localAs: '1.10',
        metricsAddress: '127.0.0.1:9000',
        adminAddress: 'unix:/run/bgp.sock',
        logLevel: 'debug',
        messageHistory: '200',
        drainTime: '2.5',
        gracefulRestart: false,
        stateDir: '/var/run/bgp-announce',
        bfd: false,
      },
      {},
    ),
    {
      daemon: {
        nodeName: 'n1',
        routerId: '192.0.2.7',
        localAs: 65546,
        metricsAddress: '127.0.0.1:9000',
        adminAddress: 'unix:/run/bgp.sock',
        logLevel: 'debug',
        messageHistory: 200,
        drainMs: 2500,
        gracefulRestart: false,
        stateDirectory: '/var/run/bgp-announce',
        bfd: false,
      },
      source: {
        kind: 'kubernetes',
        defaultLoadBalancer: true,
        kubeconfig: '/etc/kubeconfig',
        context: 'lab',
        namespace: 'net',
        loadBalancerClass: 'example.com/lb',
      },
    },
  );
  t.same(
    parseDaemonCommand(
      { config: '/etc/bgp.yaml', bfdAllowUncheckedTtl: true, adminAllowRemote: true },
      { NODE_NAME: 'n2' },
    ),
    {
      daemon: { nodeName: 'n2', adminAllowRemote: true, bfd: { allowUncheckedTtl: true } },
      source: { kind: 'file', path: '/etc/bgp.yaml' },
    },
  );
  t.type(
    parseDaemonCommand({ config: 'x.yaml' }, {}).daemon.nodeName,
    'string',
    '--config: the host name without NODE_NAME',
  );
  const bad: [Parameters<typeof parseDaemonCommand>[0], RegExp][] = [
    [{}, /--node-name is required \(or NODE_NAME/],
    [
      { nodeName: 'n', logLevel: 'loud' },
      /--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"/,
    ],
    [{ nodeName: 'n', drainTime: '-1' }, /--drain-time must be 0-3600 seconds/],
    [{ nodeName: 'n', drainTime: '3601' }, /--drain-time must be 0-3600 seconds/],
    [{ nodeName: 'n', messageHistory: '10001' }, /--message-history must be a number of messages 0-10000/],
    [{ nodeName: 'n', localAs: '0' }, /--local-as must be an AS number/],
    [{ nodeName: 'n', config: 'f.yaml', localConfig: 'l.yaml' }, /--local-config goes with the Kubernetes source/],
    [{ nodeName: 'n', localConfig: '' }, /--local-config needs a file name/],
    [
      { nodeName: 'n', stateDir: 'state' },
      /--state-dir must be an absolute path \(such as \/var\/run\/bgp-announce\), got "state"/,
    ],
    [
      { nodeName: 'n', config: 'f.yaml', namespace: 'x', defaultLb: true },
      /--namespace, --default-lb are for the Kubernetes source; --config f\.yaml uses the config file instead/,
    ],
    [
      { nodeName: 'n', kubeUrl: 'https://127.0.0.1:7445', kubeconfig: 'k' },
      /--kube-url and --kubeconfig exclude each other/,
    ],
  ];
  for (const [options, message] of bad)
    t.throws(() => parseDaemonCommand(options, {}), { name: 'UsageError', message }, JSON.stringify(options));
  t.equal(DEFAULT_NAMESPACE, 'bgp-announce');
});

t.test('the daemon names itself to the API server: bgp-announce/<version> (<node>)', async (t) => {
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
  const plan = parseDaemonCommand({ kubeUrl: 'https://127.0.0.1:7445' }, { NODE_NAME: 'node-a' }).source;
  if (plan.kind !== 'kubernetes') throw new Error('expected the Kubernetes source');
  t.same(kubeConnectOptions(plan, 'node-a'), {
    userAgent: `bgp-announce/${version} (node-a)`,
    url: 'https://127.0.0.1:7445',
  });
});

t.test('daemonCommand: what stops it from starting', async (t) => {
  const errs: string[] = [];
  const err = (l: string): void => void errs.push(l);
  let built = 0;
  const failing: RouteSource = {
    start: async () => Promise.reject(new Error('config.yaml: 2 problems')),
    ready: () => false,
    status: () => ({}),
    stop: async () => {},
  };
  const sources: DaemonSources = {
    file: () => (built++, failing),
    kubernetes: () => {
      throw new Error('no Kubernetes API configuration found');
    },
  };
  const common = {
    nodeName: 'n',
    routerId: '192.0.2.1',
    metricsAddress: 'off',
    bfd: false as const,
    logLevel: 'silent',
  };
  t.equal(
    await daemonCommand({ ...common, adminAddress: '0.0.0.0:7474' }, { err, sources }),
    2,
    'a non-loopback admin address is a usage error',
  );
  t.match(errs.pop(), /^bgp-announce daemon: admin endpoint 0\.0\.0\.0:7474 is not a loopback address/);
  t.equal(built, 0, 'refused before any source was built');
  t.equal(await daemonCommand({ ...common, adminAddress: 'off' }, { err, sources, daemon: { signals: false } }), 1);
  t.equal(errs.pop(), 'bgp-announce daemon: no Kubernetes API configuration found');
  t.equal(
    await daemonCommand(
      { ...common, adminAddress: 'off', config: 'config.yaml' },
      { err, sources, daemon: { signals: false } },
    ),
    1,
  );
  t.equal(errs.pop(), 'bgp-announce daemon: the route source did not start: config.yaml: 2 problems');
  t.equal(await daemonCommand({ logLevel: 'x' }, { err, sources, env: {} }), 2);
  t.match(errs.pop(), /^bgp-announce daemon: --node-name is required/);
});

t.test('--local-config goes into the Kubernetes source plan', async (t) => {
  const plan = parseDaemonCommand({ localConfig: '/var/etc/bgp-announce/api-vip.yaml' }, { NODE_NAME: 'cp-1' });
  t.match(plan, { source: { kind: 'kubernetes', localConfig: '/var/etc/bgp-announce/api-vip.yaml' } });
});
