/**
 * The forwarding checkpoint, so a restarted (or newly elected) watcher neither loses nor repeats nudges.
 * Stored as annotations of Lease `<vnode>-watcher-checkpoint` in the bridge namespace, written only by the leader:
 * - `attempted`: written BEFORE a nudge is sent (write-ahead): no pod version above it was ever acted on;
 * - `completed`: every pod version at or below it has been sent (or needed no nudge).
 * On start, a pod whose resourceVersion is <= completed gets no nudge; <= attempted gets a `resync` nudge (it
 * may have been sent just before the crash); anything newer is decided normally.
 *
 * So that the write-ahead does not cost a round trip per nudge, `attempted` is written with headroom: the
 * cluster's resourceVersion grows at a rate measured from the checkpoint's own writes, and `attempted` is kept
 * about LOOKAHEAD_MS of revisions ahead (refreshed by `maintain`, about once a second). A nudge waits for a write
 * only when a burst outruns the headroom. The price of the headroom is a label: a pod created while no watcher
 * ran, within that margin, is nudged as `resync` instead of `bound`.
 */
import type { Lease } from '../shared/domain/k8s.js';
import { asError } from '../shared/errors.js';
import type { Logger } from '../shared/ports/index.js';
import { isConflict, isNotFound } from './errors.js';
import type { StartupMarks } from './forwarder.js';
import type { LeaseCluster } from './leader.js';
import { parseRv } from './podState.js';

export const COMPLETED_ANNOTATION = 'eci-bridge.io/completed-rv';
export const ATTEMPTED_ANNOTATION = 'eci-bridge.io/attempted-rv';

const max = (a: bigint | undefined, b: bigint | undefined): bigint | undefined =>
  a === undefined ? b : b === undefined ? a : a > b ? a : b;

export const LOOKAHEAD_MS = 5000;
const MIN_HEADROOM = 500n;

export class Checkpoint {
  #lease?: Lease;
  #persisted: StartupMarks = {};
  #desired: StartupMarks = {};
  #writing?: Promise<void>;
  #failures = 0;
  /** the last write: its time and the cluster resourceVersion it got */
  #sample?: { t: number; rv: bigint };
  /** revisions per ms, smoothed */
  #rate = 0;

  constructor(
    private readonly o: { cluster: LeaseCluster; log: Logger; namespace: string; name: string; now?: () => number },
  ) {}

