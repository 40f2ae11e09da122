// The lab's network: a switch namespace holding a bridge, and one namespace per host (the router, the
// API forwarder, each node) plugged into it by a veth pair, `eth0` on the host's side and `p-<host>` on
// the switch's. Every link and address lives inside the lab's namespaces; the root namespace gets
// nothing.
import { FABRIC_PREFIX_LENGTH, type LabPlan } from './plan.js';
import { ip } from './run.js';

/** One host on the fabric. */
export interface FabricHost {
  /** Short name, used for the switch port (p-<short>). */
  short: string;
  namespace: string;
  address: string;
}

/** The hosts of a plan: the router, the API forwarder and the nodes. */
export function fabricHosts(plan: LabPlan): FabricHost[] {
  return [
    { short: 'rtr', namespace: plan.router.namespace, address: plan.router.address },
    { short: 'api', namespace: plan.api.namespace, address: plan.api.address },
    ...plan.nodes.map((n) => ({ short: n.short, namespace: n.namespace, address: n.address })),
  ];
}

/** The `ip` commands that build the fabric, in order: the switch first, then each host (which may run in parallel). */
export function fabricCommands(plan: LabPlan): { switch: string[][]; hosts: string[][][] } {
  const sw = plan.switchNamespace;
  return {
    switch: [
      ['netns', 'add', sw],
      ['-n', sw, 'link', 'set', 'lo', 'up'],
      ['-n', sw, 'link', 'add', 'br0', 'type', 'bridge'],
      ['-n', sw, 'link', 'set', 'br0', 'up'],
    ],
    hosts: fabricHosts(plan).map((h) => {
      const port = `p-${h.short}`;
      return [
        ['netns', 'add', h.namespace],
        ['-n', h.namespace, 'link', 'set', 'lo', 'up'],
        ['link', 'add', 'eth0', 'netns', h.namespace, 'type', 'veth', 'peer', 'name', port, 'netns', sw],
        ['-n', sw, 'link', 'set', port, 'master', 'br0'],
        ['-n', sw, 'link', 'set', port, 'up'],
        ['-n', h.namespace, 'addr', 'add', `${h.address}/${FABRIC_PREFIX_LENGTH}`, 'dev', 'eth0'],
        ['-n', h.namespace, 'link', 'set', 'eth0', 'up'],
      ];
    }),
  };
}

/** Creates the fabric's namespaces, bridge, links and addresses. The caller removes them (state.ts) also when this fails half way. */
export async function createFabric(plan: LabPlan): Promise<void> {
  const { switch: sw, hosts } = fabricCommands(plan);
  for (const args of sw) await ip(...args);
  await Promise.all(
    hosts.map(async (commands) => {
      for (const args of commands) await ip(...args);
    }),
  );
}
