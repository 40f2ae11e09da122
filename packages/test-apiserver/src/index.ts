// @bgp-announce/test-apiserver: a Kubernetes API server over an in-memory store, for tests and the lab.
export { start, start as startTestApiServer, TestApiServer, type StartOptions } from './server.js';
export { BGP_ANNOUNCE_CRDS } from './resources.js';
export { ApiError } from './status.js';
export type { StorageInitializing } from './startup-faults.js';
export { kubeconfigOptions, kubeconfigYaml, type KubeConfigOptions } from './kubeconfig.js';
export type {
  ApiVerb,
  CustomResourceDefinition,
  KubeObject,
  ObjectMeta,
  PrinterColumn,
  RequestRecord,
  ResourceType,
  Validator,
} from './types.js';
