/**
 * pod-sync: converges one pod with its container group (level-triggered: the nudge only says which pod to look at;
 * a version 2 nudge may carry the pod, used instead of a read where a conditional write proves it current:
 * `usableSnapshot`).
 *
 * Decision rules, in order (each returns an Outcome naming what was done, for logs and tests):
 * 1. Pod gone (a 'deleted' nudge: the watcher saw it go, no read; or NotFound), or a different pod now has that
 *    name: delete the groups tagged with the nudge's UID.
 * 2. Pod not on our virtual node: nothing.
 * 3. deletionTimestamp set: delete the group (ECI runs preStop within the TerminationGracePeriodSeconds it got at
 *    create), re-nudge until the group is gone or finished (bounded by the grace period), then delete the pod with
 *    grace 0 and a UID precondition. A Conflict there is done only if the pod is gone or has another UID; the
 *    same pod still there is a retryable error (delayed re-nudge; a tick retries it too).
 * 4. Terminal pod: nothing (never written again).
 * 5. Recorded group: describe, map, patch only if changed; ECI events → Kubernetes Events.
 * 6. No recorded group: if a create was attempted before (the create-attempted mark), look the group up by UID
 *    tag (a crash between create and record); else validate → resolve references → translate → mark the attempt →
 *    create with ClientToken = pod UID (capacity fallbacks get derived tokens; IdempotentParameterMismatch means
 *    the token's group exists: adopt it) → record the group id → Pending with a clear reason + Event. A pod never
 *    attempted costs no lookup: CreateContainerGroup is its only ECI call.
 * Errors: retryable → delayed re-nudge (attempt+1; after maxAttempts an Event and a condition make it visible);
 * capacity → fallbacks, then Event + delayed retry; permanent → pod Failed + Event.
 *
 * Over 400 lines: the rules above are one ordered procedure over one pod, and create, apply, delete and the error
 * paths share its bookkeeping (the create-attempted mark, the group id, the delete claim, the events-seen mark); the
 * pure parts (translation, status mapping, events, names) live in shared/domain.
 */
import { bridgePolicy, failsFast } from '../domain/annotations.js';
import type { EciContainerGroup, EciCreateRequest } from '../domain/eci.js';
import type { Violation } from '../domain/errors.js';
import type { K8sEvent, Pod, PodStatus } from '../domain/k8s.js';
import { type EventWrite, formatEventsSeen, parseEventsSeen, unseenEvents } from '../domain/events.js';
import type { PodNudge } from '../domain/messages.js';
import { ANNOTATION_INSTANCE_ID, replacingController } from '../domain/names.js';
import { tokenKey } from '../domain/references.js';
import { EPHEMERAL_MESSAGE, REASON_EPHEMERAL_UNSUPPORTED } from '../domain/status.js';
import { BatchReads } from './batchReads.js';
import { MasterView } from './services.js';
import {
  ANNOTATION_CREATE_ATTEMPTED,
  annotatePod,
  ANNOTATION_EVENTS_SEEN,
  ANNOTATION_GROUP_DELETE,
  backoffSeconds,
  CONDITION_SYNC,
  condition,
  createAttempted,
  DELETE_CLAIM_SECONDS,
  deleteClaimOf,
  FINISHED_GROUP,
  failPod,
  groupIdOf,
  groupsOfUid,
  holdRefused,
  isCopy,
  isTerminalPhase,
  markCopy,
  podKey,
  preconditionOf,
  readPod,
  type ResolvedReferences,
  recordPodEvent,
  renudge,
  type UseCaseDeps,
  writeStatus,
} from './context.js';
import {
  classify,
  describeError,
  errorCode,
  isConflict,
  isEciError,
  isKubeForbidden,
  isNotFound,
  PodReferenceError,
  PodStillTerminatingError,
} from './errors.js';

export type Outcome =
  | 'gone-cleaned'
  | 'not-ours'
  | 'terminal'
  | 'created'
  | 'adopted'
  | 'status-patched'
  | 'unchanged'
  | 'refused'
  | 'failed'
  | 'retry'
  | 'capacity-retry'
  | 'deleting-wait'
  | 'deleted'
  | 'group-lost';

/** A tick or sweep deletes a still-running group of a terminating pod only this long after the deletion was asked. */
export const POLLED_DELETE_AFTER_SECONDS = 10;

/**
 * An ECI event last seen this recently whose Event another pass wrote already (beyond the pod's events-seen mark)
 * means that pass is mirroring the pod's events right now (emitEciEvents).
 */
export const MIRROR_RACE_SECONDS = 30;

