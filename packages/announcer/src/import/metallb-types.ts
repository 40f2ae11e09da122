// `bgp-announce import metallb`: what goes in (MetalLB's objects, each with where it came from), what
// comes out (our objects) and the report (what changed on the way, what needs the user, what input
// could not be read). Plain data; the conversion is pure (metallb-import.ts), I/O lives in the CLI
// and in metallb-cluster.ts.
import type { ConfigKind, KubeObject } from '../config/types.js';

/** MetalLB's API group. */
export const METALLB_GROUP = 'metallb.io';

/** One input document and what to call it when it has no name ("input.yaml:12", "cluster"). */
export interface MetalLBDocument {
  object: unknown;
  origin: string;
}

/**
 * One line of the report about one input object and one of its fields.
 * - `changed`: carried over, but not as written (a default that differs, an alias expanded, ...);
 * - `needs-user`: not carried over (no equivalent) or carried over only once the user acts: the
 *   message says what to do instead;
 * - `kept`: carried over as is, listed for the record (the Service annotations we honour).
 */
export interface ImportNote {
  severity: 'changed' | 'needs-user' | 'kept';
  /** "BGPPeer tor-a (input.yaml:12)". */
  object: string;
  /** "spec.dynamicASN", or "(object)" for the whole object. */
  field: string;
  message: string;
}

/** Input that cannot be read as MetalLB's configuration: which document, which field, why. */
export interface ImportProblem {
  /** "BGPPeer tor-a (input.yaml:12)", or "input.yaml:30" for a document without kind or name. */
  document: string;
  field: string;
  message: string;
}

/** What the import produced. */
export interface MetalLBImportResult {
  /** Our objects (apiVersion bgp-announce.io/v1alpha1), in apply order; empty when there are problems. */
  objects: KubeObject[];
  notes: ImportNote[];
  problems: ImportProblem[];
  /** 0: everything carried over; 1: something needs the user; 2: bad input (problems). */
  status: 0 | 1 | 2;
  /** How many input objects of each MetalLB kind (and "Service") were read. */
  read: Record<string, number>;
}

export interface MetalLBImportOptions {
  /** The namespace our objects are written in (the daemon's --namespace). Default "bgp-announce". */
  namespace?: string;
  /** MetalLB's namespace, where its passwordSecrets live when they name none. Default "metallb-system". */
  metallbNamespace?: string;
}

export const DEFAULT_TARGET_NAMESPACE = 'bgp-announce';
export const DEFAULT_METALLB_NAMESPACE = 'metallb-system';

/** An output object before it is checked, and the input object it came from. */
export interface Converted {
  kind: ConfigKind;
  name: string;
  labels?: Record<string, string>;
  spec: Record<string, unknown>;
  /** The input object's description, for the report ("BGPPeer tor-a (input.yaml:12)"). */
  from: string;
}
