/**
 * Status flows back fast, then cheaply (docs/architecture.md#the-flow, point 3; docs/status-flow.md):
 * - `tick`: the watcher's per-second status tick names the pods that are changing; their groups are described in
 *   batches (the ContainerGroups port sends <= 20 ids per DescribeContainerGroups call), never one call per pod.
 * - `sweep`: the minutely timer lists every group of this cluster and virtual node by tag (20 per page) and every
 *   pod of the node, and converges each pair; a finished group's final status is written onto its pod before ECI
 *   forgets it (~1 h), after which the pod is terminal and never written again.
 * Only changed pods are patched; ECI events become Kubernetes Events. Per-pod failures are isolated.
 */
import type { EciContainerGroup } from '../domain/eci.js';
import type { Pod } from '../domain/k8s.js';
import type { StatusTick } from '../domain/messages.js';
import { TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID } from '../domain/names.js';
import { podStatusDigest } from '../domain/statusDigest.js';
import { bridgeTags, FINISHED_GROUP, groupIdOf, isCopy, isTerminalPhase, listBridgeGroups, podKey, readPod, tagOf, type UseCaseDeps } from './context.js';
import { classify, describeError, isConflict, isNotFound } from './errors.js';
import { type Deferred, POLLED_DELETE_AFTER_SECONDS, PodSync, type SyncResult, TERMINATING_DEADLINE_SECONDS } from './podSync.js';

export interface StatusReport {
  pods: number;
  groups: number;
  patched: number;
  unchanged: number;
  deleted: number;
  failed: number;
  /** pods of a tick left alone without a read: their group matched the status digest the watcher sent */
  skipped: number;
  /** pods converged from this instance's PodMemory instead of a read (tick v4: held at the watcher's version) */
  recalled: number;
  /** of those, copies a conditional write found changed since: read and converged again */
  recalledStale: number;
  /** describe/list calls made to ECI in this run */
  eciCalls: number;
  eciError?: string;
}

/** Group statuses a steady tick leaves to the fast ticks (a pod starting) or to nobody (a pod running). */
const QUIET: ReadonlySet<string> = new Set(['Scheduling', 'Pending', 'Running']);

/**
 * A terminating pod whose group still runs or terminates is read by a tick at most once per this many seconds (per
 * pod-sync instance): until the group is gone or finished there is nothing to do but wait (the deleting nudge
 * sends the delete; a tick takes over only POLLED_DELETE_AFTER_SECONDS after the deletion, and deletes the pod of
 * a group still terminating only 30 s after its grace period), so reading it every second only costs reads.
 * A pod whose group is gone or finished is read at once: its final delete is what `kubectl delete` waits for.
 */
export const TERMINATING_READ_SECONDS = 10;

/**
 * A tick skips a pod whose described group has the status digest this instance converged the pod to within this
 * many seconds, though the watcher's digest differs: the watcher has not seen that write yet (the tick was sent
 * before it), so a read would find the pod converged. Per instance; after it the pod is read as before, so a
 * write of another instance that landed after this one is corrected at most this late.
 */
export const APPLIED_SKIP_SECONDS = 10;

/** Pods a tick (or sweep) converges at the same time. */
export const TICK_CONCURRENCY = 16;

function emptyReport(): StatusReport {
  return { pods: 0, groups: 0, patched: 0, unchanged: 0, deleted: 0, failed: 0, skipped: 0, recalled: 0, recalledStale: 0, eciCalls: 0 };
}

export class StatusSync {
  private readonly podSync: PodSync;
  /** pod UID → when this instance last read it as terminating with its group still there */
  private readonly terminatingRead = new Map<string, number>();
  /** pod UID → the status digest this instance converged it to, and when (see appliedLately) */
  private readonly applied = new Map<string, { digest: string; at: number }>();
  /** pod UID → when this instance sent its final delete from a tick (see finish) */
  private readonly finalDeleteSent = new Map<string, number>();
  constructor(private readonly deps: UseCaseDeps) {
    this.podSync = new PodSync(deps);
  }