/** Did mirroring `ev` find it written by a pass that is still at it (see MIRROR_RACE_SECONDS)? */
function racing(wrote: EventWrite, ev: K8sEvent, nowMs: number): boolean {
  if (wrote !== 'existed' && wrote !== 'unchanged') return false;
  return nowMs - Date.parse(ev.lastTimestamp ?? '') < MIRROR_RACE_SECONDS * 1000;
}

/**
 * While its group is starting (Scheduling, Pending), a pod's Normal ECI events (scheduled, pulling, pulled…) wait
 * until the oldest of them is this old or the group has started, so that a pod starting within it gets all its
 * start-up Events in one pass and one events-seen mark (the burst bench measured 2.07 mark writes per pod, one per
 * pass that found new events). A Warning (a failed pull, a back-off) is mirrored at once; nothing is dropped — the
 * mark does not move, so a later pass (a tick, the minutely sweep) mirrors them with their own ECI timestamps.
 */
export const EVENT_SETTLE_SECONDS = 10;

const STARTING_GROUP: ReadonlySet<string> = new Set(['Scheduling', 'Pending']);

/** A pod whose group still terminates this long after its deletionTimestamp is deleted anyway (gc collects the group). */
export const TERMINATING_DEADLINE_SECONDS = 30;

/** Work a caller may run after the latency-critical part (Events after every status of a tick). */
export type Deferred = () => Promise<void>;

export interface SyncResult {
  outcome: Outcome;
  groupId?: string;
  /** set when an ECI call failed in this sync (for the heartbeat) */
  eciError?: string;
}

export class PodSync {
  /**
   * `batch`: the Services, ConfigMaps and Secrets read once for one batch of nudges (forBatch); without it each
   * create reads its own. `master`: the `kubernetes` Service and Endpoints, kept by this process for a minute and
   * shared by its batches.
   */
  constructor(
    private readonly deps: UseCaseDeps,
    private readonly batch?: BatchReads,
    private readonly master = new MasterView(deps.cluster, deps.clock),
  ) {}

  /** A PodSync for one batch of nudges: what the creates reference is read once for the whole batch. */
  forBatch(): PodSync {
    return new PodSync(this.deps, new BatchReads(this.deps.cluster, this.master), this.master);
  }

  /** Handles one nudge. Never throws for pod-level failures: those become re-nudges, Events or a Failed pod. */
  async handle(nudge: PodNudge): Promise<SyncResult> {
    const log = this.deps.logger.child({ pod: `${nudge.namespace}/${nudge.name}`, uid: nudge.uid, reason: nudge.reason });
    try {
      return await this.converge(nudge);
    } catch (err) {
      return this.onError(nudge, err, log);
    }
  }

