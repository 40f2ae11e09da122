// One node's reconcile loop, shared by the Kubernetes and the config-file sources: plan what this
// node announces (announce-plan.ts), move the Speaker's peers to the planned ones and apply the
// route difference. Reconciles run one at a time; requests that arrive meanwhile are folded into one
// more run, so a burst of watch events costs two plans, not hundreds.
import { planAnnouncements, type AnnouncePlan, type PlanInput } from '../plan/announce-plan.js';
import type { PeerOptions } from '@bgp-announce/bgp-speaker';
import { applyPeers, peerOptionsFor } from './peer-options.js';
import { RouteApplier } from './apply-routes.js';
import { carriedBySessions } from './session-families.js';
import type { DaemonContext } from './source.js';
import { HealthChecks, type HealthChange, type HealthCheckView } from '../health/health-monitor.js';

/** Everything one reconcile reads: the plan's input and the node's addresses (BFD source addresses). */
export interface ReconcileInput extends PlanInput {
  nodeAddresses: readonly string[];
}

export class NodeReconciler {
  private readonly routes: RouteApplier;
  private readonly peers = new Map<string, PeerOptions>();
  private running: Promise<void> | undefined;
  /** The loop is between its start and its last look at `again` (cleared in the same step, so no request falls in between). */
  private looping = false;
  private again = false;
  private last: AnnouncePlan | undefined;
  private lastPeerErrors = '';
  /** The health checks of the StaticRoutes that have one; a change of status replans. */
  private readonly health: HealthChecks;

  /** `read` gives the current state when a reconcile starts (so a queued run sees the newest). */
  constructor(
    private readonly ctx: DaemonContext,
    private readonly read: () => ReconcileInput | undefined,
  ) {
    this.routes = new RouteApplier(ctx.speaker);
    this.health = new HealthChecks((change) => this.healthChanged(change));
    ctx.readHealthChecks?.(() => this.health.list());
  }

  /** Every health check now (admin endpoint, status, metrics). */
  healthChecks(): HealthCheckView[] {
    return this.health.list();
  }

  /** Stops the health checks and any held route change (the routes stay on the Speaker). */
  stop(): void {
    this.health.stop();
    this.routes.stop();
  }

  private healthChanged(change: HealthChange): void {
    const { route, from, to, last } = change;
    const what =
      to === 'up'
        ? 'announcing it'
        : to === 'draining'
          ? 'announcing it with GRACEFUL_SHUTDOWN before the withdrawal'
          : to === 'down'
            ? 'not announcing it'
            : 'waiting';
    const log = to === 'up' ? this.ctx.logger.info.bind(this.ctx.logger) : this.ctx.logger.warn.bind(this.ctx.logger);
    log(
      { route, from, to, last: last?.detail, durationMs: last?.durationMs },
      `health check of StaticRoute ${route}: ${from} -> ${to}, ${what}`,
    );
    this.ctx.observeHealthChange?.(route, to);
    void this.request();
  }

  /** Asks for a reconcile; resolves when one that started after this call has finished. */
  request(): Promise<void> {
    this.again = true; // a running loop goes round once more, reading the state anew
    if (!this.looping) this.running = this.loop();
    return this.running!;
  }

  /** The last plan applied (for the admin endpoint and Service conditions). */
  plan(): AnnouncePlan | undefined {
    return this.last;
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.again) {
        this.again = false;
        const input = this.read();
        if (input === undefined) return;
        const started = performance.now();
        try {
          await this.reconcile(input);
          this.ctx.observeReconcile((performance.now() - started) / 1000, 'ok');
        } catch (err) {
          this.ctx.observeReconcile((performance.now() - started) / 1000, 'error');
          this.ctx.logger.error({ err }, 'reconcile failed; the previous routes stay announced');
        }
      }
    } finally {
      this.looping = false;
    }
  }

  private async reconcile(input: ReconcileInput): Promise<void> {
    this.health.sync(input.config.staticRoutes);
    const plan = carriedBySessions(planAnnouncements({ ...input, healthOf: (name) => this.health.statusOf(name) }));
    for (const w of plan.warnings) if (!this.last?.warnings.includes(w)) this.ctx.logger.warn(w);
    const wanted = new Map<string, PeerOptions>();
    const errors: string[] = [];
    for (const peer of plan.peers) {
      try {
        wanted.set(
          peer.name,
          peerOptionsFor(peer, {
            bfdProfiles: input.config.bfdProfiles,
            nodeAddresses: input.nodeAddresses,
            unschedulable: input.node?.spec?.unschedulable === true,
          }),
        );
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    const changes = await applyPeers(this.ctx.speaker, wanted, this.peers);
    for (const f of changes.failed) errors.push(`BGPPeer ${f.id}: ${f.error}`);
    const errorText = errors.join('; ');
    if (errorText !== this.lastPeerErrors && errors.length > 0)
      this.ctx.logger.error({ errors }, 'some BGP peers could not be started');
    this.lastPeerErrors = errorText;
    if (changes.added.length + changes.updated.length + changes.removed.length > 0) {
      this.ctx.logger.info(
        { added: changes.added, updated: changes.updated, removed: changes.removed },
        'BGP peers changed',
      );
    }
    const counts = this.routes.apply(plan.routes, plan.weightUpdateIntervalMs);
    if (counts.announced + counts.withdrawn > 0) this.ctx.logger.debug(counts, 'routes changed');
    this.last = plan;
  }
}
