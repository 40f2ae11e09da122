// The configuration from the cluster: our four kinds (IPAddressPool, BGPPeer, BGPAdvertisement,
// BFDProfile) in one namespace, plus the Secrets BGPPeers name in passwordSecret. Every change (after
// a short debounce, so that `kubectl apply -f dir/` gives one configuration, not ten) re-validates the
// whole set. A valid whole is emitted as 'config'; any problem in any object rejects the whole and
// emits 'rejected', and the previous good configuration stays in force (config/validate.ts says why).
//
// With writeStatus on (the leader only), each object gets an Accepted condition saying whether it is
// in force and, if not, what is wrong with it, so `kubectl get bgppeers -o yaml` explains a rejection.
import { EventEmitter } from 'node:events';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock, type TimerHandle } from '@bgp-announce/bgp-speaker';
import { validateConfig, problemsOf } from '../config/validate.js';
import {
  API_GROUP,
  API_GROUP_VERSION,
  API_VERSION,
  ConfigError,
  formatProblem,
  type AnnouncerConfig,
  type ConfigProblem,
} from '../config/types.js';
import { errorText, silentLogger, statusCodeOf, withTimeout, type KubeLogger } from './api-errors.js';
import type { ObjectCache } from './cache.js';
import type { WatchTuning } from './informer.js';
import {
  CONFIG_PLURALS,
  PASSWORD_SECRET_TYPE,
  watchConfigObjects,
  watchSecrets,
  type ClusterConfigKind,
  type CustomObject,
  type Secret,
  type StatusCondition,
} from './watches.js';

export interface ConfigSourceOptions extends WatchTuning {
  kubeConfig: KubeConfig;
  /** Where our objects (and the password Secrets) live. */
  namespace: string;
  /** Quiet time after the last change before validating. Default 100 ms. */
  debounceMs?: number;
  /** Write Accepted conditions (turn on only in the leader; see setWriteStatus). Default false. */
  writeStatus?: boolean;
}

export interface ConfigSourceEvents {
  /** A new valid configuration (also after a rejection is fixed). */
  config: [config: AnnouncerConfig];
  /** The objects changed and have problems; the previous configuration stays. */
  rejected: [error: ConfigError];
}

/** The status condition we write on each of our objects. */
export const ACCEPTED_CONDITION = 'Accepted';
/** The Secret type a BGPPeer's passwordSecret must have (as MetalLB; key "password"). */
export { PASSWORD_SECRET_TYPE };
const MAX_PASSWORD_BYTES = 80;
const KINDS = Object.keys(CONFIG_PLURALS) as ClusterConfigKind[];

/** Watches, validates and reports the configuration kept in the cluster. */
export class KubeConfigSource extends EventEmitter<ConfigSourceEvents> {
  private readonly caches = new Map<ClusterConfigKind, ObjectCache<CustomObject>>();
  private secrets: ObjectCache<Secret> | undefined;
  private readonly custom: CustomObjectsApi;
  private readonly clock: Clock;
  private readonly logger: KubeLogger;
  private readonly debounceMs: number;
  private writeStatus: boolean;
  private running = false;
  private isSynced = false;
  private debounceTimer: TimerHandle | undefined;
  private firstChangeAt: number | undefined;
  private evaluating = false;
  private evaluateAgain = false;
  private statusRetryMs = 0;
  private config: AnnouncerConfig | undefined;
  private configJson: string | undefined;
  private error: ConfigError | undefined;
  private readonly onChange = (): void => this.changed();

  constructor(private readonly options: ConfigSourceOptions) {
    super();
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.debounceMs = options.debounceMs ?? 100;
    this.writeStatus = options.writeStatus ?? false;
  }

  /** Starts the watches; the first evaluation comes once every watch has listed. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const { kubeConfig, namespace, debounceMs: _d, writeStatus: _w, ...tuning } = this.options;
    for (const kind of KINDS)
      this.caches.set(kind, watchConfigObjects(kubeConfig, kind, namespace, tuning).on('change', this.onChange));
    this.secrets = watchSecrets(kubeConfig, namespace, tuning).on('change', this.onChange);
    void this.synced().then(() => {
      if (!this.running) return;
      this.isSynced = true;
      this.schedule(0);
    });
  }

  /** Resolves once every watch has listed (the first evaluation follows at once). */
  async synced(): Promise<void> {
    await Promise.all([...this.caches.values(), ...(this.secrets ? [this.secrets] : [])].map((c) => c.synced()));
  }

