// AS loop detection (RFC 4271 9.1.2): a route whose AS_PATH holds the local system's AS is not eligible
// for the decision process. It is how a router echoing our own route back looks (an eBGP router sends
// back what it learnt from us unless it filters it), and a path that already went through us.
import { reconcileAsPath, type PathAttributes } from '@bgp-announce/bgp-wire';

/**
 * True when `localAs` appears anywhere in the route's AS path: every segment, sets and confederation
 * segments included ("scanning the full AS_PATH", as GoBGP and FRR do), with a 2-octet peer's
 * AS4_PATH merged in (RFC 6793), so that a 4-octet local AS is found behind AS_TRANS.
 */
export function hasAsLoop(attributes: Pick<PathAttributes, 'asPath' | 'as4Path'>, localAs: number): boolean {
  const { asPath, as4Path } = attributes;
  if (asPath === undefined) return false;
  const path = as4Path === undefined ? asPath : reconcileAsPath(asPath, as4Path);
  for (const segment of path) if (segment.asns.includes(localAs)) return true;
  return false;
}