  /**
   * A status tick: the named pods' groups are described in batches first; then only the pods whose group changed
   * are read and converged. A pod is left alone when the tick carries its status digest (version 2) and the
   * digest of its described group matches it (shared/domain/statusDigest.ts) — most of a tick's pods, most of the
   * time — and when the watcher saw no group id on it yet (its create is in flight; the next tick names the id).
   * A terminating pod, a pod whose group is gone, and every pod of a version 1 tick are read.
   */
  async tick(tick: StatusTick): Promise<StatusReport> {
    const report = emptyReport();
    const byId = new Map<string, EciContainerGroup>();
    if (!(await this.describeInto(tick.pods.map((r) => r.groupId).filter(isString), byId, report))) return report;
    const refs = [...tick.pods, ...(await this.changedLately(tick, byId, report))];
    const digestOf = this.deps.domain.groupDigest;
    const now = this.deps.clock.now();
    this.forgetTerminatingReads(now);
    const finishing: StatusTick['pods'] = [];
    const toRead = refs.filter((ref) => {
      if (ref.deleting && ref.groupId && this.finalDeleteSent.has(ref.uid)) {
        report.skipped++;
        return false;
      }
      // terminating, and its group gone or finished: the final delete needs nothing from the pod
      const known = ref.deleting && ref.groupId ? byId.get(ref.groupId) : undefined;
      if (ref.deleting && ref.groupId && (!known || FINISHED_GROUP.has(known.Status))) {
        finishing.push(ref);
        return false;
      }
      if (known && nothingToDoYet(ref, known, now)) {
        report.skipped++;
        return false;
      }
      if (ref.deleting && ref.groupId && this.waitsTerminating(ref.uid, byId.get(ref.groupId), now)) {
        report.skipped++;
        return false;
      }
      // v2: the watcher sees no group id on the pod, so pod-sync's create is not done yet; the next tick has it
      if (tick.v >= 2 && !ref.groupId && !ref.deleting) {
        report.skipped++;
        return false;
      }
      if (!digestOf || !ref.digest || !ref.groupId || ref.deleting) return true;
      const group = byId.get(ref.groupId);
      if (!group) return true;
      const want = digestOf(group, ref.phase);
      if (want !== ref.digest && want !== this.appliedLately(ref.uid, now)) return true;
      report.skipped++;
      return false;
    });
    await pool(finishing, TICK_CONCURRENCY, (ref) => this.finish(ref, now, report));
    const pods: Pod[] = [];
    await Promise.all(
      toRead.map(async (ref) => {
        // tick v4: this instance holds the pod at the version the watcher sees (it wrote it last): no read
        const held = ref.rv ? this.deps.memory?.recall(ref.uid, ref.rv) : undefined;
        if (held) {
          report.recalled++;
          pods.push(held);
          return;
        }
        try {
          const pod = await readPod(this.deps, ref.namespace, ref.name);
          if (pod.metadata.uid === ref.uid) pods.push(pod);
        } catch (err) {
          if (!isNotFound(err)) {
            report.failed++;
            this.deps.logger.warn({ pod: `${ref.namespace}/${ref.name}`, err: describeError(err) }, 'status tick: read failed');
          }
        }
      }),
    );
    report.pods = pods.length;
    const live = pods.filter((p) => !isTerminalPhase(p.status?.phase) || p.metadata.deletionTimestamp);
    const idOf = (p: Pod): string | undefined => groupIdOf(p) ?? refs.find((r) => r.uid === p.metadata.uid)?.groupId;
    // a group recorded since the watcher built the tick
    const unseen = live.map(idOf).filter((id): id is string => isString(id) && !byId.has(id) && !refs.some((r) => r.groupId === id));
    if (!(await this.describeInto(unseen, byId, report))) return report;
    report.groups = byId.size;
    const work: [Pod, EciContainerGroup | null][] = [];
    for (const pod of live) {
      const id = idOf(pod);
      // A pod with no group yet is pod-sync's (its create may be in flight): the tick only reports.
      if (!id) continue;
      work.push([pod, byId.get(id) ?? null]);
    }
    await this.each(work, report);
    return report;
  }

  /**
   * The final delete of a terminating pod whose group is gone or finished, without reading the pod: what a read
   * would add is known (the watcher named the pod terminating with that group; the delete's UID precondition
   * keeps another pod under the name safe). Sent once per TERMINATING_READ_SECONDS per instance: the ticks that
   * follow until the watcher sees the pod go name it again.
   */
  private async finish(ref: StatusTick['pods'][number], now: number, report: StatusReport): Promise<void> {
    this.finalDeleteSent.set(ref.uid, now);
    try {
      await this.podSync.finalDelete(ref.namespace, ref.name, ref.uid);
      report.deleted++;
    } catch (err) {
      report.failed++;
      this.finalDeleteSent.delete(ref.uid);
      this.deps.logger.warn({ pod: `${ref.namespace}/${ref.name}`, err: describeError(err) }, 'status tick: final delete failed');
    }
  }

  /**
   * The status digest this instance left the pod with (written, or found already so) within
   * APPLIED_SKIP_SECONDS: a tick sent before the watcher saw that write still carries the old digest, and reading
   * the pod again would only find it converged.
   */
  private appliedLately(uid: string, now: number): string | undefined {
    const a = this.applied.get(uid);
    return a && now - a.at < APPLIED_SKIP_SECONDS * 1000 ? a.digest : undefined;
  }