  private async converge(nudge: PodNudge): Promise<SyncResult> {
    // The watcher saw this UID deleted from the API: no read can find it again. A new pod under the name has a
    // nudge of its own.
    if (nudge.reason === 'deleted') {
      await this.cleanUid(nudge.uid);
      return { outcome: 'gone-cleaned' };
    }
    const snapshot = usableSnapshot(nudge);
    if (snapshot) {
      try {
        return await this.convergePod(markCopy(snapshot), undefined, nudge);
      } catch (err) {
        // Its conditional write found the pod changed (Conflict) or gone (NotFound): read it, and converge that.
        if (!isCopy(snapshot) || !(isConflict(err) || isNotFound(err))) throw err;
        this.deps.logger.debug({ pod: `${nudge.namespace}/${nudge.name}`, err: describeError(err) }, "the nudge's pod snapshot is stale: reading the pod");
      }
    }
    let pod: Pod | undefined;
    try {
      pod = await readPod(this.deps, nudge.namespace, nudge.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!pod || pod.metadata.uid !== nudge.uid) {
      await this.cleanUid(nudge.uid);
      if (!pod) return { outcome: 'gone-cleaned' };
      // A new pod took the name: converge it too (its own nudge may be late).
    }
    return this.convergePod(pod, undefined, nudge);
  }

  /**
   * Converges a pod whose state is known. `known` is the described group when the caller has it (status ticks and
   * sweeps), `null` when the caller knows there is none, undefined when pod-sync must look.
   */
  async convergePod(
    pod: Pod,
    known: EciContainerGroup | null | undefined,
    nudge?: Pick<PodNudge, 'attempt'>,
    later?: Deferred[],
  ): Promise<SyncResult> {
    if (pod.spec.nodeName !== this.deps.settings.vnodeName) return { outcome: 'not-ours' };
    if (pod.metadata.deletionTimestamp) return this.deleting(pod, known);
    if (isTerminalPhase(pod.status?.phase)) return { outcome: 'terminal' };
    let group = known;
    const recorded = groupIdOf(pod);
    if (group === undefined && recorded) {
      group = (await this.deps.eci.describe([recorded]))[0] ?? null;
    }
    if (group === undefined || (group === null && !recorded)) {
      // Nobody has tried to create a group for this pod (no mark): none can exist, so no lookup by tag is needed.
      if (!recorded && !createAttempted(pod)) return this.create(pod, nudge?.attempt ?? 0);
      const adopted = await this.adopt(pod, later);
      if (adopted) return adopted;
      if (recorded) return this.groupLost(pod);
      return this.create(pod, nudge?.attempt ?? 0);
    }
    if (group === null) return this.groupLost(pod);
    return this.applyGroup(pod, group, later);
  }

  /** Finds the pod's group by its UID tag (a create whose result was never recorded) and records and applies it. */
  private async adopt(pod: Pod, later?: Deferred[]): Promise<SyncResult | undefined> {
    const found = await groupsOfUid(this.deps, pod.metadata.uid ?? '');
    const live = found.find((g) => !FINISHED_GROUP.has(g.Status)) ?? found[0];
    if (!live) return undefined;
    const res = await this.applyGroup(pod, live, later);
    return { ...res, outcome: 'adopted' };
  }

  /**
   * Maps the group onto the pod: status patch when changed, then new ECI events as Kubernetes Events. The status
   * goes first: it is what users and controllers wait for, the Events (one write each, plus the seen-mark) follow;
   * with `later` they are handed to the caller (a tick writes every pod's status before any pod's Events).
   * A group id the pod does not record yet (adopted, or recorded differently) rides on that status write; only
   * when no status can be written (a terminal pod) does it cost a metadata patch.
   */
  async applyGroup(pod: Pod, group: EciContainerGroup, later?: Deferred[]): Promise<SyncResult> {
    const now = this.deps.clock.now();
    const wasTerminal = isTerminalPhase(pod.status?.phase);
    const status = this.deps.domain.toStatus(group, pod, now);
    const debugAdded = (pod.spec.ephemeralContainers ?? []).filter(
      (c) => !pod.status?.ephemeralContainerStatuses?.some((x) => x.name === c.name && x.state?.waiting?.reason === REASON_EPHEMERAL_UNSUPPORTED),
    );
    const written = await this.writeStatusWithGroupId(pod, status, group.ContainerGroupId);
    // `kubectl debug` added a container ECI cannot run: said once per container, on the pod and as an Event
    const events = async (): Promise<void> => {
      for (const c of debugAdded) {
        await recordPodEvent(this.deps, pod, 'Warning', REASON_EPHEMERAL_UNSUPPORTED, `ephemeral container ${c.name}: ${EPHEMERAL_MESSAGE}`);
      }
      await this.emitEciEvents(pod, group);
    };
    // the events that explain how the pod got terminal are still told, once
    if (!wasTerminal) {
      if (later) later.push(events);
      else await events();
    }
    return { outcome: written ? 'status-patched' : 'unchanged', groupId: group.ContainerGroupId };
  }

  /**
   * Mirrors the group's ECI events not seen yet (the pod's mark: shared/domain/events.ts `EventsSeen`) as Kubernetes
   * Events under their deterministic names (created once; a repeat only moves count and lastTimestamp), then moves
   * the mark. Two invocations mirroring the same events at once (a tick and a sweep) therefore still leave one
   * Event each, with ECI's count. An Event that cannot be written stops the mark just before it, so the next pass
   * writes it again.
   *
   * Passes race: two ticks in two instances read the pod before either moved the mark. So a pass writes its newest
   * event first: when that was written already, recently (MIRROR_RACE_SECONDS), another pass saw at least as much
   * and is writing the rest and then the mark, so this pass leaves them to it — one create answered AlreadyExists
   * instead of one per event. Otherwise it goes on oldest first (the newest written already). Should the other pass have died before its mark, nothing is lost: the mark did not move, and a
   * pass after the window (a tick, at the latest the minutely sweep) writes what is missing.
   */
  private async emitEciEvents(pod: Pod, group: EciContainerGroup): Promise<void> {
    const seen = parseEventsSeen(pod.metadata.annotations?.[ANNOTATION_EVENTS_SEEN]);
    const candidates = this.deps.domain.events(group, pod, seen.atMs - 1); // last seen at the mark or later
    const fresh = unseenEvents(candidates, seen);
    if (STARTING_GROUP.has(group.Status) && settling(fresh, this.deps.clock.now())) return;
    // A mark without a sum was left by a failed write (or an older bridge): the Events past it may be this pod's
    // own earlier writes, so finding them written says nothing about another pass.
    const mayRace = seen.atMs === 0 || seen.sum !== undefined;
    const newest = fresh[fresh.length - 1];
    let first: EventWrite | undefined;
    if (mayRace && newest) {
      // a failed write here says nothing: the loop below writes it again in its turn
      first = await this.deps.cluster.mirrorEvent(newest).catch(() => undefined);
      if (first && racing(first, newest, this.deps.clock.now())) {
        this.deps.logger.debug({ pod: podKey(pod), reason: newest.reason }, 'ECI events being mirrored by another pass: leaving them and the mark to it');
        return;
      }
    }
    let mark: string | undefined;
    for (const ev of fresh) {
      let wrote: EventWrite;
      try {
        wrote = ev === newest && first !== undefined ? first : await this.deps.cluster.mirrorEvent(ev);
      } catch (err) {
        this.deps.logger.warn({ pod: podKey(pod), reason: ev.reason, err: describeError(err) }, 'could not mirror an ECI event');
        // just before it, without a sum: the next pass writes it again (and re-checks the others of its second)
        mark = new Date(Date.parse(ev.lastTimestamp ?? '') - 1).toISOString();
        break;
      }
      if (wrote === 'dropped') this.deps.logger.debug({ pod: podKey(pod), reason: ev.reason }, 'ECI event not mirrored: too many Events about this pod (spam filter)');
      mark = formatEventsSeen(candidates, Date.parse(ev.lastTimestamp ?? ''));
    }
    if (mark === undefined) return;
    await annotatePod(this.deps, pod, ANNOTATION_EVENTS_SEEN, mark);
  }

  private async markCreateAttempt(pod: Pod): Promise<void> {
    // a pod from a nudge's snapshot: the mark proves it current (a Conflict or NotFound makes converge read it)
    await annotatePod(this.deps, pod, ANNOTATION_CREATE_ATTEMPTED, new Date(this.deps.clock.now()).toISOString(), preconditionOf(pod));
  }

  /**
   * Writes `status` with the group id riding on it (one write, not a metadata patch and a status patch); only a pod
   * that takes no status write (terminal) gets the id by a metadata patch of its own.
   */
  private async writeStatusWithGroupId(pod: Pod, status: PodStatus, id: string): Promise<PodStatus | undefined> {
    const written = await writeStatus(this.deps, pod, status, { [ANNOTATION_INSTANCE_ID]: id });
    if (groupIdOf(pod) !== id) await annotatePod(this.deps, pod, ANNOTATION_INSTANCE_ID, id, preconditionOf(pod));
    return written;
  }

  /** The recorded group is gone while the pod is not terminal: ECI lost or deleted it (or forgot a finished one). */
  private async groupLost(pod: Pod): Promise<SyncResult> {
    const created = Date.parse(pod.metadata.creationTimestamp ?? '');
    const age = Number.isFinite(created) ? (this.deps.clock.now() - created) / 1000 : Number.POSITIVE_INFINITY;
    if (age < this.deps.settings.lostGroupGraceSeconds) return { outcome: 'unchanged' };
    await failPod(
      this.deps,
      pod,
      'ContainerGroupNotFound',
      `container group ${groupIdOf(pod) ?? '(unrecorded)'} no longer exists in ECI (deleted outside the bridge, or finished more than an hour ago)`,
    );
    return { outcome: 'group-lost' };
  }

  // ------------------------------------------------------------------ create

  private async create(pod: Pod, attempt: number): Promise<SyncResult> {
    const early = this.deps.domain.validate(pod);
    const refusing = early.filter((v) => !this.deps.domain.transient.has(v.code));
    if (refusing.length > 0) return this.refuse(pod, refusing);
    const refs = await this.resolve(pod);
    const t = this.deps.domain.translate(pod, refs);
    if (!t.ok) {
      const hard = t.violations.filter((v) => !this.deps.domain.transient.has(v.code));
      if (hard.length > 0) return this.refuse(pod, hard);
      throw new PodReferenceError(t.violations.map((v) => `${v.field}: ${v.message}`).join('; '));
    }
    for (const w of t.warnings) this.deps.logger.info({ pod: podKey(pod), warning: w.code }, w.message);
    // A policy annotation the bridge cannot honour is told on the pod itself, not only in a log line: after the
    // pod's status (Events never go before the status on this path).
    const policyEvents = async (): Promise<void> => {
      for (const w of t.warnings.filter((x) => x.code === 'RescheduleIgnored')) await recordPodEvent(this.deps, pod, 'Warning', w.code, w.message);
    };
    const uid = pod.metadata.uid ?? '';
    // The mark goes on before the first CreateContainerGroup: a crash between the create and recording its id
    // leaves it, and the retry then looks the group up by its UID tag instead of creating blindly.
    if (!createAttempted(pod)) await this.markCreateAttempt(pod);
    const variants = capacityVariants(t.request, pod, uid);
    let lastCapacity: unknown;
    let id: string | undefined;
    let used = 0;
    for (const [i, req] of variants.entries()) {
      try {
        id = (await this.deps.eci.create(req)).containerGroupId;
        used = i;
        break;
      } catch (err) {
        // The token was used before with other parameters (a minted token or a ConfigMap changed since a create
        // whose result was lost): that group is this pod's.
        if (errorCode(err) === 'IdempotentParameterMismatch') {
          const adopted = await this.adopt(pod);
          if (adopted) return adopted;
        }
        if (classify(err) !== 'capacity') throw err;
        lastCapacity = err;
        this.deps.logger.warn({ pod: podKey(pod), variant: i, err: describeError(err) }, 'no capacity, trying next fallback');
      }
    }
    if (!id) {
      const msg = `no ECI capacity for this pod after ${variants.length} fallback(s): ${describeError(lastCapacity)}`;
      if (failsFast(bridgePolicy(pod.metadata.annotations))) {
        // eci-fail-strategy: fail-fast (or pod-fail-on-create-err: "true"): ECI's ProviderFailed, no retry.
        await failPod(this.deps, pod, 'ProviderFailed', `${msg} (eci-fail-strategy fail-fast: not retried)`);
        return { outcome: 'failed' };
      }
      await this.markRetrying(pod, 'NoCapacity', msg, attempt + 1);
      await recordPodEvent(this.deps, pod, 'Warning', 'ProviderCapacity', msg);
      await policyEvents();
      const delay = backoffSeconds(attempt, this.deps.settings.capacityRetrySeconds, this.deps.settings.retryMaxSeconds * 4);
      await renudge(this.deps, podNudgeOf(pod, attempt), delay, { counts: true });
      return { outcome: 'capacity-retry' };
    }
    const note = used > 0 ? ` (capacity fallback ${used}: ${describeVariant(variants[used])})` : '';
    // The group id rides on the Pending status write: the watcher learns it from that one watch event. Should this
    // write fail, the create-attempted mark is on the pod and the retry adopts the group by its UID tag. The write
    // is already the status a new group (ECI's Scheduling) maps to — containers waiting in ContainerCreating,
    // startTime, QoS class, the conditions — so the first status tick finds nothing to change until ECI assigns the
    // address (the burst bench measured 0.84 status writes per pod for that step when this write carried only the
    // phase and a reason).
    const creating = this.deps.domain.toStatus({ ContainerGroupId: id, Status: 'Scheduling' }, pod, this.deps.clock.now());
    await this.writeStatusWithGroupId(
      pod,
      {
        ...creating,
        reason: 'ContainerGroupCreating',
        message: `ECI container group ${id} is being created${note}`,
        conditions: [...(creating.conditions ?? []).filter((c) => c.type !== CONDITION_SYNC), condition(this.deps, CONDITION_SYNC, 'True', 'Created', `container group ${id}`)],
      },
      id,
    );
    await recordPodEvent(this.deps, pod, 'Normal', 'ContainerGroupCreated', `created ECI container group ${id}${note}`);
    await policyEvents();
    return { outcome: 'created', groupId: id };
  }

  private async refuse(pod: Pod, violations: Violation[]): Promise<SyncResult> {
    const message = violations.map((v) => `${v.field}: ${v.message} Alternative: ${v.alternative}`).join(' | ');
    const owner = replacingController(pod);
    if (owner) {
      await holdRefused(this.deps, pod, owner, message);
      return { outcome: 'refused' };
    }
    await failPod(this.deps, pod, 'UnsupportedFeature', message);
    return { outcome: 'refused' };
  }

  /**
   * Reads what the pod references. Absent objects stay absent (translation turns a required one into a transient
   * violation, retried); a token request for a missing ServiceAccount is a retryable error.
   */
  private async resolve(pod: Pod): Promise<ResolvedReferences> {
    const ns = pod.metadata.namespace ?? '';
    const needs = this.deps.domain.references(pod);
    const reads = this.batch ?? new BatchReads(this.deps.cluster, this.master);
    const out: ResolvedReferences = {
      configMaps: new Map(),
      secrets: new Map(),
      tokens: new Map(),
      services: await reads.services.view(ns, pod.spec.enableServiceLinks !== false),
    };
    for (const name of needs.configMaps) {
      const cm = await reads.configMap(ns, name);
      if (cm) out.configMaps.set(name, cm);
    }
    for (const name of new Set([...needs.secrets, ...needs.imagePullSecrets])) {
      const s = await reads.secret(ns, name);
      if (s) out.secrets.set(name, s);
    }
    for (const t of needs.serviceAccountTokens) {
      try {
        const minted = await this.deps.cluster.requestPodToken(ns, t.serviceAccountName, {
          podName: pod.metadata.name ?? '',
          podUid: pod.metadata.uid ?? '',
          ...(t.audience ? { audiences: [t.audience] } : {}),
          expirationSeconds: t.expirationSeconds,
        });
        out.tokens.set(tokenKey(t), minted.token);
      } catch (err) {
        if (isNotFound(err)) {
          throw new PodReferenceError(`ServiceAccount ${ns}/${t.serviceAccountName} not found (token request)`, { cause: err });
        }
        throw err;
      }
    }
    const proxy = this.deps.domain.kubeProxyAccount?.(pod);
    if (proxy) {
      // unbound: a pod-bound token must be of a ServiceAccount of the pod's namespace; this one is the bridge's
      try {
        const minted = await this.deps.cluster.requestPodToken(proxy.namespace, proxy.name, { expirationSeconds: proxy.expirationSeconds });
        out.kubeProxyToken = minted.token;
      } catch (err) {
        if (isNotFound(err)) {
          throw new PodReferenceError(`ServiceAccount ${proxy.namespace}/${proxy.name} (kube-proxy) not found: apply deploy/kube-proxy-rbac.yaml`, { cause: err });
        }
        throw err;
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ delete

  /**
   * A pod with a deletionTimestamp: delete its group (ECI runs preStop / SIGTERM within the grace period it got at
   * create), and once the group is gone or finished delete the pod with grace 0. Whoever sees the group
   * terminating leaves it be: the watcher names a terminating pod in its status ticks every second, and a tick
   * (one batched describe for all such pods) finishes the deletion — no per-pod re-describe, no re-nudge. If the
   * watcher is away, gc re-nudges a deletion nobody finished within a minute.
   */
  private async deleting(pod: Pod, known: EciContainerGroup | null | undefined): Promise<SyncResult> {
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const uid = pod.metadata.uid ?? '';
    let groups: EciContainerGroup[];
    if (known !== undefined) groups = known ? [known] : [];
    else {
      const recorded = groupIdOf(pod);
      groups = recorded ? await this.deps.eci.describe([recorded]) : [];
      // without a recorded id a group exists only if a create was attempted (its result lost)
      if (groups.length === 0 && createAttempted(pod)) groups = await groupsOfUid(this.deps, uid);
    }
    const pending = groups.filter((g) => !FINISHED_GROUP.has(g.Status));
    // The 'deleting' nudge deletes the group; a tick or sweep (known) only when that nudge has had its time and
    // the group still runs — else both would send DeleteContainerGroup for the same group.
    const mayDelete = known === undefined || this.deletionAgeSeconds(pod) > POLLED_DELETE_AFTER_SECONDS;
    for (const g of pending) {
      if (g.Status === 'Terminating' || !mayDelete) continue;
      if (await this.claimDelete(pod, g.ContainerGroupId)) await this.deps.eci.delete(g.ContainerGroupId);
    }
    if (pending.length > 0) {
      const deadline = Date.parse(pod.metadata.deletionTimestamp ?? '') + TERMINATING_DEADLINE_SECONDS * 1000;
      if (!(this.deps.clock.now() > deadline)) return { outcome: 'deleting-wait', groupId: pending[0]?.ContainerGroupId };
      this.deps.logger.warn(
        { pod: `${ns}/${name}`, groups: pending.map((g) => g.ContainerGroupId) },
        'grace period over and the group still terminates: deleting the pod (gc collects the group)',
      );
    }
    await this.finalDelete(ns, name, uid);
    return { outcome: 'deleted', groupId: groups[0]?.ContainerGroupId };
  }

  /**
   * The pod's final delete (grace 0, UID precondition), once its group is gone or finished. A status tick calls it
   * directly, without reading the pod, for a terminating pod whose group the watcher named and ECI no longer runs.
   */
  async finalDelete(ns: string, name: string, uid: string): Promise<void> {
    this.deps.memory?.forget(uid);
    try {
      await this.deps.cluster.deletePod(ns, name, { uid, gracePeriodSeconds: 0 });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
      // A Conflict means either that a new pod took the name (the UID precondition failed: ours is gone) or a
      // transient conflict (ours is still there, terminating): only a read tells them apart.
      if (isConflict(err) && (await this.stillThere(ns, name, uid))) {
        throw new PodStillTerminatingError(`the final delete of pod ${ns}/${name} met a conflict and the pod is still there`, {
          cause: err,
        });
      }
    }
  }

  /**
   * Claims the one DeleteContainerGroup of `groupId` (ANNOTATION_GROUP_DELETE): false when a recent claim for it is
   * on the pod already, or when the pod changed since it was read (a Conflict: another invocation claimed first,
   * or wrote something else; the next tick looks again) or is gone.
   */
  private async claimDelete(pod: Pod, groupId: string): Promise<boolean> {
    const now = this.deps.clock.now();
    const claim = deleteClaimOf(pod);
    if (claim?.groupId === groupId && now - claim.atMs < DELETE_CLAIM_SECONDS * 1000) return false;
    try {
      await annotatePod(this.deps, pod, ANNOTATION_GROUP_DELETE, `${groupId} ${new Date(now).toISOString()}`, pod.metadata.resourceVersion);
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  }

  /** Is the pod with this UID still there (a read error propagates: the caller retries)? */
  private async stillThere(ns: string, name: string, uid: string): Promise<boolean> {
    try {
      return (await this.deps.cluster.getPod(ns, name)).metadata.uid === uid;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Seconds since the pod's deletion was asked (deletionTimestamp is that moment plus the grace period). */
  private deletionAgeSeconds(pod: Pod): number {
    const end = Date.parse(pod.metadata.deletionTimestamp ?? '');
    if (!Number.isFinite(end)) return 0;
    const asked = end - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
    return (this.deps.clock.now() - asked) / 1000;
  }

  /** Deletes every group of this cluster tagged with the UID (the pod is gone). */
  async cleanUid(uid: string): Promise<string[]> {
    const groups = await groupsOfUid(this.deps, uid);
    const deleted: string[] = [];
    for (const g of groups) {
      if (g.Status === 'Terminating') continue;
      await this.deps.eci.delete(g.ContainerGroupId);
      deleted.push(g.ContainerGroupId);
    }
    return deleted;
  }

  // ------------------------------------------------------------------ errors

  private async onError(nudge: PodNudge, err: unknown, log: UseCaseDeps['logger']): Promise<SyncResult> {
    if (isKubeForbidden(err)) return this.notEnabled(nudge, err, log);
    const cls = classify(err);
    const why = describeError(err);
    const eciError = isEciError(err) ? `${cls}: ${why}` : undefined;
    let pod: Pod | undefined;
    try {
      pod = await this.deps.cluster.getPod(nudge.namespace, nudge.name);
      if (pod.metadata.uid !== nudge.uid) pod = undefined;
    } catch {
      pod = undefined;
    }
    if (cls === 'permanent' && pod && !pod.metadata.deletionTimestamp) {
      log.warn({ err: why }, 'permanent error: marking the pod Failed');
      await failPod(this.deps, pod, 'ProviderCreateFailed', why);
      return { outcome: 'failed', ...(eciError ? { eciError } : {}) };
    }
    const attempt = nudge.attempt ?? 0;
    const delay = backoffSeconds(attempt, this.deps.settings.retryBaseSeconds, this.deps.settings.retryMaxSeconds);
    log.warn({ err: why, class: cls, attempt, delay }, 'sync failed: retrying later');
    const next = await renudge(this.deps, nudge, delay, { counts: true });
    if (pod && next >= this.deps.settings.maxAttempts) {
      if (next === this.deps.settings.maxAttempts) await this.markRetrying(pod, 'RetryingAfterErrors', why, next);
      await recordPodEvent(this.deps, pod, 'Warning', 'SyncRetrying', `attempt ${next} failed, retrying in ${delay}s: ${why}`);
    }
    return { outcome: 'retry', ...(eciError ? { eciError } : {}) };
  }

  /**
   * The functions may not act on this pod (Forbidden): its namespace is not enabled for the virtual node (no
   * RoleBinding, deploy/functions-rbac.yaml). Say so on the pod with an Event (Events may be created in any
   * namespace) and look again at the longest backoff, so enabling the namespace later converges it.
   */
  private async notEnabled(nudge: PodNudge, err: unknown, log: UseCaseDeps['logger']): Promise<SyncResult> {
    const message =
      `the eci-bridge functions may not act on pods in namespace ${nudge.namespace} (${describeError(err)}): enable it for the ` +
      `virtual node with \`npx eci-bridge setup-functions --enable-namespaces ${nudge.namespace}\` (docs/deploy.md)`;
    log.warn({ err: describeError(err) }, 'namespace not enabled for the virtual node');
    const pod = { metadata: { namespace: nudge.namespace, name: nudge.name, uid: nudge.uid } } as Pod;
    await recordPodEvent(this.deps, pod, 'Warning', 'NamespaceNotEnabled', message);
    await renudge(this.deps, nudge, this.deps.settings.retryMaxSeconds, { counts: false });
    return { outcome: 'retry' };
  }

  /** Makes a retried pod visible: condition ContainerInstanceCreated=False with the reason (Pending pods only). */
  private async markRetrying(pod: Pod, reason: string, message: string, attempt: number): Promise<void> {
    if (isTerminalPhase(pod.status?.phase) || pod.metadata.deletionTimestamp) return;
    try {
      await writeStatus(this.deps, pod, {
        ...(pod.status?.phase ? {} : { phase: 'Pending' }),
        conditions: [condition(this.deps, CONDITION_SYNC, 'False', reason, `attempt ${attempt}: ${message}`)],
      });
    } catch (err) {
      this.deps.logger.warn({ pod: podKey(pod), err: describeError(err) }, 'could not mark the pod as retrying');
    }
  }
}


/**
 * The pod a nudge carries (version 2), where using it instead of a read is safe whatever happened since the watch
 * delivered it; undefined where pod-sync reads the pod:
 * - no group recorded and no create attempted, not deleting (a new pod: the `bound` nudge): the create's first
 *   write, the create-attempted mark, is conditional on the snapshot's resourceVersion, so a pod that changed
 *   since (the mark written by another invocation, the pod deleted) is read before anything else is written;
 * - deleting, with a recorded group or a create attempted: what follows is ECI's say (the group still runs: the
 *   delete claim, conditional on the resourceVersion, so a stale snapshot only leaves the group to the next tick;
 *   the group gone or finished: the pod's final delete, with a UID precondition).
 * A pod with a group that is not deleting (its status, Events, a lost group) is read: a stale snapshot could make
 * those writes wrong, and such nudges (a user's edit, a resync) are few.
 */
export function usableSnapshot(nudge: PodNudge): Pod | undefined {
  const pod = nudge.pod;
  if (!pod || nudge.reason === 'deleted' || pod.metadata.uid !== nudge.uid) return undefined;
  const hasGroup = Boolean(groupIdOf(pod)) || createAttempted(pod);
  const usable = pod.metadata.deletionTimestamp ? hasGroup : !hasGroup;
  // a copy: converge writes what it learns onto the pod, the message stays as it came
  return usable ? structuredClone(pod) : undefined;
}

/** Are these unseen events of a starting group all Normal and younger than EVENT_SETTLE_SECONDS (they may wait)? */
function settling(fresh: readonly K8sEvent[], nowMs: number): boolean {
  if (fresh.length === 0) return false;
  if (fresh.some((e) => e.type === 'Warning')) return false;
  const oldest = Math.min(...fresh.map((e) => Date.parse(e.firstTimestamp ?? e.lastTimestamp ?? '')));
  return Number.isFinite(oldest) && nowMs - oldest < EVENT_SETTLE_SECONDS * 1000;
}

export function podNudgeOf(pod: Pod, attempt: number): Pick<PodNudge, 'namespace' | 'name' | 'uid' | 'attempt'> {
  return {
    namespace: pod.metadata.namespace ?? '',
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
    attempt,
  };
}

/**
 * The create requests to try, in order, when ECI has no capacity. Zones (a vSwitch list) and specs (an
 * `eci-use-specs` list) are already tried by ECI itself, in order, within one call; the bridge adds what ECI does
 * not: spot → on-demand when the pod allows it (`k8s.aliyun.com/eci-spot-fallback: "true"`). Each variant after the
 * first carries its own ClientToken (`<uid>-f<n>`): the same token with other parameters would be refused as
 * IdempotentParameterMismatch, and a crash-retry of the same variant must still be idempotent.
 */
export function capacityVariants(req: EciCreateRequest, pod: Pod, uid: string): EciCreateRequest[] {
  const first: EciCreateRequest = { ...req, ClientToken: uid };
  const out = [first];
  const spot = req.SpotStrategy && req.SpotStrategy !== 'NoSpot';
  // the annotation's one boolean rule (parseBoolean): "True" counts as much as "true"
  if (spot && bridgePolicy(pod.metadata.annotations).spotFallback === true) {
    const { SpotPriceLimit: _p, SpotDuration: _d, ...rest } = req;
    out.push({ ...rest, SpotStrategy: 'NoSpot', ClientToken: `${uid}-f1` });
  }
  return out;
}

function describeVariant(req: EciCreateRequest | undefined): string {
  if (!req) return '';
  return req.SpotStrategy === 'NoSpot' ? 'on-demand instead of spot' : 'alternative';
}
