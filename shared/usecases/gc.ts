/**
 * gc (timer, every few minutes):
 * - Orphans: a group of this cluster + virtual node whose pod UID no longer exists, older than the grace (a younger
 *   group may belong to a pod being created), is deleted and reported in one log line (what, since when, the
 *   estimated cost per hour it no longer incurs and what it cost since creation).
 * - Stuck pods: a bound, non-terminal pod with no group for longer than `stuckPodSeconds` gets a re-nudge; a
 *   deletion nobody finished within DELETING_RENUDGE_SECONDS gets one too. Each re-nudge is recorded on the pod
 *   (annotation `eci-bridge.io/last-renudge`, written after the send), and gc skips a pod it re-nudged less than
 *   that period ago: gc runs in short-lived instances, so the memory lives on the pod (one metadata patch per
 *   re-nudge, which the watcher ignores as a bridge annotation). A stuck pod is thus re-nudged once per period
 *   (period + one gc interval at most between two re-nudges), not on every run while a backlog drains.
 * - Pods stuck on repeated errors (condition ContainerInstanceCreated=False for longer than `stuckPodSeconds`) get
 *   an Event saying so (the Event aggregates, so the count shows how long).
 * Groups are listed before pods, so a pod created between the two listings is never mistaken for missing.
 */
import type { EciContainerGroup } from '../domain/eci.js';
import type { Pod } from '../domain/k8s.js';
import { TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID } from '../domain/names.js';
import {
  CONDITION_SYNC,
  FINISHED_GROUP,
  isTerminalPhase,
  listBridgeGroups,
  podKey,
  REASON_REFUSED,
  recordPodEvent,
  renudge,
  tagOf,
  type UseCaseDeps,
} from './context.js';
import { classify, describeError, isNotFound } from './errors.js';
import { handleLeaks, type LeakOutcome } from './leaks.js';
import { podNudgeOf } from './podSync.js';

/** The time (RFC 3339) gc last re-nudged the pod. */
export const ANNOTATION_LAST_RENUDGE = 'eci-bridge.io/last-renudge';
/** A deletion unfinished this long is re-nudged (and then at most once per this period). */
export const DELETING_RENUDGE_SECONDS = 60;

export interface OrphanReport {
  groupId: string;
  pod: string;
  uid: string;
  status: string;
  since?: string;
  ageSeconds?: number;
  costPerHour?: number;
  costSoFar?: number;
  currency?: string;
}

export interface GcReport {
  groups: number;
  pods: number;
  orphansDeleted: OrphanReport[];
  orphansYoung: number;
  renudged: number;
  /** stuck or unfinished pods left alone because gc re-nudged them less than a period ago */
  renudgeSkipped: number;
  stuckEvents: number;
  /** leaks found on the bill (the reconcile function) that this run acted on */
  leaks: LeakOutcome[];
  eciCalls: number;
  eciError?: string;
}

export class Gc {
  constructor(
    private readonly deps: UseCaseDeps,
    /** where the reconcile function hands over the leaks it found on the bill (the bridge namespace); unset: none */
    private readonly opts: { leaksNamespace?: string } = {},
  ) {}

  async run(): Promise<GcReport> {
    const report: GcReport = { groups: 0, pods: 0, orphansDeleted: [], orphansYoung: 0, renudged: 0, renudgeSkipped: 0, stuckEvents: 0, leaks: [], eciCalls: 0 };
    const groups = await listBridgeGroups(this.deps, report, 'gc');
    if (!groups) return report;
    const pods = await this.deps.cluster.listPods({ nodeName: this.deps.settings.vnodeName });
    report.groups = groups.length;
    report.pods = pods.length;
    const uids = new Set(pods.map((p) => p.metadata.uid ?? ''));
    const now = this.deps.clock.now();

    for (const g of groups) {
      const uid = tagOf(g, TAG_POD_UID);
      if (!uid || uids.has(uid) || g.Status === 'Terminating') continue;
      const created = Date.parse(g.CreationTime ?? '');
      const age = Number.isFinite(created) ? (now - created) / 1000 : Number.POSITIVE_INFINITY;
      if (age < this.deps.settings.orphanGraceSeconds) {
        report.orphansYoung++;
        continue;
      }
      // The pod may live on another node or have been read before it appeared: confirm it is really gone.
      if (await this.podExists(g, uid)) continue;
      try {
        await this.deps.eci.delete(g.ContainerGroupId);
        report.eciCalls++;
      } catch (err) {
        report.eciError = `${classify(err)}: ${describeError(err)}`;
        this.deps.logger.warn({ group: g.ContainerGroupId, err: report.eciError }, 'gc: deleting an orphan failed');
        continue;
      }
      const orphan = await this.describeOrphan(g, uid, age, report);
      report.orphansDeleted.push(orphan);
      this.deps.logger.info(
        { orphan },
        `gc: deleted orphan container group ${orphan.groupId} of ${orphan.pod} (uid ${uid}), ${orphan.status} since ${orphan.since ?? 'unknown'}` +
          (orphan.costPerHour !== undefined
            ? `, saves ~${orphan.costPerHour.toFixed(4)} ${orphan.currency}/h (cost ~${(orphan.costSoFar ?? 0).toFixed(4)} so far)`
            : ''),
      );
    }

    if (this.opts.leaksNamespace) {
      try {
        const deleted = new Set(report.orphansDeleted.map((o) => o.groupId));
        report.leaks = await handleLeaks(this.deps, this.opts.leaksNamespace, deleted, uids, report);
      } catch (err) {
        this.deps.logger.warn({ err: describeError(err) }, 'gc: the leaks found on the bill could not be handled');
      }
    }

    const groupUids = new Set(groups.map((g) => tagOf(g, TAG_POD_UID)).filter((u): u is string => !!u));
    for (const pod of pods) {
      if (isTerminalPhase(pod.status?.phase) || pod.metadata.deletionTimestamp) {
        if (pod.metadata.deletionTimestamp && this.olderThan(pod.metadata.deletionTimestamp, now, DELETING_RENUDGE_SECONDS)) {
          // A deletion that nobody finished (lost nudges): pod-sync completes it.
          await this.safeRenudge(pod, report, 'deleting', DELETING_RENUDGE_SECONDS);
        }
        continue;
      }
      const sync = pod.status?.conditions?.find((c) => c.type === CONDITION_SYNC);
      // a refused pod kept Pending (holdRefused) waits for its owner's template to change: nothing to repair
      if (sync?.reason === REASON_REFUSED) continue;
      if (sync?.status === 'False' && this.olderThan(sync.lastTransitionTime, now, this.deps.settings.stuckPodSeconds)) {
        await recordPodEvent(
          this.deps,
          pod,
          'Warning',
          'StuckOnErrors',
          `no container group yet: ${sync.reason ?? 'errors'} since ${sync.lastTransitionTime}: ${sync.message ?? ''}`,
        );
        report.stuckEvents++;
      }
      if (groupUids.has(pod.metadata.uid ?? '')) continue;
      if (this.olderThan(pod.metadata.creationTimestamp, now, this.deps.settings.stuckPodSeconds)) {
        await this.safeRenudge(pod, report, 'resync', this.deps.settings.stuckPodSeconds);
      }
    }
    return report;
  }

