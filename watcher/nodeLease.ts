/**
 * The node's heartbeat: Lease `kube-node-lease/<node>` (holder = node name, owner = the Node), renewed every
 * `renewSeconds` with `durationSeconds` (10 s / 40 s, as the kubelet). The first renewal re-uses the lease from
 * the last write without a GET; a conflict re-reads it and tries again at once.
 */
import type { Lease } from '../shared/domain/k8s.js';
import { asError } from '../shared/errors.js';
import type { Clock, Logger } from '../shared/ports/index.js';
import { isConflict, isNotFound } from './errors.js';
import type { LeaseCluster } from './leader.js';
import type { WatcherMetrics } from './metrics.js';
import { microTime } from './node.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLeaseOptions {
  cluster: LeaseCluster;
  clock: Clock;
  log: Logger;
  metrics: WatcherMetrics;
  nodeName: string;
  renewSeconds: number;
  durationSeconds: number;
}

export class NodeLease {
  #lease?: Lease;
  #timer?: NodeJS.Timeout;
  #ownerUid?: string;
  #busy = false;
  /** epoch ms of the last successful renewal */
  lastRenewed = 0;

  constructor(private readonly o: NodeLeaseOptions) {}

  start(nodeUid: string | undefined): void {
    this.#ownerUid = nodeUid;
    this.stop();
    void this.renew();
    this.#timer = setInterval(() => void this.renew(), this.o.renewSeconds * 1000);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #desired(base: Lease | undefined): Lease {
    const now = microTime(this.o.clock.now());
    const metadata = { ...(base?.metadata ?? { name: this.o.nodeName, namespace: NODE_LEASE_NAMESPACE }) };
    // The owner is the node as registered now: after `kubectl delete node` and the re-registration the old owner
    // reference would let the garbage collector delete the lease.
    if (this.#ownerUid && metadata.ownerReferences?.[0]?.uid !== this.#ownerUid) {
      metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: this.#ownerUid }];
    }
    return {
      ...base,
      metadata,
      spec: { ...base?.spec, holderIdentity: this.o.nodeName, leaseDurationSeconds: this.o.durationSeconds, renewTime: now },
    };
  }

  /** One renewal; never throws (failures are counted and logged). */
  async renew(): Promise<boolean> {
    if (this.#busy) return false;
    this.#busy = true;
    const t0 = performance.now();
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          if (!this.#lease) {
            try {
              this.#lease = await this.o.cluster.getLease(NODE_LEASE_NAMESPACE, this.o.nodeName);
            } catch (err) {
              if (!isNotFound(err)) throw err;
              this.#lease = await this.o.cluster.createLease(NODE_LEASE_NAMESPACE, this.#desired(undefined));
              break;
            }
          }
          this.#lease = await this.o.cluster.replaceLease(NODE_LEASE_NAMESPACE, this.#desired(this.#lease));
          break;
        } catch (err) {
          this.#lease = undefined;
          // a conflict re-reads; a lease deleted meanwhile (the garbage collector, after the node was deleted) is
          // created again at once
          if (!(isConflict(err) || isNotFound(err)) || attempt === 2) throw err;
        }
      }
      this.lastRenewed = this.o.clock.now();
      this.o.metrics.leaseRenewals.observe((performance.now() - t0) / 1000);
      return true;
    } catch (err) {
      this.o.metrics.leaseFailures.inc();
      this.o.log.warn({ err: asError(err).message, node: this.o.nodeName }, 'node lease renewal failed');
      return false;
    } finally {
      this.#busy = false;
    }
  }
}