  /** Is this terminating pod's group still there, and was the pod read within TERMINATING_READ_SECONDS? */
  private waitsTerminating(uid: string, group: EciContainerGroup | undefined, now: number): boolean {
    if (!group || FINISHED_GROUP.has(group.Status)) return false;
    const last = this.terminatingRead.get(uid);
    if (last !== undefined && now - last < TERMINATING_READ_SECONDS * 1000) return true;
    this.terminatingRead.set(uid, now);
    return false;
  }

  private forgetTerminatingReads(now: number): void {
    for (const [uid, at] of this.terminatingRead) if (now - at >= TERMINATING_READ_SECONDS * 1000) this.terminatingRead.delete(uid);
    for (const [uid, at] of this.finalDeleteSent) if (now - at >= TERMINATING_READ_SECONDS * 1000) this.finalDeleteSent.delete(uid);
    for (const [uid, a] of this.applied) if (now - a.at >= APPLIED_SKIP_SECONDS * 1000) this.applied.delete(uid);
  }

  /**
   * The steady part of a tick: one DescribeContainerGroupStatus (SinceSecond, cluster + node tags) for the groups
   * whose status changed lately; those that left Pending/Running (finished, restarting, reclaimed, terminating)
   * and whose pod the tick does not name are described (<= 20 per call, for their tags and details) and their
   * pods converged. A group that went Running → Restarting → Running between two steady ticks is left to the
   * sweep (its pod stays Running; only the restart count waits).
   */
  private async changedLately(tick: StatusTick, byId: Map<string, EciContainerGroup>, report: StatusReport): Promise<StatusTick['pods']> {
    const changedSince = this.deps.eci.changedSince?.bind(this.deps.eci);
    if (!changedSince || tick.since === undefined) return [];
    let ids: string[];
    try {
      const items = await changedSince({ tags: bridgeTags(this.deps.settings), sinceSeconds: tick.since });
      report.eciCalls += Math.max(1, Math.ceil(items.length / 200));
      const named = new Set(tick.pods.map((r) => r.groupId));
      ids = items.filter((i) => !QUIET.has(i.Status) && !named.has(i.ContainerGroupId)).map((i) => i.ContainerGroupId);
    } catch (err) {
      report.eciError = `${classify(err)}: ${describeError(err)}`;
      this.deps.logger.warn({ err: report.eciError }, 'status tick: DescribeContainerGroupStatus failed');
      return [];
    }
    const groups = new Map<string, EciContainerGroup>();
    if (!(await this.describeInto(ids, groups, report))) return [];
    const refs: StatusTick['pods'] = [];
    for (const g of groups.values()) {
      const namespace = tagOf(g, TAG_NAMESPACE);
      const name = tagOf(g, TAG_POD_NAME);
      const uid = tagOf(g, TAG_POD_UID);
      if (!namespace || !name || !uid) continue;
      byId.set(g.ContainerGroupId, g);
      refs.push({ namespace, name, uid, groupId: g.ContainerGroupId });
    }
    return refs;
  }