  private olderThan(iso: string | undefined, now: number, seconds: number): boolean {
    const t = Date.parse(iso ?? '');
    return Number.isFinite(t) && now - t > seconds * 1000;
  }

  /** Re-nudges the pod unless gc did so less than `periodSeconds` ago; records the re-nudge on the pod. */
  private async safeRenudge(pod: Pod, report: GcReport, reason: 'resync' | 'deleting', periodSeconds: number) {
    const now = this.deps.clock.now();
    const last = Date.parse(pod.metadata.annotations?.[ANNOTATION_LAST_RENUDGE] ?? '');
    // a time in the future (clock skew between instances) counts as recent only within one period of it
    if (Number.isFinite(last) && Math.abs(now - last) < periodSeconds * 1000) {
      report.renudgeSkipped++;
      return;
    }
    try {
      await renudge(this.deps, podNudgeOf(pod, 0), 0, { counts: false, reason });
      report.renudged++;
    } catch (err) {
      this.deps.logger.warn({ pod: podKey(pod), err: describeError(err) }, 'gc: re-nudge failed');
      return;
    }
    try {
      // after the send: a lost mark costs one extra re-nudge next run, a mark without its nudge would cost a period
      await this.deps.cluster.patchPodMetadata(pod.metadata.namespace ?? '', pod.metadata.name ?? '', {
        annotations: { [ANNOTATION_LAST_RENUDGE]: new Date(now).toISOString() },
      });
    } catch (err) {
      this.deps.logger.debug({ pod: podKey(pod), err: describeError(err) }, 'gc: could not record the re-nudge');
    }
  }

  private async podExists(g: EciContainerGroup, uid: string): Promise<boolean> {
    const ns = tagOf(g, TAG_NAMESPACE);
    const name = tagOf(g, TAG_POD_NAME);
    if (!ns || !name) return false;
    try {
      const pod = await this.deps.cluster.getPod(ns, name);
      return pod.metadata.uid === uid;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async describeOrphan(g: EciContainerGroup, uid: string, age: number, report: GcReport): Promise<OrphanReport> {
    const out: OrphanReport = {
      groupId: g.ContainerGroupId,
      pod: `${tagOf(g, TAG_NAMESPACE) ?? '?'}/${tagOf(g, TAG_POD_NAME) ?? '?'}`,
      uid,
      status: g.Status,
      ...(g.CreationTime ? { since: g.CreationTime } : {}),
      ...(Number.isFinite(age) ? { ageSeconds: Math.round(age) } : {}),
    };
    if (FINISHED_GROUP.has(g.Status)) return { ...out, costPerHour: 0, costSoFar: 0, currency: 'CNY' };
    try {
      report.eciCalls++;
      const price = await this.deps.eci.price({
        ...(g.Cpu !== undefined ? { cpu: g.Cpu } : {}),
        ...(g.Memory !== undefined ? { memory: g.Memory } : {}),
        ...(g.InstanceType ? { instanceType: g.InstanceType } : {}),
        ...(g.ZoneId ? { zoneId: g.ZoneId } : {}),
        ...(g.SpotStrategy ? { spotStrategy: g.SpotStrategy } : {}),
      });
      return {
        ...out,
        costPerHour: price.tradePrice,
        costSoFar: Number.isFinite(age) ? (price.tradePrice * age) / 3600 : undefined,
        currency: price.currency,
      } as OrphanReport;
    } catch (err) {
      this.deps.logger.debug({ group: g.ContainerGroupId, err: describeError(err) }, 'gc: no price for the orphan');
      return out;
    }
  }
}
