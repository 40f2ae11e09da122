// The source address the kernel would pick toward a router: connecting a UDP socket chooses the
// route and the local address without sending anything, and needs no privilege.
import { createSocket } from 'node:dgram';
import { isIpv4, isIpv6 } from '@bgp-announce/bgp-wire';

/** Our source address toward `address` (port is only part of the route lookup), or undefined with no route. */
export function kernelSourceAddress(address: string, port = 179): Promise<string | undefined> {
  const type = isIpv4(address) ? 'udp4' : isIpv6(address.split('%')[0]!) ? 'udp6' : undefined;
  if (type === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = createSocket(type);
    let settled = false;
    const done = (value: string | undefined) => {
      if (settled) return;
      settled = true;
      socket.close();
      resolve(value);
    };
    socket.once('error', () => done(undefined));
    try {
      socket.connect(port, address, () => {
        try {
          done(socket.address().address);
        } catch {
          done(undefined);
        }
      });
    } catch {
      done(undefined);
    }
  });
}

/** kernelSourceAddress for each address; those without a route are left out. */
export async function kernelSources(
  targets: readonly { address: string; port: number }[],
): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const t of targets) {
    const source = await kernelSourceAddress(t.address, t.port);
    if (source !== undefined) result.set(t.address, source);
  }
  return result;
}