  /** DescribeContainerGroups for `ids` (<= 20 per call) into `byId`; false (reported) when ECI failed. */
  private async describeInto(ids: readonly string[], byId: Map<string, EciContainerGroup>, report: StatusReport): Promise<boolean> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return true;
    try {
      report.eciCalls += Math.ceil(unique.length / 20);
      for (const g of await this.deps.eci.describe(unique)) byId.set(g.ContainerGroupId, g);
      return true;
    } catch (err) {
      report.eciError = `${classify(err)}: ${describeError(err)}`;
      this.deps.logger.warn({ err: report.eciError, ids: unique.length }, 'status tick: describe failed');
      return false;
    }
  }

  /** The minutely sweep over every group of this cluster + virtual node. */
  async sweep(): Promise<StatusReport> {
    const report = emptyReport();
    const groups = await listBridgeGroups(this.deps, report, 'status sweep');
    if (!groups) return report;
    const pods = await this.deps.cluster.listPods({ nodeName: this.deps.settings.vnodeName });
    report.pods = pods.length;
    report.groups = groups.length;
    const byUid = new Map<string, EciContainerGroup[]>();
    for (const g of groups) {
      const uid = tagOf(g, TAG_POD_UID);
      if (!uid) continue;
      const list = byUid.get(uid) ?? [];
      list.push(g);
      byUid.set(uid, list);
    }
    const work: [Pod, EciContainerGroup | null | undefined][] = [];
    for (const pod of pods) {
      if (isTerminalPhase(pod.status?.phase) && !pod.metadata.deletionTimestamp) continue;
      const mine = byUid.get(pod.metadata.uid ?? '') ?? [];
      const recorded = groupIdOf(pod);
      const group = mine.find((g) => g.ContainerGroupId === recorded) ?? mine[0];
      // A terminating pod without a listed group (deleted meanwhile, or an eviction while no watcher runs): pod-sync
      // looks its group up itself and finishes the deletion, so evicted pods never wait for gc.
      if (!group && pod.metadata.deletionTimestamp) {
        work.push([pod, undefined]);
        continue;
      }
      // No group for this pod: gc re-nudges stuck pods; a recorded group missing from the list is checked by id
      // on the pod's next nudge, so a page race in the listing cannot fail a healthy pod here.
      if (!group) continue;
      work.push([pod, group]);
    }
    await this.each(work, report);
    return report;
  }

  /**
   * Converges pods with their described groups, `TICK_CONCURRENCY` at a time: a tick naming 50 pods that all just
   * started writes 50 statuses, and one after the other that alone would take seconds. Every status is written
   * before any ECI event becomes a Kubernetes Event (those are several writes per pod and nobody waits for them).
   */
  private async each(work: [Pod, EciContainerGroup | null | undefined][], report: StatusReport): Promise<void> {
    const later: Deferred[] = [];
    await pool(work, TICK_CONCURRENCY, ([pod, group]) => this.one(pod, group, report, later));
    await pool(later, TICK_CONCURRENCY, async (fn) => {
      try {
        await fn();
      } catch (err) {
        this.deps.logger.warn({ err: describeError(err) }, 'status sync: recording ECI events failed');
      }
    });
  }

  private async one(held: Pod, group: EciContainerGroup | null | undefined, report: StatusReport, later: Deferred[]): Promise<void> {
    let pod = held;
    try {
      let res: SyncResult;
      try {
        res = await this.podSync.convergePod(pod, group, undefined, later);
      } catch (err) {
        // a copy from memory whose conditional write found the pod changed since: read it and converge that
        if (!isCopy(pod) || !isConflict(err)) throw err;
        report.recalledStale++;
        const read = await readPod(this.deps, pod.metadata.namespace ?? '', pod.metadata.name ?? '');
        if (read.metadata.uid !== pod.metadata.uid) return;
        pod = read;
        // When the pod now holds just what this pass meant to write, another pass (the other instance's tick) is
        // converging the same ECI state, and its Events follow its status write: this pass leaves them to it
        // instead of racing it (one AlreadyExists create less). Nothing is lost should that pass die first: the
        // events-seen mark has not moved, and the next pass over the pod (a tick, at the latest the sweep)
        // writes them.
        const events: Deferred[] = [];
        res = await this.podSync.convergePod(pod, group, undefined, events);
        if (res.outcome !== 'unchanged') later.push(...events);
        else if (events.length > 0) this.deps.logger.debug({ pod: podKey(pod) }, 'status sync: another pass converged the pod; its Events are left to it');
      }
      if ((res.outcome === 'status-patched' || res.outcome === 'unchanged') && group && !pod.metadata.deletionTimestamp) {
        this.applied.set(pod.metadata.uid ?? '', { digest: podStatusDigest(pod.status), at: this.deps.clock.now() });
      }
      if (res.outcome === 'status-patched' || res.outcome === 'group-lost') report.patched++;
      else if (res.outcome === 'deleted') report.deleted++;
      else report.unchanged++;
    } catch (err) {
      report.failed++;
      if (classify(err) !== 'notFound') {
        this.deps.logger.warn({ pod: podKey(pod), err: describeError(err) }, 'status sync of one pod failed');
      }
    }
  }
}

/**
 * A terminating pod whose group still runs or terminates, when the tick says when its deletion was asked (version
 * 3): pod-sync would only wait — a terminating group until TERMINATING_DEADLINE_SECONDS after the deletionTimestamp,
 * a running one (the deleting nudge deletes it) until POLLED_DELETE_AFTER_SECONDS after the deletion — so no read.
 */
function nothingToDoYet(ref: StatusTick['pods'][number], group: EciContainerGroup, now: number): boolean {
  const end = Date.parse(ref.deletionTimestamp ?? '');
  if (!ref.deleting || !Number.isFinite(end)) return false;
  if (group.Status === 'Terminating') return now <= end + TERMINATING_DEADLINE_SECONDS * 1000;
  const asked = end - (ref.deletionGracePeriodSeconds ?? 0) * 1000;
  return (now - asked) / 1000 <= POLLED_DELETE_AFTER_SECONDS;
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

function isString(x: string | undefined): x is string {
  return typeof x === 'string' && x.length > 0;
}
