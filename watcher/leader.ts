/**
 * Leader election over a coordination Lease (the client-go algorithm): the holder renews every `retrySeconds`;
 * another replica takes over when the record has not changed for `leaseSeconds` by its own clock (so clock
 * skew between replicas does not matter) or when the holder released it (empty holderIdentity). A leader
 * that cannot renew within the renew deadline (2/3 of the lease) steps down before anyone else can take over.
 */
import type { Lease } from '../shared/domain/k8s.js';
import { asError } from '../shared/errors.js';
import type { Clock, Cluster, Logger } from '../shared/ports/index.js';
import { isConflict, isNotFound } from './errors.js';
import type { WatcherMetrics } from './metrics.js';
import { microTime } from './node.js';

export type LeaseCluster = Pick<Cluster, 'getLease' | 'createLease' | 'replaceLease'>;

export interface LeaderOptions {
  cluster: LeaseCluster;
  clock: Clock;
  log: Logger;
  metrics?: WatcherMetrics;
  namespace: string;
  name: string;
  identity: string;
  leaseSeconds: number;
  retrySeconds: number;
  onStartedLeading: () => Promise<void>;
  onStoppedLeading: () => Promise<void>;
}

export class LeaderElector {
  #running = false;
  #leader = false;
  #loop?: Promise<void>;
  #abort = new AbortController();
  #observedKey = '';
  #observedAt = 0;
  #lastRenew = 0;
  #lease?: Lease;
  /** true while the last round trip to the apiserver worked (standby readiness) */
  healthy = false;

  constructor(private readonly o: LeaderOptions) {}

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#loop = this.#run();
  }

  /** Stops electing. With `release`, a leader hands the lease back so a standby takes over at once. */
  async stop(opts: { release: boolean }): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    await this.#loop;
    if (this.#leader) {
      this.#leader = false;
      this.o.metrics?.leader.set(0);
      await this.o.onStoppedLeading();
      if (opts.release) await this.#release();
    }
  }

  async #release(): Promise<void> {
    const lease = this.#lease;
    if (!lease?.spec || lease.spec.holderIdentity !== this.o.identity) return;
    try {
      await this.o.cluster.replaceLease(this.o.namespace, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.o.clock.now()) },
      });
      this.o.log.info({ lease: this.o.name }, 'leadership released');
    } catch (err) {
      this.o.log.warn({ err: asError(err).message }, 'could not release leadership; the lease will expire');
    }
  }

  async #run(): Promise<void> {
    const deadlineMs = (this.o.leaseSeconds * 1000 * 2) / 3;
    while (this.#running) {
      let renewed = false;
      try {
        renewed = await this.tryAcquireOrRenew();
        this.healthy = true;
      } catch (err) {
        this.healthy = false;
        this.o.log.warn({ err: asError(err).message }, 'leader election round failed');
      }
      const now = this.o.clock.now();
      if (renewed) {
        this.#lastRenew = now;
        if (!this.#leader) {
          this.#leader = true;
          this.o.metrics?.leader.set(1);
          this.o.metrics?.leaderTransitions.inc();
          this.o.log.info({ identity: this.o.identity }, 'became leader');
          await this.#safely(this.o.onStartedLeading);
        }
      } else if (this.#leader && (this.#heldByOther() || now - this.#lastRenew > deadlineMs)) {
        this.#leader = false;
        this.o.metrics?.leader.set(0);
        this.o.log.warn({ identity: this.o.identity }, 'lost leadership');
        await this.#safely(this.o.onStoppedLeading);
      }
      try {
        await this.o.clock.sleep(this.o.retrySeconds * 1000, this.#abort.signal);
      } catch {
        // aborted
      }
    }
  }

  async #safely(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.o.log.error({ err: asError(err).message }, 'leadership callback failed');
    }
  }

  #heldByOther(): boolean {
    const h = this.#lease?.spec?.holderIdentity;
    return !!h && h !== this.o.identity;
  }

  /** One round: returns true when this replica holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.o.clock.now();
    const spec = (extra: Partial<NonNullable<Lease['spec']>>): NonNullable<Lease['spec']> => ({
      holderIdentity: this.o.identity,
      leaseDurationSeconds: this.o.leaseSeconds,
      renewTime: microTime(now),
      ...extra,
    });
    // The leader renews from the lease it wrote last, without a read (client-go's leader election does the same):
    // a Conflict or NotFound means someone else wrote or removed it since, and the round reads it and decides.
    const held = this.#lease;
    if (held?.spec?.holderIdentity === this.o.identity && held.metadata.resourceVersion) {
      try {
        this.#lease = await this.o.cluster.replaceLease(this.o.namespace, {
          ...held,
          spec: spec({ acquireTime: held.spec.acquireTime ?? microTime(now), leaseTransitions: held.spec.leaseTransitions ?? 0 }),
        });
        return true;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    let lease: Lease;
    try {
      lease = await this.o.cluster.getLease(this.o.namespace, this.o.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        this.#lease = await this.o.cluster.createLease(this.o.namespace, {
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: spec({ acquireTime: microTime(now), leaseTransitions: 0 }),
        });
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    this.#lease = lease;
    const cur = lease.spec ?? {};
    const key = `${cur.holderIdentity ?? ''}|${cur.renewTime ?? ''}|${cur.leaseDurationSeconds ?? ''}`;
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = now;
    }
    const holder = cur.holderIdentity ?? '';
    const mine = holder === this.o.identity;
    const durMs = (cur.leaseDurationSeconds ?? this.o.leaseSeconds) * 1000;
    if (holder && !mine && now - this.#observedAt < durMs) return false;
    try {
      this.#lease = await this.o.cluster.replaceLease(this.o.namespace, {
        ...lease,
        spec: spec(
          mine
            ? { acquireTime: cur.acquireTime ?? microTime(now), leaseTransitions: cur.leaseTransitions ?? 0 }
            : { acquireTime: microTime(now), leaseTransitions: (cur.leaseTransitions ?? 0) + 1 },
        ),
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }
}
