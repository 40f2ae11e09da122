// A receiving router for the daemon and controller tests: a bare SessionDriver in passive mode on
// 127.0.0.1 (an ephemeral port) that keeps every UPDATE it decodes and the routes they leave, so a
// test can check what a Speaker really sent without trusting the Speaker's own view.
import type { Test } from 'tap';
import type { PathAttributes, UpdateMessage } from '@bgp-announce/bgp-wire';
import { SessionDriver } from '@bgp-announce/bgp-speaker/session';
import { peerConfig } from '@bgp-announce/bgp-speaker';
import { next } from '../../../bgp-speaker/test/helpers/events.js';

export interface Receiver {
  driver: SessionDriver;
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Every UPDATE received, in order (End-of-RIB included). */
  updates: UpdateMessage[];
  /** The routes it holds now: prefix to the attributes of the last UPDATE that announced it. */
  routes: Map<string, PathAttributes>;
}

/** Starts a passive receiver (AS 64497, identifier 192.0.2.250) expecting AS `peerAs`; stopped in teardown. */
export async function startReceiver(t: Test, peerAs = 64496): Promise<Receiver> {
  const driver = new SessionDriver({
    config: peerConfig({
      localAs: 64497,
      peerAs,
      bgpId: '192.0.2.250',
      mode: 'passive',
      families: ['ipv4-unicast', 'ipv6-unicast'],
    }),
    peerAddress: '127.0.0.1',
    listen: { host: '127.0.0.1', port: 0 },
  });
  const updates: UpdateMessage[] = [];
  const routes = new Map<string, PathAttributes>();
  driver.on('update', (update: UpdateMessage) => {
    updates.push(update);
    for (const w of [...update.withdrawn, ...(update.attributes.mpUnreach?.withdrawn ?? [])]) routes.delete(w.prefix);
    for (const n of [...update.nlri, ...(update.attributes.mpReach?.nlri ?? [])])
      routes.set(n.prefix, update.attributes);
  });
  driver.on('error', () => {});
  const listening = next(driver, 'listening');
  driver.start();
  const [{ port }] = (await listening) as [{ port: number }];
  t.teardown(() => driver.stop());
  return { driver, port, updates, routes };
}

/** The prefixes an UPDATE announces (NLRI and MP_REACH), sorted. */
export function announcedIn(u: UpdateMessage): string[] {
  return [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map((n) => n.prefix).sort();
}

/** The prefixes an UPDATE withdraws, sorted. */
export function withdrawnIn(u: UpdateMessage): string[] {
  return [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])].map((n) => n.prefix).sort();
}
