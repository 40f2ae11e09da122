// Accept-header negotiation for resource requests, as apimachinery's NegotiateMediaTypeOptions does
// it: clauses sorted by q (then specificity), the first one the endpoint can serve wins. A clause
// with `as=Table;v=v1;g=meta.k8s.io` (json or yaml) asks for a Table, `as=PartialObjectMetadata[List]`
// for metadata only; a clause asking for another conversion is skipped; no usable clause is 406.
// The body is always JSON here, whatever media type was chosen (yaml and protobuf are not produced).
import { ApiError } from './status.js';

/** What the response is transformed into (mediaType's Convert). */
export interface MetaTarget {
  kind: 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';
  apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';
}

/** The outcome: the media type chosen and the transformation, if any. */
export interface Negotiated {
  mediaType: string;
  target?: MetaTarget;
}

/** The media types a resource endpoint serves, in the server's order of preference. */
const SERIALIZERS = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

interface Clause {
  type: string;
  subType: string;
  q: number;
  params: Map<string, string>;
}

/** goautoneg.ParseAccept: clauses in order of q, then concrete before wildcard types (stable). */
function parseAccept(header: string): Clause[] {
  const out: Clause[] = [];
  for (const raw of header.split(',')) {
    const [range = '', ...params] = raw.trim().split(';');
    const sp = range.split('/');
    const type = (sp[0] ?? '').trim();
    let subType: string;
    if (sp.length === 1 && type === '*') subType = '*';
    else if (sp.length === 2) subType = (sp[1] ?? '').trim();
    else continue;
    const clause: Clause = { type, subType, q: 1, params: new Map() };
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const token = p.slice(0, eq).trim();
      if (token === 'q') clause.q = Number.parseFloat(p.slice(eq + 1)) || 0;
      else clause.params.set(token, p.slice(eq + 1).trim());
    }
    out.push(clause);
  }
  const less = (a: Clause, b: Clause): boolean =>
    a.q > b.q || (a.type !== '*' && b.type === '*') || (a.subType !== '*' && b.subType === '*');
  // Insertion sort, as Go's sort.Sort does for so few elements (stable for equal clauses).
  for (let i = 1; i < out.length; i++) {
    for (let j = i; j > 0 && less(out[j] as Clause, out[j - 1] as Clause); j--)
      [out[j - 1], out[j]] = [out[j] as Clause, out[j - 1] as Clause];
  }
  return out;
}

/** acceptMediaTypeOptions + AllowsMediaTypeTransform for one clause and one serializer. */
function accept(clause: Clause, mediaType: string): Negotiated | undefined {
  const as = clause.params.get('as');
  const g = clause.params.get('g');
  const v = clause.params.get('v');
  if (as === undefined && g === undefined && v === undefined) return { mediaType };
  if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) return undefined;
  const apiVersion = `meta.k8s.io/${v}` as const;
  switch (as) {
    case 'Table':
      if (mediaType !== 'application/json' && mediaType !== 'application/yaml') return undefined;
      return { mediaType, target: { kind: 'Table', apiVersion } };
    case 'PartialObjectMetadata':
    case 'PartialObjectMetadataList':
      return { mediaType, target: { kind: as, apiVersion } };
    default:
      return undefined;
  }
}

/** Negotiates a resource request's Accept header; throws 406 NotAcceptable when nothing fits. */
export function negotiate(header: string | undefined): Negotiated {
  if (!header) return { mediaType: SERIALIZERS[0] as string };
  for (const clause of parseAccept(header)) {
    for (const mediaType of SERIALIZERS) {
      const [type, subType] = mediaType.split('/');
      const matches =
        (clause.type === type && (clause.subType === subType || clause.subType === '*')) ||
        (clause.type === '*' && clause.subType === '*');
      if (!matches) continue;
      const n = accept(clause, mediaType);
      if (n) return n;
    }
  }
  throw new ApiError(406, 'NotAcceptable', `only the following media types are accepted: ${SERIALIZERS.join(', ')}`);
}
