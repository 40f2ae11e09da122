// The lab's router: one of gobgpd, FRR (zebra + bgpd, bfdd with --bfd) or BIRD 2, peering with every
// node, passive (the daemons connect out), with ECMP on. What every kind answers the same way: the
// sessions, the prefixes it holds, and its view of one prefix (its BGP paths and the ECMP next hops it
// would forward to: for FRR and BIRD the kernel route they installed).
import type { Router, RouterSetup } from './router-common.js';

// What a caller that starts a router reads from it (defined in router-common.ts, which the router
// kinds import: they never import this module).
export {
  bfdStateName,
  compareAddresses,
  kernelNextHops,
  kernelRoute,
  parseKernelNextHops,
  parseKernelWeights,
  withBfd,
} from './router-common.js';
export type { Router, RouterPath, RouterRoute, RouterSession, RouterSetup } from './router-common.js';

/** Starts the router the plan names, in its namespace; resolves once it answers queries. */
export async function startRouter(setup: RouterSetup): Promise<Router> {
  switch (setup.plan.peer) {
    case 'gobgp':
      return (await import('./router-gobgp.js')).startGobgp(setup);
    case 'frr':
      return (await import('./router-frr.js')).startFrr(setup);
    case 'bird':
      return (await import('./router-bird.js')).startBird(setup);
  }
}
