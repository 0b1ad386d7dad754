/**
 * Logs that outlive the container group. ECI keeps a finished group about an hour (then only the latest 100 per
 * region), so when a pod on the node finishes (phase Succeeded or Failed) the leader reads the tail of each
 * container's log once and keeps it, gzipped, in a ConfigMap in the bridge namespace:
 *
 * - per container at most `perContainerBytes` compressed (oldest lines dropped to fit);
 * - in total at most `totalBytes` for the node (etcd's quota is ~2 GB for the whole cluster): the oldest archives
 *   are evicted first;
 * - deleted with the pod (the pod's DELETED event), and by `sweep()` for pods the watch no longer knows (a pod
 *   deleted while no watcher ran).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ContainerGroups, KubeletSupport, LogArchiveRecord, Logger } from '../../shared/ports/index.js';
import { type LogLine, parseContent } from './logLines.js';
import { ECI_MAX_BYTES, ECI_MAX_TAIL, type LogBudget, fetchLines } from './logs.js';

export interface ArchiveOptions {
  support: KubeletSupport;
  eci: Pick<ContainerGroups, 'logs'>;
  budget: LogBudget;
  namespace: string;
  node: string;
  perContainerBytes: number;
  totalBytes: number;
  now: () => number;
  log: Logger;
}

export interface ArchivablePod {
  uid: string;
  namespace: string;
  name: string;
  groupId: string;
  containers: string[];
}

/** Gzip of the newest lines that fit in `max` compressed bytes (the whole text when it fits). */
export function compressTail(text: string, max: number): Buffer {
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (;;) {
    const gz = gzipSync(lines.length ? `${lines.join('\n')}\n` : '');
    if (gz.length <= max || lines.length === 0) return gz;
    // keep the newest part, proportionally smaller (at least one line less)
    const keep = Math.min(lines.length - 1, Math.floor(lines.length * (max / gz.length) * 0.95));
    lines = lines.slice(lines.length - keep);
  }
}

const sizeOf = (a: LogArchiveRecord): number => Object.values(a.containers).reduce((n, b) => n + b.length, 0);

export class LogArchive {
  /** pod uid → (bytes, archivedAt) of every archive of this node */
  readonly #index = new Map<string, { bytes: number; at: number }>();
  /** uids archived or being archived by this process */
  readonly #done = new Set<string>();
  #loaded = false;

  constructor(private readonly o: ArchiveOptions) {}

  get totalBytes(): number {
    let n = 0;
    for (const v of this.#index.values()) n += v.bytes;
    return n;
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    for (const a of await this.o.support.listLogArchives(this.o.namespace, this.o.node)) {
      this.#index.set(a.podUid, { bytes: sizeOf(a), at: a.archivedAt });
      this.#done.add(a.podUid);
    }
    this.#loaded = true;
  }

  /** Archives a finished pod's logs once (later calls for the same uid do nothing). */
  async archive(pod: ArchivablePod): Promise<void> {
    if (this.#done.has(pod.uid)) return;
    this.#done.add(pod.uid);
    try {
      await this.#load();
      const containers: Record<string, Buffer> = {};
      for (const c of pod.containers) {
        const lines = await fetchLines(this.o.eci, this.o.budget, { groupId: pod.groupId, container: c }, { tail: ECI_MAX_TAIL, limitBytes: ECI_MAX_BYTES });
        containers[c] = compressTail(lines.map((l) => (l.stamp ? `${l.stamp} ${l.text}` : l.text)).join('\n'), this.o.perContainerBytes);
      }
      const record: LogArchiveRecord = { podUid: pod.uid, namespace: pod.namespace, pod: pod.name, archivedAt: this.o.now(), containers };
      await this.o.support.putLogArchive(this.o.namespace, this.o.node, record);
      this.#index.set(pod.uid, { bytes: sizeOf(record), at: record.archivedAt });
      this.o.log.info({ pod: `${pod.namespace}/${pod.name}`, bytes: sizeOf(record) }, 'container logs archived');
      await this.#evict();
    } catch (err) {
      this.#done.delete(pod.uid);
      this.o.log.warn({ pod: `${pod.namespace}/${pod.name}`, err: (err as Error).message }, 'could not archive the container logs');
    }
  }

  async #evict(): Promise<void> {
    const byAge = [...this.#index.entries()].sort((a, b) => a[1].at - b[1].at);
    let total = this.totalBytes;
    for (const [uid, v] of byAge) {
      if (total <= this.o.totalBytes) break;
      await this.remove(uid);
      total -= v.bytes;
      this.o.log.info({ uid, bytes: v.bytes }, 'log archive evicted (the node total is over KUBELET_LOG_ARCHIVE_TOTAL_BYTES)');
    }
  }

  /** One container's archived lines, undefined when none was kept. */
  async read(podUid: string, container: string): Promise<LogLine[] | undefined> {
    const a = await this.o.support.getLogArchive(this.o.namespace, this.o.node, podUid);
    const gz = a?.containers[container];
    return gz ? parseContent(gunzipSync(gz).toString('utf8')) : undefined;
  }

  async remove(podUid: string): Promise<void> {
    await this.o.support.deleteLogArchive(this.o.namespace, this.o.node, podUid);
    this.#index.delete(podUid);
  }

  /** Deletes the archives of pods no longer on the node (`live`: the uids the synced watch knows). */
  async sweep(live: ReadonlySet<string>): Promise<number> {
    await this.#load();
    let n = 0;
    for (const uid of [...this.#index.keys()]) {
      if (live.has(uid)) continue;
      await this.remove(uid);
      this.#done.delete(uid);
      n++;
    }
    return n;
  }
}
