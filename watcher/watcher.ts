/**
 * The in-cluster watcher: registers the virtual node and renews its lease, turns pod events into nudges,
 * runs the status clock and the periodic resync, all while it is the leader; serves health and metrics
 * always. Built from ports only (Cluster, QueueSender, Clock, Logger): `main.ts` wires the adapters.
 * Over 400 lines: leadership, pods and the node share the generation counter and timers of one leader term; the
 * pure rules live beside it (node.ts, podState.ts, resync.ts, statusClock.ts).
 */
import { hostname } from 'node:os';
import type { Config } from '../shared/domain/config.js';
import { FUNCTIONS_HEARTBEAT_NAME, type FunctionsHeartbeat, leaseToHeartbeat } from '../shared/domain/heartbeat.js';
import type { Lease, Node, NodeCondition, Pod } from '../shared/domain/k8s.js';
import { asError } from '../shared/errors.js';
import type { Clock, Cluster, Logger, PodWatchHandle, QueueSender } from '../shared/ports/index.js';
import { Checkpoint } from './checkpoint.js';
import { isNotFound } from './errors.js';
import type { EventType, PendingNudge, StartupMarks } from './forwarder.js';
import { Coalescer, decide, makeNudge, SNAPSHOT_BUFFER_MAX, withoutPod } from './forwarder.js';
import { HealthServer } from './http.js';
import { LeaderElector } from './leader.js';
import { type WatcherMetrics, watcherMetrics } from './metrics.js';
import {
  awayGrace,
  buildNode,
  nodeAnnotations,
  evaluateHealth,
  type Health,
  nodeLabels,
  nodeStatus,
  nodeTaints,
} from './node.js';
import { NodeLease } from './nodeLease.js';
import { type PodRecord, parseRv, podKey, toRecord } from './podState.js';
import { NudgeMemory, planResync, tickConverges } from './resync.js';
import { Sender } from './sender.js';
import { buildTicks, changingPods, steadyPeriodSeconds, steadyTick } from './statusClock.js';

export type WatcherConfig = Config;


export interface WatcherDeps {
  cluster: Cluster;
  queue: QueueSender;
  clock: Clock;
  log: Logger;
  config: WatcherConfig;
  metrics?: WatcherMetrics;
  /** Serve /healthz, /readyz, /metrics (default true). */
  http?: boolean;
  /** Observe every pod event while leading (the kubelet API archives finished pods' logs). */
  onPod?: (type: EventType, pod: Pod) => void;
  /** Observe every nudge batch sent (tests and benchmarks). */
  onSent?: (nudges: readonly PendingNudge[]) => void;
}

export class Watcher {
  readonly metrics: WatcherMetrics;
  readonly identity: string;
  readonly #d: WatcherDeps;
  readonly #cfg: WatcherConfig;
  readonly #log: Logger;
  readonly #records = new Map<string, PodRecord>();
  /** when each pod was last nudged or ticked: the resync skips pods nudged within its period */
  readonly #nudged = new NudgeMemory();
  readonly #elector?: LeaderElector;
  readonly #nodeLease: NodeLease;
  readonly #checkpoint: Checkpoint;
  readonly #http?: HealthServer;
  #coalescer: Coalescer;
  #sender: Sender;
  #watch?: PodWatchHandle;
  #nodeWatch?: PodWatchHandle;
  #nodeUid?: string;
  #reregistering?: Promise<void>;
  #timers: NodeJS.Timeout[] = [];
  #leading = false;
  #synced = false;
  #stopped = false;
  #marks: StartupMarks = {};
  #receivedMax?: bigint;
  #startedAt = 0;
  #health: Health = { healthy: true, reason: 'Starting', message: 'watcher starting' };
  /** set when this leader found the bridge away (node.ts awayGrace): a stale heartbeat gets a fresh chance */
  #graceFrom?: number;
  #conditions: NodeCondition[] = [];
  #tickBusy = false;
  #lastSteadyTick = 0;
  #generation = 0;
  httpPort?: number;

