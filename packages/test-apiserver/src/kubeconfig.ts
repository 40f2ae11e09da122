// A kubeconfig for the test server: as options for KubeConfig.loadFromOptions, or as YAML text.

/** The shape KubeConfig.loadFromOptions() takes (clusters, users, contexts, currentContext). */
export interface KubeConfigOptions {
  clusters: { name: string; server: string; skipTLSVerify: boolean }[];
  users: { name: string; token?: string }[];
  contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  currentContext: string;
}

const NAME = 'bgp-announce-test';

/**
 * The kubeconfig options for a server URL (plain HTTP, a dummy bearer token, namespace default).
 * skipTLSVerify is set because client-node 1.4 refuses http:// URLs without it.
 */
export function kubeconfigOptions(url: string, token = 'test-token'): KubeConfigOptions {
  return {
    clusters: [{ name: NAME, server: url, skipTLSVerify: true }],
    users: [{ name: NAME, token }],
    contexts: [{ name: NAME, cluster: NAME, user: NAME, namespace: 'default' }],
    currentContext: NAME,
  };
}

/** The same kubeconfig as a YAML file's text (for kubectl or KUBECONFIG). */
export function kubeconfigYaml(url: string, token = 'test-token'): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${NAME}`,
    '  cluster:',
    `    server: ${q(url)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${NAME}`,
    '  user:',
    `    token: ${q(token)}`,
    'contexts:',
    `- name: ${NAME}`,
    '  context:',
    `    cluster: ${NAME}`,
    `    user: ${NAME}`,
    '    namespace: default',
    `current-context: ${NAME}`,
    '',
  ].join('\n');
}
