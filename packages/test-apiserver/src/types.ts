// Plain data shared by every part of the test API server: stored objects, resource types, events.

/** metav1.ObjectMeta, as much of it as the server reads or writes; other fields pass through. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [field: string]: unknown;
}

/** Any Kubernetes object as JSON: apiVersion, kind, metadata and whatever else it carries. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A resource the server serves: one group/version/plural, as its discovery document describes it. */
export interface ResourceType {
  /** '' for the core (legacy) group. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  /** Has a /status subresource: the main PUT ignores status, the status PUT changes only status. */
  statusSubresource: boolean;
  shortNames: string[];
  /** A custom resource: no strategic merge patch, PUT needs metadata.resourceVersion. */
  custom: boolean;
  /** PUT without metadata.resourceVersion is allowed (an unconditional update). */
  allowUnconditionalUpdate: boolean;
  /** Create keeps status (Nodes); otherwise status is dropped on create when statusSubresource. */
  keepStatusOnCreate: boolean;
  /** metadata.generation is set to 1 on create and bumped on spec changes (custom resources, EndpointSlices, Pods). */
  generation: boolean;
  /** DELETE answers the removed object (Services, Pods) rather than a Status with status Success. */
  returnDeletedObject: boolean;
  /** Field selector labels beyond metadata.name and metadata.namespace. */
  fieldSelectors: string[];
  /** Custom resources: the CRD version's additionalPrinterColumns (kubectl's columns come from them). */
  printerColumns?: readonly PrinterColumn[];
}

/** One of a CRD version's additionalPrinterColumns (apiextensions.k8s.io/v1 CustomResourceColumnDefinition). */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** A simple JSONPath evaluated on each object: `.spec.x`, `.spec.list[0]`, `.status.conditions[?(@.type=="Ready")].status`. */
  jsonPath: string;
  format?: string;
  description?: string;
  /** 0 (default) is always shown; greater only with `kubectl get -o wide`. */
  priority?: number;
}

/** A custom resource to register at start, as its CRD would declare it. */
export interface CustomResourceDefinition {
  group: string;
  version: string;
  plural: string;
  kind: string;
  singular?: string;
  /** Default true. */
  namespaced?: boolean;
  /** Has a status subresource; default true. */
  status?: boolean;
  shortNames?: string[];
  /** The served version's additionalPrinterColumns; none means NAME and AGE, as on a real server. */
  additionalPrinterColumns?: readonly PrinterColumn[];
}

/** Watch event types on the wire. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One change recorded by the store (the watch history). */
export interface StoredEvent {
  resourceVersion: number;
  /** resourceKey() of the object's resource. */
  resource: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** The object before the change (MODIFIED), for selector transitions. */
  previous?: KubeObject;
}

/** Extra validation for create/update/patch: error messages; any message makes the request 422 Invalid. */
export type Validator = (kind: string, object: KubeObject) => string[];

/** Kubernetes verbs as RBAC names them. */
export type ApiVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** One request the server answered, for tests that check which calls were made. */
export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Absent for non-resource paths (/api, /version, ...). */
  verb?: ApiVerb;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** HTTP status (200 for a watch that started; a watch refused with 410 still answers 200). */
  status: number;
  /** For watches: the code of an ERROR event sent (410 when the resourceVersion was too old). */
  watchError?: number;
  /** The client's User-Agent header, as audit logs record it. */
  userAgent?: string;
  /** The client's Accept header (kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io,...`). */
  accept?: string;
}