  #now(): number {
    return (this.o.now ?? Date.now)();
  }

  #headroom(): bigint {
    return BigInt(Math.ceil(this.#rate * LOOKAHEAD_MS)) + MIN_HEADROOM;
  }

  /** The cluster's resourceVersion now, estimated from the last write and the rate (at least `receivedMax`). */
  #estimate(receivedMax: bigint | undefined): bigint | undefined {
    const s = this.#sample;
    const fromSample = s ? s.rv + BigInt(Math.floor(this.#rate * (this.#now() - s.t))) : undefined;
    return max(fromSample, receivedMax);
  }

  #observe(rv: bigint | undefined): void {
    if (rv === undefined) return;
    const t = this.#now();
    const prev = this.#sample;
    if (prev && t > prev.t && rv >= prev.rv) {
      const r = Number(rv - prev.rv) / (t - prev.t);
      this.#rate = this.#rate === 0 ? r : 0.7 * this.#rate + 0.3 * r;
    }
    this.#sample = { t, rv };
  }

  /** Reads the marks the previous leader left (none when the lease does not exist or cannot be read). */
  async load(): Promise<StartupMarks> {
    try {
      this.#lease = await this.o.cluster.getLease(this.o.namespace, this.o.name);
    } catch (err) {
      if (!isNotFound(err)) this.o.log.warn({ err: asError(err).message }, 'checkpoint unreadable: every pod is treated as new');
      this.#lease = undefined;
      return {};
    }
    this.#observe(parseRv(this.#lease.metadata.resourceVersion));
    const a = this.#lease.metadata.annotations ?? {};
    const marks: StartupMarks = { completed: parseRv(a[COMPLETED_ANNOTATION]), attempted: parseRv(a[ATTEMPTED_ANNOTATION]) };
    this.#persisted = { ...marks };
    this.#desired = { ...marks };
    return marks;
  }

  get persisted(): StartupMarks {
    return { ...this.#persisted };
  }

  setCompleted(rv: bigint | undefined): void {
    this.#desired.completed = max(this.#desired.completed, rv);
  }

  /**
   * Write-ahead: resolves once `attempted` >= rv is stored (raised to `receivedMax`, so one write covers a burst).
   * Never throws: if the checkpoint cannot be written, sending goes on (a restart may then repeat a nudge).
   */
  async ensureAttempted(rv: bigint | undefined, receivedMax: bigint | undefined): Promise<void> {
    if (rv === undefined) return;
    if (this.#persisted.attempted !== undefined && this.#persisted.attempted >= rv) return;
    this.#desired.attempted = max(this.#desired.attempted, (max(receivedMax, rv) ?? rv) + this.#headroom());
    await this.sync();
  }

  /** Periodic: stores `completed`, and moves `attempted` ahead when its headroom runs low. */
  async maintain(receivedMax: bigint | undefined): Promise<boolean> {
    if (!this.#sample && receivedMax === undefined) {
      // nothing tells the cluster's resourceVersion yet: one write of the current marks does
      try {
        await this.#put(this.#persisted);
      } catch (err) {
        this.o.log.warn({ err: asError(err).message }, 'checkpoint write failed');
        return false;
      }
    }
    const est = this.#estimate(receivedMax);
    const head = this.#headroom();
    const persisted = this.#persisted.attempted;
    if (est !== undefined && (persisted === undefined || persisted - est < head / 2n)) {
      this.#desired.attempted = max(this.#desired.attempted, est + head);
    }
    return this.sync();
  }

  /** Writes the desired marks if they moved; returns whether the stored marks are current. */
  async sync(): Promise<boolean> {
    while (this.#writing) await this.#writing.catch(() => undefined);
    if (this.#desired.completed === this.#persisted.completed && this.#desired.attempted === this.#persisted.attempted) return true;
    const want: StartupMarks = { completed: this.#desired.completed, attempted: max(this.#desired.attempted, this.#desired.completed) };
    this.#writing = this.#put(want).finally(() => {
      this.#writing = undefined;
    });
    try {
      await this.#writing;
      this.#persisted = want;
      this.#failures = 0;
      return true;
    } catch (err) {
      this.#failures++;
      if (this.#failures === 1 || this.#failures % 20 === 0) {
        this.o.log.warn({ err: asError(err).message, failures: this.#failures }, 'checkpoint write failed');
      }
      return false;
    }
  }

  async #put(want: StartupMarks): Promise<void> {
    const annotations: Record<string, string> = {};
    if (want.completed !== undefined) annotations[COMPLETED_ANNOTATION] = want.completed.toString();
    if (want.attempted !== undefined) annotations[ATTEMPTED_ANNOTATION] = want.attempted.toString();
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!this.#lease) {
          try {
            this.#lease = await this.o.cluster.getLease(this.o.namespace, this.o.name);
          } catch (err) {
            if (!isNotFound(err)) throw err;
            this.#lease = await this.o.cluster.createLease(this.o.namespace, {
              metadata: { name: this.o.name, namespace: this.o.namespace, annotations },
              spec: {},
            });
            this.#observe(parseRv(this.#lease.metadata.resourceVersion));
            return;
          }
        }
        const cur = this.#lease;
        this.#lease = await this.o.cluster.replaceLease(this.o.namespace, {
          ...cur,
          metadata: { ...cur.metadata, annotations: { ...cur.metadata.annotations, ...annotations } },
        });
        this.#observe(parseRv(this.#lease.metadata.resourceVersion));
        return;
      } catch (err) {
        this.#lease = undefined;
        if (!isConflict(err) || attempt === 2) throw err;
      }
    }
  }
}