  /** The configuration in force (the last valid one), if any yet. */
  current(): AnnouncerConfig | undefined {
    return this.config;
  }

  /** The problems of the latest objects when they were rejected; undefined when they are in force. */
  lastError(): ConfigError | undefined {
    return this.error;
  }

  /** Turns the writing of Accepted conditions on (leader) or off; turning it on writes them now. */
  setWriteStatus(on: boolean): void {
    if (this.writeStatus === on) return;
    this.writeStatus = on;
    if (on && this.isSynced) this.schedule(0);
  }

  /** Stops every watch and timer. */
  stop(): void {
    this.running = false;
    if (this.debounceTimer !== undefined) this.clock.clearTimer(this.debounceTimer);
    this.debounceTimer = undefined;
    for (const cache of this.caches.values()) cache.off('change', this.onChange).stop();
    this.secrets?.off('change', this.onChange).stop();
  }

  private changed(): void {
    if (!this.isSynced) return;
    const now = this.clock.now();
    this.firstChangeAt ??= now;
    // Trailing debounce, but never put off for more than ten quiet periods by a steady trickle.
    const waited = now - this.firstChangeAt;
    this.schedule(Math.max(0, Math.min(this.debounceMs, this.debounceMs * 10 - waited)));
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.debounceTimer !== undefined) this.clock.clearTimer(this.debounceTimer);
    this.debounceTimer = this.clock.setTimer(ms, () => {
      this.debounceTimer = undefined;
      this.firstChangeAt = undefined;
      void this.evaluate();
    });
  }

  /** Validates the current objects, emits, and (when on) writes statuses. One at a time. */
  private async evaluate(): Promise<void> {
    if (this.evaluating) {
      this.evaluateAgain = true;
      return;
    }
    this.evaluating = true;
    try {
      do {
        this.evaluateAgain = false;
        const objects = this.objects();
        const { config, problems } = validateConfig(objects);
        problems.push(...this.resolvePasswords(config));
        this.decide(config, problems);
        if (this.writeStatus && this.running) await this.writeStatuses(objects, problems);
      } while (this.evaluateAgain && this.running);
    } catch (err) {
      this.logger.error({ err: errorText(err) }, 'config: evaluation failed');
    } finally {
      this.evaluating = false;
    }
  }

  /** Our objects from every cache, with apiVersion and kind filled in, in a stable order. */
  private objects(): CustomObject[] {
    const all: CustomObject[] = [];
    for (const kind of KINDS) {
      const items = this.caches.get(kind)?.list() ?? [];
      items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
      for (const item of items)
        all.push({ ...item, apiVersion: item.apiVersion ?? API_GROUP_VERSION, kind: item.kind ?? kind });
    }
    return all;
  }

  private decide(config: AnnouncerConfig, problems: ConfigProblem[]): void {
    if (problems.length > 0) {
      const error = new ConfigError(problems);
      if (this.error?.message === error.message) return;
      this.error = error;
      this.logger.warn(
        { problems: problems.map(formatProblem) },
        'config: rejected; the previous configuration stays in force',
      );
      this.emit('rejected', error);
      return;
    }
    const json = JSON.stringify(config);
    if (json === this.configJson && this.error === undefined) return;
    this.config = config;
    this.configJson = json;
    this.error = undefined;
    this.logger.info(
      {
        pools: config.pools.length,
        peers: config.peers.length,
        advertisements: config.advertisements.length,
        bfdProfiles: config.bfdProfiles.length,
      },
      'config: accepted',
    );
    this.emit('config', config);
  }

  /** Fills `password` of each BGPPeer that names a passwordSecret; a problem for each that cannot be. */
  private resolvePasswords(config: AnnouncerConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    for (const peer of config.peers) {
      if (peer.passwordSecret === undefined) continue;
      const problem = (message: string): void => {
        problems.push({ kind: 'BGPPeer', name: peer.name, field: 'spec.passwordSecret', message });
      };
      const namespace = peer.passwordSecret.namespace ?? this.options.namespace;
      const ref = `${namespace}/${peer.passwordSecret.name}`;
      if (namespace !== this.options.namespace) {
        problem(`Secret ${ref}: must be in namespace ${this.options.namespace}, where the announcer reads Secrets`);
        continue;
      }
      const secret = this.secrets?.get(ref);
      if (secret === undefined) {
        // Only Secrets of this type are watched: one of another type is never seen, so say both.
        problem(
          `Secret ${ref} of type ${PASSWORD_SECRET_TYPE} not found (the announcer reads only Secrets of that type: create it with type ${PASSWORD_SECRET_TYPE} and the key "password")`,
        );
        continue;
      }
      if (secret.type !== PASSWORD_SECRET_TYPE) {
        problem(
          `Secret ${ref} must be of type ${PASSWORD_SECRET_TYPE}, got ${JSON.stringify(secret.type ?? 'Opaque')}`,
        );
        continue;
      }
      const encoded = secret.data?.password;
      const password = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8');
      if (password === '') problem(`Secret ${ref} has no key "password" (or it is empty)`);
      else if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
        problem(
          `Secret ${ref}: the password is ${Buffer.byteLength(password)} bytes long; a TCP MD5 key is at most ${MAX_PASSWORD_BYTES}`,
        );
      else peer.password = password;
    }
    return problems;
  }

  /** The Accepted condition each object should carry; written where it differs. */
  private async writeStatuses(objects: CustomObject[], problems: ConfigProblem[]): Promise<void> {
    const invalid = [...new Set(problems.map((p) => `${p.kind} ${p.name}`))];
    let failed = false;
    for (const object of objects) {
      const kind = object.kind as ClusterConfigKind;
      const name = object.metadata?.name ?? '';
      const own = problemsOf(problems, kind, name);
      const others = invalid.filter((o) => o !== `${kind} ${name}`);
      const wanted =
        own.length > 0
          ? {
              status: 'False' as const,
              reason: 'Invalid',
              message: own.map((p) => `${p.field}: ${p.message}`).join('; '),
            }
          : others.length > 0
            ? {
                status: 'False' as const,
                reason: 'ConfigRejected',
                message: `valid, but not in force: the configuration has problems in ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', ...' : ''}`,
              }
            : { status: 'True' as const, reason: 'Accepted', message: 'in force' };
      if (!(await this.writeCondition(kind, object, wanted))) failed = true;
    }
    if (failed) {
      // Retry (with back-off) even if nothing changes; a 409 alone is followed by the watch event.
      this.statusRetryMs = Math.min(30_000, Math.max(1000, this.statusRetryMs * 2));
      this.schedule(this.statusRetryMs);
    } else {
      this.statusRetryMs = 0;
    }
  }

  /** Writes the condition if it differs from the one the object has; false when the write failed. */
  private async writeCondition(
    kind: ClusterConfigKind,
    object: CustomObject,
    wanted: Pick<StatusCondition, 'status' | 'reason' | 'message'>,
  ): Promise<boolean> {
    const generation = object.metadata?.generation;
    const conditions = object.status?.conditions ?? [];
    const existing = conditions.find((c) => c.type === ACCEPTED_CONDITION);
    const message = wanted.message.length > 32_000 ? `${wanted.message.slice(0, 31_997)}...` : wanted.message;
    if (
      existing &&
      existing.status === wanted.status &&
      existing.reason === wanted.reason &&
      existing.message === message &&
      existing.observedGeneration === generation
    )
      return true;
    const condition: StatusCondition = {
      type: ACCEPTED_CONDITION,
      ...wanted,
      message,
      lastTransitionTime:
        existing?.status === wanted.status
          ? existing.lastTransitionTime
          : new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    if (generation !== undefined) condition.observedGeneration = generation;
    const body: CustomObject = {
      ...object,
      status: { ...object.status, conditions: [...conditions.filter((c) => c.type !== ACCEPTED_CONDITION), condition] },
    };
    const name = object.metadata?.name ?? '';
    try {
      const request = this.custom.replaceNamespacedCustomObjectStatus({
        group: API_GROUP,
        version: API_VERSION,
        namespace: this.options.namespace,
        plural: CONFIG_PLURALS[kind],
        name,
        body,
      });
      await withTimeout(request, 30_000);
      return true;
    } catch (err) {
      const code = statusCodeOf(err);
      if (code === 404 || code === 409) return true; // deleted, or changed meanwhile: its watch event brings us back
      this.logger.warn(
        { object: `${kind} ${name}`, err: errorText(err) },
        'config: cannot write the Accepted condition',
      );
      return false;
    }
  }
}
