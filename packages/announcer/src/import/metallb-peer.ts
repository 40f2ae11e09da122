// MetalLB's BGPPeer (metallb.io/v1beta2, and the older v1beta1 whose fields are a subset) to ours.
// Most fields mean the same and are copied; what differs is noted, and a peer we cannot run as
// MetalLB would (unnumbered, in a VRF, with a learned AS) is left out with what to do instead.
import { describe, type Fields } from '../config/check.js';
import {
  type ImportContext,
  changed,
  copyFields,
  needsUser,
  optionalString,
  present,
  problem,
  unknownFields,
} from './metallb-context.js';

/** The spec fields of MetalLB's BGPPeer (v1beta2; v1beta1 has fewer). */
export const METALLB_PEER_FIELDS = [
  'myASN',
  'peerASN',
  'dynamicASN',
  'peerAddress',
  'interface',
  'sourceAddress',
  'peerPort',
  'holdTime',
  'keepaliveTime',
  'connectTime',
  'routerID',
  'nodeSelectors',
  'password',
  'passwordSecret',
  'bfdProfile',
  'enableGracefulRestart',
  'ebgpMultiHop',
  'vrf',
  'disableMP',
  'dualStackAddressFamily',
] as const;

/** Fields that mean the same in ours and are copied as they are (our validation checks their values). */
const COPIED = [
  'myASN',
  'peerASN',
  'peerAddress',
  'sourceAddress',
  'peerPort',
  'holdTime',
  'keepaliveTime',
  'connectTime',
  'routerID',
  'nodeSelectors',
  'password',
  'bfdProfile',
  'enableGracefulRestart',
  'ebgpMultiHop',
] as const;

/** MetalLB's connectTime default (FRR's). */
const METALLB_CONNECT_TIME = '120s';

export interface PeerNamespaces {
  /** Where our objects go (and where our daemon reads Secrets). */
  target: string;
  /** MetalLB's namespace: where its passwordSecrets are when they name none. */
  metallb: string;
}

/** Our BGPPeer spec, or undefined when the peer is left out (noted) or refused (a problem). */
export function convertPeer(ctx: ImportContext, spec: Fields, namespaces: PeerNamespaces): Fields | undefined {
  const before = ctx.problems.length;
  unknownFields(ctx, spec, METALLB_PEER_FIELDS, 'BGPPeer');
  const out: Fields = {};
  copyFields(spec, out, COPIED);

  // Left out: what we cannot run as MetalLB does. Each is looked at, so every reason shows at once.
  let leftOut = false;
  const iface = optionalString(ctx, spec, 'interface');
  if (iface !== undefined) {
    if (present(spec, 'peerAddress') !== undefined)
      problem(ctx, 'spec.interface', 'and spec.peerAddress exclude each other (MetalLB refuses both)');
    needsUser(
      ctx,
      'spec.interface',
      `BGP unnumbered (over interface ${JSON.stringify(iface)}) is not supported: peer not carried over; give the router's address in peerAddress`,
    );
    leftOut = true;
  }
  const vrf = optionalString(ctx, spec, 'vrf');
  if (vrf !== undefined) {
    needsUser(
      ctx,
      'spec.vrf',
      `sessions in a VRF (${JSON.stringify(vrf)}) are not supported: peer not carried over; peer with the router from the default VRF`,
    );
    leftOut = true;
  }
  const dynamicASN = present(spec, 'dynamicASN');
  if (dynamicASN !== undefined) {
    if (present(spec, 'peerASN') !== undefined)
      problem(ctx, 'spec.dynamicASN', 'and spec.peerASN exclude each other (MetalLB refuses both)');
    else if (dynamicASN === 'internal') {
      if (typeof out.myASN === 'number') {
        out.peerASN = out.myASN;
        changed(ctx, 'spec.dynamicASN', `"internal" becomes peerASN: ${out.myASN} (myASN: an iBGP session)`);
      }
    } else if (dynamicASN === 'external') {
      needsUser(
        ctx,
        'spec.dynamicASN',
        `"external" (the router's AS learned from its OPEN) is not supported: peer not carried over; add it by hand with peerASN set to the router's AS`,
      );
      leftOut = true;
    } else problem(ctx, 'spec.dynamicASN', `must be internal or external, got ${describe(dynamicASN)}`);
  }

  readPasswordSecret(ctx, spec, out, namespaces);
  const disableMP = present(spec, 'disableMP');
  if (disableMP === true)
    changed(ctx, 'spec.disableMP', 'left out: our sessions carry only the family of peerAddress, as disableMP asks');
  else if (disableMP !== undefined && disableMP !== false)
    problem(ctx, 'spec.disableMP', `must be true or false, got ${describe(disableMP)}`);
  const dualStack = present(spec, 'dualStackAddressFamily');
  if (dualStack === true)
    needsUser(
      ctx,
      'spec.dualStackAddressFamily',
      "left out: a session carries only the family of peerAddress; for the other family's VIPs add a BGPPeer with the router's address of that family",
    );
  else if (dualStack !== undefined && dualStack !== false)
    problem(ctx, 'spec.dualStackAddressFamily', `must be true or false, got ${describe(dualStack)}`);

  if (out.ebgpMultiHop === true && out.myASN !== undefined && out.myASN === out.peerASN) {
    delete out.ebgpMultiHop;
    changed(ctx, 'spec.ebgpMultiHop', 'left out: the session is iBGP (myASN = peerASN), where ours refuses it');
  }
  if (out.connectTime === undefined)
    changed(
      ctx,
      'spec.connectTime',
      `not set: MetalLB's default is ${METALLB_CONNECT_TIME} (FRR's), ours 2s (our sessions connect out only, so a lost SYN is retried soon); set it to keep ${METALLB_CONNECT_TIME}`,
    );
  if (leftOut || ctx.problems.length !== before) return undefined;
  return out;
}

/**
 * MetalLB reads passwordSecret from its own namespace; our daemon reads Secrets from its namespace
 * only, so the Secret must be copied there (its name and type stay).
 */
function readPasswordSecret(ctx: ImportContext, spec: Fields, out: Fields, namespaces: PeerNamespaces): void {
  const secret = present(spec, 'passwordSecret');
  if (secret === undefined) return;
  if (typeof secret !== 'object' || Array.isArray(secret)) {
    problem(ctx, 'spec.passwordSecret', `must be an object with name (and namespace), got ${describe(secret)}`);
    return;
  }
  const ref = secret as Fields;
  for (const key of Object.keys(ref))
    if (key !== 'name' && key !== 'namespace')
      problem(ctx, `spec.passwordSecret.${key}`, 'unknown field (known fields here: name, namespace)');
  const name = optionalString(ctx, ref, 'name', 'spec.passwordSecret');
  const namespace = optionalString(ctx, ref, 'namespace', 'spec.passwordSecret') ?? namespaces.metallb;
  if (name === undefined) return; // MetalLB ignores a reference without a name
  out.passwordSecret = { name };
  if (namespace !== namespaces.target)
    needsUser(
      ctx,
      'spec.passwordSecret',
      `the Secret ${namespace}/${name} must be in namespace ${namespaces.target}, where bgp-announce reads Secrets: copy it there (same name, type kubernetes.io/basic-auth, key "password")`,
    );
}
