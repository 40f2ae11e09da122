// Where the Kubernetes API is and how to authenticate: an explicit URL (tests, the lab, KubePrism),
// a kubeconfig file, or the pod's service account. Each way that does not work says why, in one line
// a person can act on, instead of client-node's stack traces.
import fs from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/** The pod's service account directory (token, ca.crt, namespace). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnectOptions {
  /** The API server's URL, e.g. "http://127.0.0.1:6443" (tests, lab) or "https://127.0.0.1:7445" (Talos KubePrism). */
  url?: string;
  /** A bearer token for `url`. */
  token?: string;
  /** Do not check the server's TLS certificate (`url` only; lab use). */
  insecureSkipTlsVerify?: boolean;
  /** A kubeconfig file. */
  kubeconfig?: string;
  /** A context of the kubeconfig other than its current one. */
  context?: string;
  /** Environment (KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT); default process.env. */
  env?: Record<string, string | undefined>;
  /** Default SERVICE_ACCOUNT_DIR. */
  serviceAccountDir?: string;
  /** Where ~/.kube/config is looked for; default the user's home. */
  homeDir?: string;
  /**
   * The User-Agent of every request, so audit logs tell us apart: "bgp-announce/0.1.0 (node-1)".
   * Default client-node's own ("node-fetch/1.0").
   */
  userAgent?: string;
}

/** No usable Kubernetes API configuration; the message says what was tried and what failed. */
export class KubeConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeConnectError';
  }
}

/** A KubeConfig and a few words on where it came from ("in-cluster service account", "kubeconfig /x"). */
export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  source: string;
  /** The namespace the source names (service account's, or the kubeconfig context's), if any. */
  namespace?: string;
}

/**
 * Builds a KubeConfig from, in this order: `url`; `kubeconfig`; $KUBECONFIG; the in-cluster service
 * account; ~/.kube/config. An explicitly given way that fails is an error (no falling through to the
 * next one); throws KubeConnectError when nothing works.
 */
export function loadKubeConfig(options: KubeConnectOptions = {}): LoadedKubeConfig {
  const loaded = findKubeConfig(options);
  if (options.userAgent !== undefined) setUserAgent(loaded.kubeConfig, options.userAgent);
  return loaded;
}

/** "bgp-announce/<version> (<node>)", the User-Agent the daemon and the CLI send. */
export function userAgentOf(component: string, version: string, node?: string): string {
  return node ? `${component}/${version} (${node})` : `${component}/${version}`;
}

/**
 * Every request made through this KubeConfig carries this User-Agent: the generated API clients take
 * their headers from applySecurityAuthentication, Watch from applyToHTTPSOptions.
 */
function setUserAgent(kc: KubeConfig, userAgent: string): void {
  const applyHttps = kc.applyToHTTPSOptions.bind(kc);
  kc.applyToHTTPSOptions = async (opts) => {
    await applyHttps(opts);
    opts.headers = { ...opts.headers, 'User-Agent': userAgent };
  };
  const applyAuth = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await applyAuth(context);
    context.setHeaderParam('User-Agent', userAgent);
  };
}

function findKubeConfig(options: KubeConnectOptions): LoadedKubeConfig {
  const env = options.env ?? process.env;
  if (options.url !== undefined) return fromUrl(options.url, options);
  if (options.kubeconfig !== undefined) return fromFile(options.kubeconfig, options.context);
  const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((p) => p !== '');
  if (fromEnv !== undefined) return fromFile(fromEnv, options.context, '$KUBECONFIG');
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host !== undefined && host !== '') return inCluster(host, env.KUBERNETES_SERVICE_PORT, dir);
  const home = path.join(options.homeDir ?? homedir(), '.kube', 'config');
  if (fs.existsSync(home)) return fromFile(home, options.context);
  throw new KubeConnectError(
    'no Kubernetes API configuration found: no --kube-url or --kubeconfig given, $KUBECONFIG is not set, ' +
      `KUBERNETES_SERVICE_HOST is not set (not running in a pod), and ${home} does not exist`,
  );
}

function fromUrl(url: string, options: KubeConnectOptions): LoadedKubeConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KubeConnectError(
      `API server URL ${JSON.stringify(url)} is not a URL (expected e.g. https://127.0.0.1:6443)`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new KubeConnectError(`API server URL ${JSON.stringify(url)} must start with http:// or https://`);
  }
  const server = url.replace(/\/+$/, '');
  const kubeConfig = new KubeConfig();
  const user = options.token === undefined ? { name: 'user' } : { name: 'user', token: options.token };
  kubeConfig.loadFromOptions({
    // client-node refuses http:// unless skipTLSVerify is set (there is no TLS to verify then).
    clusters: [
      {
        name: 'cluster',
        server,
        skipTLSVerify: parsed.protocol === 'http:' || (options.insecureSkipTlsVerify ?? false),
      },
    ],
    users: [user],
    contexts: [{ name: 'context', cluster: 'cluster', user: 'user' }],
    currentContext: 'context',
  });
  return { kubeConfig, source: `API server ${server}` };
}

function fromFile(file: string, context: string | undefined, via = 'kubeconfig'): LoadedKubeConfig {
  const where = `${via} ${file}`;
  if (!fs.existsSync(file)) throw new KubeConnectError(`${where}: no such file`);
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(file);
  } catch (err) {
    throw new KubeConnectError(`${where}: cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  const contexts = (kubeConfig.getContexts() ?? []).map((c) => c.name);
  if (context !== undefined) {
    if (!contexts.includes(context))
      throw new KubeConnectError(
        `${where}: has no context ${JSON.stringify(context)} (it has: ${contexts.join(', ') || 'none'})`,
      );
    kubeConfig.setCurrentContext(context);
  }
  const current = kubeConfig.getCurrentContext();
  if (current === undefined || current === '' || kubeConfig.getContextObject(current) === null) {
    throw new KubeConnectError(
      `${where}: no current context set (it has: ${contexts.join(', ') || 'none'}); choose one with --kube-context`,
    );
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null || !cluster.server)
    throw new KubeConnectError(`${where}: context ${JSON.stringify(current)} names no cluster with a server address`);
  const namespace = kubeConfig.getContextObject(current)?.namespace;
  return {
    kubeConfig,
    source: `${where} (context ${current}, server ${cluster.server})`,
    ...(namespace ? { namespace } : {}),
  };
}

function inCluster(host: string, port: string | undefined, dir: string): LoadedKubeConfig {
  const where = 'in-cluster service account';
  const tokenFile = path.join(dir, 'token');
  const caFile = path.join(dir, 'ca.crt');
  if (port === undefined || port === '')
    throw new KubeConnectError(`${where}: KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not`);
  if (!fs.existsSync(tokenFile)) {
    throw new KubeConnectError(
      `${where}: ${tokenFile} does not exist (is automountServiceAccountToken off for the pod?)`,
    );
  }
  const scheme = port === '80' || port === '8080' ? 'http' : 'https';
  const server = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      { name: 'in-cluster', server, skipTLSVerify: scheme === 'http', ...(fs.existsSync(caFile) ? { caFile } : {}) },
    ],
    users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster' }],
    currentContext: 'in-cluster',
  });
  const namespaceFile = path.join(dir, 'namespace');
  const namespace = fs.existsSync(namespaceFile) ? fs.readFileSync(namespaceFile, 'utf8').trim() : undefined;
  return { kubeConfig, source: `${where} (server ${server})`, ...(namespace ? { namespace } : {}) };
}