  constructor(deps: WatcherDeps) {
    this.#d = deps;
    this.#cfg = deps.config;
    this.identity = deps.config.POD_NAME ?? hostname();
    this.#log = deps.log.child({ component: 'watcher', identity: this.identity, node: deps.config.VNODE_NAME });
    this.metrics = deps.metrics ?? watcherMetrics();
    const leaseCluster = deps.cluster;
    this.#nodeLease = new NodeLease({
      cluster: leaseCluster,
      clock: deps.clock,
      log: this.#log,
      metrics: this.metrics,
      nodeName: this.#cfg.VNODE_NAME,
      renewSeconds: this.#cfg.NODE_LEASE_RENEW_SECONDS,
      durationSeconds: this.#cfg.NODE_LEASE_DURATION_SECONDS,
    });
    this.#checkpoint = new Checkpoint({
      cluster: leaseCluster,
      log: this.#log,
      namespace: this.#cfg.BRIDGE_NAMESPACE,
      name: `${this.#cfg.VNODE_NAME}-watcher-checkpoint`,
      now: () => deps.clock.now(),
    });
    this.#coalescer = this.#newCoalescer();
    this.#sender = this.#newSender();
    if (this.#cfg.LEADER_ELECTION) {
      this.#elector = new LeaderElector({
        cluster: leaseCluster,
        clock: deps.clock,
        log: this.#log,
        metrics: this.metrics,
        namespace: this.#cfg.BRIDGE_NAMESPACE,
        name: `${this.#cfg.VNODE_NAME}-watcher-leader`,
        identity: this.identity,
        leaseSeconds: this.#cfg.LEADER_LEASE_SECONDS,
        retrySeconds: this.#cfg.LEADER_RETRY_SECONDS,
        onStartedLeading: () => this.#startLeading(),
        onStoppedLeading: () => this.#stopLeading(),
      });
    }
    if (deps.http !== false) {
      this.#http = new HealthServer({
        healthy: () => this.#healthz(),
        ready: () => this.#readyz(),
        metrics: () => this.metrics.registry.render(),
      });
    }
  }

  #newCoalescer(): Coalescer {
    return new Coalescer(
      this.#cfg.NUDGE_COALESCE_MS,
      // a long queue outage: the nudges buffered beyond SNAPSHOT_BUFFER_MAX wait without their pod
      (p) => this.#sender.enqueue(this.#sender.size < SNAPSHOT_BUFFER_MAX ? p : withoutPod(p)),
      () => this.#d.clock.now(),
    );
  }

  #newSender(): Sender {
    return new Sender({
      queue: this.#d.queue,
      clock: this.#d.clock,
      log: this.#log,
      metrics: this.metrics,
      maxBuffer: this.#cfg.SEND_BUFFER_MAX,
      beforeSend: (rv) => this.#checkpoint.ensureAttempted(rv, this.#receivedMax),
      // dropped nudges were remembered as sent: this resync skips nothing
      onRecoveredAfterDrop: () => this.resync('queue recovered after dropping nudges', true),
      onSent: (batch) => {
        for (const p of batch) {
          this.#log.info({ uid: p.nudge.uid, pod: podKey(p.nudge.namespace, p.nudge.name), reason: p.nudge.reason }, 'nudge sent');
        }
        this.#d.onSent?.(batch);
      },
    });
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get health(): Health {
    return this.#health;
  }

  /** Pods currently known (from the watch). */
  get podCount(): number {
    return this.#records.size;
  }

  async start(): Promise<void> {
    this.#startedAt = this.#d.clock.now();
    if (this.#http) this.httpPort = await this.#http.listen(this.#cfg.WATCHER_HTTP_PORT, this.#cfg.WATCHER_HTTP_HOST);
    if (this.#elector) this.#elector.start();
    else await this.#startLeading();
    this.#log.info({ leaderElection: this.#cfg.LEADER_ELECTION, httpPort: this.httpPort }, 'watcher started');
  }

  /** Graceful stop (SIGTERM): stop watching, flush pending nudges, save the checkpoint, release leadership. */
  async stop(flushTimeoutMs = 5000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#leading) {
      await this.#watch?.stop();
      this.#watch = undefined;
      this.#coalescer.flush();
      const drained = await this.#sender.drain(flushTimeoutMs);
      if (!drained) this.#log.warn({ buffered: this.#sender.size }, 'stopping with unsent nudges (resync repairs them)');
      this.#checkpoint.setCompleted(this.#watermark());
      await this.#checkpoint.sync();
    }
    if (this.#elector) await this.#elector.stop({ release: true });
    else await this.#stopLeading();
    await this.#http?.close();
    this.#log.info({}, 'watcher stopped');
  }

  /** Simulates a crash (tests): everything stops at once; nothing is flushed, saved or released. */
  async kill(): Promise<void> {
    this.#stopped = true;
    this.#generation++;
    this.#clearTimers();
    this.#nodeLease.stop();
    this.#coalescer.clear();
    this.#sender.clear();
    await this.#sender.stop();
    this.#leading = false;
    if (this.#elector) await this.#elector.stop({ release: false });
    await this.#nodeWatch?.stop();
    this.#nodeWatch = undefined;
    await this.#watch?.stop();
    this.#watch = undefined;
    await this.#http?.close();
  }

  // ------------------------------------------------------------ leadership

  async #startLeading(): Promise<void> {
    if (this.#stopped) return;
    const gen = ++this.#generation;
    this.#leading = true;
    this.#synced = false;
    this.#log.info({}, 'leading: registering the node and watching its pods');
    const node = await this.#ensureNode(true);
    if (gen !== this.#generation) return;
    this.#nodeUid = node?.metadata.uid;
    this.#nodeLease.start(node?.metadata.uid);
    this.#watchNode(gen);
    this.#marks = await this.#checkpoint.load();
    if (gen !== this.#generation) return;
    // move the write-ahead mark ahead now, so the first burst of nudges does not wait for it
    await this.#checkpoint.maintain(undefined);
    this.#coalescer = this.#newCoalescer();
    this.#sender = this.#newSender();
    this.#sender.start();
    this.#records.clear();
    this.#nudged.clear();
    this.#receivedMax = undefined;
    this.#watch = this.#d.cluster.watchPods(
      // the watcher keeps its own compact records: the adapter need not keep whole pods
      { nodeName: this.#cfg.VNODE_NAME, slim: true },
      (ev) => {
        if (gen === this.#generation) this.#onPodEvent(ev.type, ev.object);
      },
      (err) => {
        this.metrics.watchRestarts.inc();
        this.#log.warn({ err: err.message }, 'pod watch interrupted; the adapter reconnects');
      },
    );
    this.#every(this.#cfg.NODE_STATUS_SECONDS * 1000, () => this.#refreshNode(true));
    this.#every(Math.min(this.#cfg.NODE_LEASE_RENEW_SECONDS, this.#cfg.NODE_STATUS_SECONDS) * 1000, () => this.#refreshNode(false));
    // not awaited: the elector keeps renewing while a large initial list is delivered
    void this.#afterSync(this.#watch, gen);
  }

  async #afterSync(watch: PodWatchHandle, gen: number): Promise<void> {
    try {
      await watch.synced;
    } catch (err) {
      this.#log.error({ err: asError(err).message }, 'pod watch never synced');
      return;
    }
    if (gen !== this.#generation) return;
    this.#synced = true;
    this.#log.info({ pods: this.#records.size, marks: { completed: this.#marks.completed?.toString(), attempted: this.#marks.attempted?.toString() } }, 'pod watch synced');
    this.#every(this.#cfg.STATUS_TICK_MS, () => this.#tick());
    // checked every second; a tick goes out when its period is due (steadyPeriodSeconds)
    if (this.#cfg.STATUS_STEADY_SECONDS > 0 || this.#cfg.STATUS_FINISHING_SECONDS > 0) this.#every(1000, () => this.#steadyTick());
    this.#every(this.#cfg.RESYNC_SECONDS * 1000, () => this.resync('periodic'));
    this.#every(1000, () => this.#saveCheckpoint());
  }

  async #stopLeading(): Promise<void> {
    this.#generation++;
    this.#leading = false;
    this.#synced = false;
    this.#clearTimers();
    this.#nodeLease.stop();
    await this.#nodeWatch?.stop();
    this.#nodeWatch = undefined;
    await this.#watch?.stop();
    this.#watch = undefined;
    this.#coalescer.clear();
    await this.#sender.stop();
    this.#sender.clear();
    this.#records.clear();
    this.#nudged.clear();
    this.metrics.pods.set(0);
  }

  #every(ms: number, fn: () => Promise<void> | void): void {
    const t = setInterval(() => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.#log.error({ err: asError(err).message }, 'periodic task failed'));
    }, ms);
    this.#timers.push(t);
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  // ------------------------------------------------------------ pods

  #onPodEvent(type: EventType, pod: Pod): void {
    this.metrics.podEvents.inc({ type });
    this.#d.onPod?.(type, pod);
    const uid = pod.metadata.uid;
    if (!uid) return;
    const now = this.#d.clock.now();
    const prev = this.#records.get(uid);
    const rv = parseRv(pod.metadata.resourceVersion);
    if (rv !== undefined && (this.#receivedMax === undefined || rv > this.#receivedMax)) this.#receivedMax = rv;
    const next = toRecord(pod, now, prev);
    const d = decide(type, prev, next, rv, this.#marks);
    if (type === 'DELETED') this.#records.delete(uid);
    else this.#records.set(uid, next);
    this.metrics.pods.set(this.#records.size);
    if (d.reason) {
      // the nudge carries the pod as delivered: pod-sync need not read it again (shared/domain/messages.ts)
      this.#coalescer.add(makeNudge(next, d.reason, pod), rv);
      if (type === 'DELETED') this.#nudged.forget(uid);
      else this.#nudged.nudged(uid, now);
    } else {
      this.metrics.nudgesSkipped.inc({ why: d.why });
      this.#log.debug({ uid, pod: podKey(next.namespace, next.name), why: d.why }, 'no nudge');
    }
  }

  /**
   * Nudges every pod that is due (see resync.ts), except those nudged or ticked within the resync period (a
   * forced resync skips nothing).
   */
  resync(why: string, force = false): void {
    if (!this.#leading || !this.#synced) return;
    this.metrics.resyncs.inc();
    const now = this.#d.clock.now();
    const period = this.#cfg.RESYNC_SECONDS * 1000;
    const { due, skipped } = planResync(this.#records.values(), now, period, this.#nudged, period, force);
    for (const r of due) {
      this.#coalescer.add(makeNudge(r, 'resync'));
      this.#nudged.nudged(r.uid, now);
    }
    this.#log.info({ why, nudged: due.length, skipped, pods: this.#records.size }, 'resync');
  }

  async #tick(): Promise<void> {
    if (this.#tickBusy) return;
    const now = this.#d.clock.now();
    const pods = changingPods(this.#records.values(), now, this.#cfg.STATUS_TICK_MAX_AGE_SECONDS * 1000);
    if (pods.length === 0) return;
    this.#tickBusy = true;
    try {
      const ticks = buildTicks(pods, new Date(now).toISOString());
      if (await this.#sender.sendNow(ticks)) {
        this.metrics.ticksSent.inc(undefined, ticks.length);
        // for the resync a tick is as good as a nudge for the pods it converges: those with a group id
        for (const p of pods) if (tickConverges(p)) this.#nudged.nudged(p.uid, now);
      }
    } finally {
      this.#tickBusy = false;
    }
  }

  async #steadyTick(): Promise<void> {
    const now = this.#d.clock.now();
    const period = steadyPeriodSeconds(this.#records.values(), this.#cfg.STATUS_STEADY_SECONDS, this.#cfg.STATUS_FINISHING_SECONDS);
    if (period === undefined || now - this.#lastSteadyTick < period * 1000 - 100) return;
    this.#lastSteadyTick = now;
    const tick = steadyTick(this.#records.values(), new Date(now).toISOString(), period);
    if (tick && (await this.#sender.sendNow([tick]))) this.metrics.ticksSent.inc(undefined, 1);
  }

  /** Every pod version at or below this has been sent or needed no nudge. */
  #watermark(): bigint | undefined {
    let min: bigint | undefined;
    for (const x of [this.#coalescer.minRv(), this.#sender.minRv()]) if (x !== undefined && (min === undefined || x < min)) min = x;
    return min === undefined ? this.#receivedMax : min - 1n;
  }

  async #saveCheckpoint(): Promise<void> {
    if (!this.#synced) return;
    this.#checkpoint.setCompleted(this.#watermark());
    await this.#checkpoint.maintain(this.#receivedMax);
  }

  // ------------------------------------------------------------ node

  async #readHeartbeat(): Promise<FunctionsHeartbeat | undefined> {
    let lease: Lease;
    try {
      lease = await this.#d.cluster.getLease(this.#cfg.BRIDGE_NAMESPACE, FUNCTIONS_HEARTBEAT_NAME);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return leaseToHeartbeat(lease);
  }

  async #evaluate(): Promise<Health> {
    try {
      const hb = await this.#readHeartbeat();
      return evaluateHealth(
        hb,
        this.#d.clock.now(),
        this.#startedAt,
        { staleSeconds: this.#cfg.HEALTH_STALE_SECONDS, eciFailures: this.#cfg.HEALTH_ECI_FAILURES },
        this.#graceFrom,
      );
    } catch (err) {
      this.#log.warn({ err: asError(err).message }, 'functions heartbeat unreadable; keeping the last health');
      return this.#health;
    }
  }

  /** Registers the node or re-asserts labels and taints; `leading`: this leader just started (see awayGrace). */
  async #ensureNode(leading = false): Promise<Node | undefined> {
    const name = this.#cfg.VNODE_NAME;
    try {
      let existing: Node | undefined;
      try {
        existing = await this.#d.cluster.getNode(name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (leading) {
        this.#graceFrom = awayGrace(existing, this.#d.clock.now(), this.#cfg.NODE_STATUS_SECONDS);
        if (this.#graceFrom !== undefined) this.#log.info({}, 'the bridge was away: a stale functions heartbeat gets a fresh chance');
      }
      this.#health = await this.#evaluate();
      this.metrics.healthy.set(this.#health.healthy ? 1 : 0);
      let node: Node | undefined;
      if (existing) {
        node = await this.#d.cluster
          .patchNode(name, {
            metadata: { labels: nodeLabels(this.#cfg), annotations: nodeAnnotations(this.#cfg) },
            spec: { taints: nodeTaints(this.#cfg, this.#health, existing.spec?.taints ?? []) },
          })
          .catch((err: unknown) => {
            if (isNotFound(err)) return undefined; // deleted in between: created below
            throw err;
          });
      }
      if (!node) {
        node = await this.#d.cluster.createNode(buildNode(this.#cfg, this.#health, this.#d.clock.now()));
        this.#log.info({ uid: node.metadata.uid }, 'node registered');
      }
      this.#conditions = node.status?.conditions ?? [];
      await this.#patchStatus();
      return node;
    } catch (err) {
      this.#log.error({ err: asError(err).message }, 'node registration failed; retrying with the status loop');
      return undefined;
    }
  }

  async #patchStatus(): Promise<void> {
    const status = nodeStatus(this.#cfg, this.#health, this.#d.clock.now(), this.#conditions);
    const node = await this.#d.cluster.patchNodeStatus(this.#cfg.VNODE_NAME, status);
    this.#conditions = node.status?.conditions ?? status.conditions ?? [];
  }

  /** Re-evaluates health; patches taints and status when it changed, or when `full` (every 60 s). */
  async #refreshNode(full: boolean): Promise<void> {
    if (!this.#leading) return;
    try {
      await this.#refreshNodeOnce(full);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.#reregister('the node is gone (status patch)');
    }
  }

  /**
   * Watches the node itself: when it is deleted (`kubectl delete node`) it is registered again at once — before
   * pod GC (40 s) force-deletes the pods bound to a missing node — and the lease follows the new node's uid.
   */
  #watchNode(gen: number): void {
    if (!this.#d.cluster.watchNode) return;
    this.#nodeWatch = this.#d.cluster.watchNode(
      this.#cfg.VNODE_NAME,
      (ev) => {
        if (gen !== this.#generation || !this.#leading) return;
        if (ev.type === 'DELETED') void this.#reregister('the node was deleted');
        else if (ev.object.metadata.uid && ev.object.metadata.uid !== this.#nodeUid && !this.#reregistering) {
          // registered again by someone else (or by us through the status loop): the lease follows
          this.#nodeUid = ev.object.metadata.uid;
          this.#nodeLease.start(this.#nodeUid);
        }
      },
      (err) => this.#log.warn({ err: err.message }, 'node watch interrupted; the adapter reconnects'),
    );
  }

  /** Registers the node again (single flight) and points the lease at it. */
  async #reregister(why: string): Promise<void> {
    if (this.#reregistering) return this.#reregistering;
    const run = async () => {
      this.#log.warn({ why }, 'registering the node again');
      const node = await this.#ensureNode();
      if (node && this.#leading) {
        this.#nodeUid = node.metadata.uid;
        this.#nodeLease.start(node.metadata.uid);
      }
    };
    this.#reregistering = run().finally(() => {
      this.#reregistering = undefined;
    });
    return this.#reregistering;
  }

  async #refreshNodeOnce(full: boolean): Promise<void> {
    const prev = this.#health;
    const next = await this.#evaluate();
    const changed = prev.healthy !== next.healthy || prev.reason !== next.reason;
    this.#health = next;
    this.metrics.healthy.set(next.healthy ? 1 : 0);
    if (changed) {
      const line = { healthy: next.healthy, reason: next.reason, message: next.message };
      if (next.healthy) this.#log.info(line, 'bridge health changed');
      else this.#log.warn(line, 'bridge health changed: tainting the node NoSchedule (Ready stays True)');
      const node = await this.#d.cluster.getNode(this.#cfg.VNODE_NAME);
      await this.#d.cluster.patchNode(this.#cfg.VNODE_NAME, {
        spec: { taints: nodeTaints(this.#cfg, next, node.spec?.taints ?? []) },
      });
    }
    if (changed || full) await this.#patchStatus();
  }

  // ------------------------------------------------------------ probes

  #healthz(): { ok: boolean; detail: string } {
    if (this.#stopped) return { ok: false, detail: 'stopping' };
    if (this.#leading && this.#nodeLease.lastRenewed > 0) {
      const age = this.#d.clock.now() - this.#nodeLease.lastRenewed;
      if (age > this.#cfg.NODE_LEASE_DURATION_SECONDS * 1000) return { ok: false, detail: `node lease not renewed for ${Math.round(age / 1000)}s` };
    }
    return { ok: true, detail: this.#leading ? 'leader' : 'standby' };
  }

  #readyz(): { ok: boolean; detail: string } {
    if (this.#stopped) return { ok: false, detail: 'stopping' };
    if (this.#leading) return this.#synced ? { ok: true, detail: 'leader, pod watch synced' } : { ok: false, detail: 'leader, syncing' };
    if (this.#elector && !this.#elector.healthy) return { ok: false, detail: 'standby, apiserver unreachable' };
    return { ok: true, detail: 'standby' };
  }
}
