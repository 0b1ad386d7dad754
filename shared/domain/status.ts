/**
 * ECI → Kubernetes PodStatus, from a DescribeContainerGroups item or a DescribeContainerGroupStatus `Data[]`
 * item (ECI lifecycle and events, docs/architecture.md#sources). Rules: every ECI status maps to a phase (never Unknown); phases never move backwards
 * (Running → Pending) and a terminal pod is never changed; conditions' lastTransitionTime changes only when
 * their status changes; containers always have a state (never an empty one).
 */
import { isNativeSidecar } from './sidecars.js';
import type { EciContainerGroup, EciContainerState, EciEvent, EciGroupStatusItem, EciPodContainerState } from './eci.js';
import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from './k8s.js';
import { qosClass } from './resources.js';

type Phase = NonNullable<PodStatus['phase']>;

interface NormContainer {
  name: string;
  image?: string;
  imageID?: string;
  ready: boolean;
  restartCount: number;
  state?: ContainerState;
  last?: ContainerState;
  containerID?: string;
}

interface NormGroup {
  id: string;
  status: string;
  spot: boolean;
  creationTime?: string;
  ip?: string;
  ipv6?: string;
  events: EciEvent[];
  containers?: NormContainer[];
  inits?: NormContainer[];
}

/** ECI event reasons that explain a failed creation (ECI events, docs/architecture.md#sources). */
export const CAPACITY_REASONS = ['NoStock', 'StockClose', 'InsufficientBalance', 'FailedScheduling', 'StockExhaust'];

const TERMINAL = new Set<string>(['Succeeded', 'Failed']);

function eciState(s: EciContainerState | undefined, waitingReason: string): ContainerState | undefined {
  if (!s?.State) return undefined;
  if (s.State === 'Running') return { running: s.StartTime ? { startedAt: s.StartTime } : {} };
  if (s.State === 'Terminated') {
    const exitCode = s.ExitCode ?? 0;
    return {
      terminated: {
        exitCode,
        ...(s.Signal ? { signal: s.Signal } : {}),
        reason: s.Reason || (exitCode === 0 ? 'Completed' : 'Error'),
        ...(s.Message ? { message: s.Message } : {}),
        ...(s.StartTime ? { startedAt: s.StartTime } : {}),
        ...(s.FinishTime ? { finishedAt: s.FinishTime } : {}),
      },
    };
  }
  return { waiting: { reason: s.Reason || s.DetailStatus || waitingReason, ...(s.Message ? { message: s.Message } : {}) } };
}

function podState(s: EciPodContainerState | undefined): ContainerState | undefined {
  if (!s) return undefined;
  if (s.Terminated) {
    const t = s.Terminated;
    const exitCode = t.ExitCode ?? 0;
    return {
      terminated: {
        exitCode,
        ...(t.Signal ? { signal: t.Signal } : {}),
        reason: t.Reason || (exitCode === 0 ? 'Completed' : 'Error'),
        ...(t.Message ? { message: t.Message } : {}),
        ...(t.StartedAt ? { startedAt: t.StartedAt } : {}),
        ...(t.FinishedAt ? { finishedAt: t.FinishedAt } : {}),
        ...(t.ContainerID ? { containerID: t.ContainerID } : {}),
      },
    };
  }
  if (s.Running) {
    const at = s.Running.StartedAt ?? s.Running.StartedAtstartedAt;
    return { running: at ? { startedAt: at } : {} };
  }
  if (s.Waiting) return { waiting: { reason: s.Waiting.Reason || 'ContainerCreating', ...(s.Waiting.Message ? { message: s.Waiting.Message } : {}) } };
  return undefined;
}

function fromGroup(g: EciContainerGroup): NormGroup {
  const norm = (cs: EciContainerGroup['Containers']): NormContainer[] =>
    (cs ?? []).map((c) => ({
      name: c.Name,
      ...(c.Image ? { image: c.Image } : {}),
      ready: c.Ready === true,
      restartCount: c.RestartCount ?? 0,
      ...(eciState(c.CurrentState, 'ContainerCreating') ? { state: eciState(c.CurrentState, 'ContainerCreating') } : {}),
      ...(eciState(c.PreviousState, 'ContainerCreating') ? { last: eciState(c.PreviousState, 'ContainerCreating') } : {}),
    }));
  return {
    id: g.ContainerGroupId,
    status: g.Status,
    spot: !!g.SpotStrategy && g.SpotStrategy !== 'NoSpot',
    ...(g.CreationTime ? { creationTime: g.CreationTime } : {}),
    ...(g.IntranetIp ? { ip: g.IntranetIp } : {}),
    ...(g.Ipv6Address ? { ipv6: g.Ipv6Address } : {}),
    events: g.Events ?? [],
    containers: norm(g.Containers),
    ...(g.InitContainers ? { inits: norm(g.InitContainers) } : {}),
  };
}

function fromStatusItem(item: EciGroupStatusItem): NormGroup {
  const ps = item.PodStatus ?? {};
  const ips = (ps.PodIps ?? []).map((p) => p.Ip).filter(Boolean);
  return {
    id: item.ContainerGroupId,
    status: item.Status,
    spot: false,
    ...(ps.StartTime ? { creationTime: ps.StartTime } : {}),
    ...(ps.PodIp ? { ip: ps.PodIp } : {}),
    ...(ips.find((i) => i.includes(':')) ? { ipv6: ips.find((i) => i.includes(':')) } : {}),
    events: [],
    containers: (ps.ContainerStatuses ?? []).map((c) => {
      const state = podState(c.State);
      const last = podState(c.LastState);
      const cid = c.State?.Terminated?.ContainerID;
      return {
        name: c.Name,
        ...(c.Image ? { image: c.Image } : {}),
        ...(c.ImageID ? { imageID: c.ImageID } : {}),
        ready: c.Ready === true,
        restartCount: c.RestartCount ?? 0,
        ...(state ? { state } : {}),
        ...(last ? { last } : {}),
        ...(cid ? { containerID: cid } : {}),
      };
    }),
  };
}

/** PodStatus from a DescribeContainerGroups item. `now` is an RFC 3339 timestamp. */
export function groupToPodStatus(group: EciContainerGroup, pod: Pod, now: string): PodStatus {
  return buildStatus(fromGroup(group), pod, now);
}

/** PodStatus from a DescribeContainerGroupStatus `Data[]` item. */
export function groupStatusToPodStatus(item: EciGroupStatusItem, pod: Pod, now: string): PodStatus {
  return buildStatus(fromStatusItem(item), pod, now);
}

function capacityEvent(events: EciEvent[]): EciEvent | undefined {
  return [...events].reverse().find((e) => CAPACITY_REASONS.includes(e.Reason ?? e.Name ?? ''));
}

/** Phase, reason and message for an ECI group status (ECI lifecycle, docs/architecture.md#sources). */
export function phaseOf(g: { status: string; spot: boolean; events: EciEvent[] }, prevPhase: Phase | undefined): { phase: Phase; reason?: string; message?: string } {
  switch (g.status) {
    case 'Scheduling':
    case 'Pending':
      return { phase: 'Pending' };
    case 'Running':
      return { phase: 'Running' };
    case 'Restarting':
    case 'Updating':
    case 'Terminating':
      return { phase: prevPhase === 'Running' ? 'Running' : 'Pending' };
    case 'Succeeded':
      return { phase: 'Succeeded' };
    case 'Failed':
      return { phase: 'Failed' };
    case 'Expired':
      return g.spot
        ? { phase: 'Failed', reason: 'SpotReclaimed', message: 'The spot instance was reclaimed by ECI (status Expired).' }
        : { phase: 'Failed', reason: 'Expired', message: 'The ECI instance expired (status Expired).' };
    case 'ScheduleFailed': {
      const e = capacityEvent(g.events);
      const reason = e?.Reason === 'NoStock' || e?.Reason === 'StockClose' || e?.Reason === 'StockExhaust' ? 'NoStock' : 'ScheduleFailed';
      return { phase: 'Failed', reason, message: e?.Message || 'ECI could not create the container group (ScheduleFailed).' };
    }
    case 'StartingFailed':
    case 'WatingForDel':
      return { phase: 'Failed', reason: g.status, message: `The ECI instance is ${g.status}.` };
    default:
      return { phase: prevPhase ?? 'Pending' };
  }
}

const RANK: Record<Phase, number> = { Pending: 0, Unknown: 0, Running: 1, Succeeded: 2, Failed: 2 };

function condition(prev: PodCondition[] | undefined, type: string, status: PodCondition['status'], now: string, reason?: string, message?: string): PodCondition {
  const old = prev?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

function buildStatus(g: NormGroup, pod: Pod, now: string): PodStatus {
  const prev = pod.status ?? {};
  if (prev.phase && TERMINAL.has(prev.phase)) return structuredClone(prev);
  const p = phaseOf(g, prev.phase);
  let phase = p.phase;
  if (RANK[phase] < RANK[prev.phase ?? 'Pending']) phase = prev.phase as Phase;
  const terminal = TERMINAL.has(phase);
  const spec = pod.spec ?? { containers: [] };

  const prevInit = new Map((prev.initContainerStatuses ?? []).map((c) => [c.name, c]));
  const prevApp = new Map((prev.containerStatuses ?? []).map((c) => [c.name, c]));
  const initDoneByPhase = phase === 'Running' || phase === 'Succeeded';

  // A native sidecar (restartPolicy Always) runs as an ECI container (sidecars.ts): its status comes from the group's
  // containers and stays among the init container statuses, where Kubernetes keeps it; running counts as started.
  const sidecar = (spec.initContainers ?? []).map((c) => isNativeSidecar(c));
  const initStatuses: ContainerStatus[] = (spec.initContainers ?? []).map((c, i) => {
    const old = prevInit.get(c.name);
    if (sidecar[i]) {
      const n = g.containers?.find((x) => x.name === c.name);
      const state = n?.state ?? old?.state ?? { waiting: { reason: terminal ? (p.reason ?? 'PodFailed') : 'PodInitializing' } };
      return status(g, c.name, c.image ?? '', n, old, state);
    }
    const n = g.inits?.find((x) => x.name === c.name);
    let state = n?.state;
    if (!state && initDoneByPhase) state = { terminated: { exitCode: 0, reason: 'Completed' } };
    if (!state) state = old?.state ?? { waiting: { reason: terminal ? (p.reason ?? 'PodFailed') : 'PodInitializing' } };
    return status(g, c.name, c.image ?? '', n, old, state);
  });
  const initDone = (s: ContainerStatus, i: number): boolean =>
    sidecar[i] ? !!(s.state?.running || s.state?.terminated) : s.state?.terminated?.exitCode === 0;
  const initialized = initStatuses.every(initDone);
  const appStatuses: ContainerStatus[] = spec.containers.map((c) => {
    const n = g.containers?.find((x) => x.name === c.name);
    const old = prevApp.get(c.name);
    const waitingReason = terminal ? (p.reason ?? 'PodFailed') : initialized ? 'ContainerCreating' : 'PodInitializing';
    const state = n?.state ?? { waiting: { reason: waitingReason } };
    return status(g, c.name, c.image ?? '', n, old, state);
  });

  const prevConds = prev.conditions;
  const conds: PodCondition[] = [];
  if (g.status === 'ScheduleFailed') conds.push(condition(prevConds, 'PodScheduled', 'False', now, p.reason, p.message));
  else conds.push(condition(prevConds, 'PodScheduled', 'True', now));
  const notInit = initStatuses.filter((s, i) => !initDone(s, i)).map((s) => s.name);
  conds.push(
    initialized
      ? condition(prevConds, 'Initialized', 'True', now)
      : condition(prevConds, 'Initialized', 'False', now, 'ContainersNotInitialized', `containers with incomplete status: [${notInit.join(' ')}]`),
  );
  // sidecars count for readiness, as in Kubernetes
  const unready = [...initStatuses.filter((_, i) => sidecar[i]), ...appStatuses].filter((s) => !s.ready).map((s) => s.name);
  const completed = phase === 'Succeeded';
  const containersReady = unready.length === 0 && !terminal;
  const crReason = completed ? 'PodCompleted' : containersReady ? undefined : 'ContainersNotReady';
  const crMessage = containersReady || completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  conds.push(condition(prevConds, 'ContainersReady', containersReady ? 'True' : 'False', now, crReason, crMessage));
  const gates = (spec.readinessGates ?? []).map((r) => r.conditionType);
  const gatesOk = gates.every((t) => prevConds?.find((c) => c.type === t)?.status === 'True');
  const ready = containersReady && gatesOk;
  conds.push(
    condition(
      prevConds,
      'Ready',
      ready ? 'True' : 'False',
      now,
      ready ? undefined : containersReady ? 'ReadinessGatesNotReady' : crReason,
      ready ? undefined : containersReady ? `corresponding condition of pod readiness gate is not True` : crMessage,
    ),
  );
  if (p.reason === 'SpotReclaimed') {
    conds.push(condition(prevConds, 'DisruptionTarget', 'True', now, 'TerminationByKubelet', p.message));
  }
  const ours = new Set(conds.map((c) => c.type));
  for (const c of prevConds ?? []) if (!ours.has(c.type)) conds.push(c);

  const out: PodStatus = { phase, conditions: conds };
  const reason = p.reason ?? (phase === prev.phase ? prev.reason : undefined);
  const message = p.message ?? (phase === prev.phase ? prev.message : undefined);
  if (reason) out.reason = reason;
  if (message) out.message = message;
  const ip = g.ip ?? prev.podIP;
  if (ip) {
    // As the kubelet: podIPs/hostIPs list one address per family, the primary first and equal to podIP/hostIP.
    // An ECI pod is its own host, so both lists are the group's addresses. hostIPs exists from Kubernetes 1.28
    // (behind a gate before): an older API server drops it, which is why `visible` leaves it out of comparisons.
    const ips = [{ ip }, ...(g.ipv6 ? [{ ip: g.ipv6 }] : [])];
    out.hostIP = ip;
    out.hostIPs = ips;
    out.podIP = ip;
    out.podIPs = ips.map((x) => ({ ...x }));
  }
  out.startTime = prev.startTime ?? g.creationTime ?? now;
  if (initStatuses.length) out.initContainerStatuses = initStatuses;
  out.containerStatuses = appStatuses;
  const ephemeral = ephemeralStatuses(pod);
  if (ephemeral.length) out.ephemeralContainerStatuses = ephemeral;
  out.qosClass = prev.qosClass ?? qosClass(pod);
  return out;
}

export const REASON_EPHEMERAL_UNSUPPORTED = 'EphemeralContainersUnsupported';
export const EPHEMERAL_MESSAGE =
  'ECI cannot add a container to a running container group (UpdateContainerGroup replaces the containers and restarts ' +
  'the instance): this ephemeral container never runs. Debug with a copy of the pod instead: ' +
  'kubectl debug <pod> --copy-to=<name> --container=debug --image=<image>.';

/**
 * `kubectl debug` adds ephemeral containers that ECI cannot run: each gets a status that says so (waiting, reason
 * EphemeralContainersUnsupported), as the kubelet reports a container it cannot start, instead of none at all.
 */
export function ephemeralStatuses(pod: Pod): ContainerStatus[] {
  return (pod.spec.ephemeralContainers ?? []).map((c) => ({
    name: c.name,
    state: { waiting: { reason: REASON_EPHEMERAL_UNSUPPORTED, message: EPHEMERAL_MESSAGE } },
    lastState: {},
    ready: false,
    restartCount: 0,
    image: c.image ?? '',
    imageID: '',
    started: false,
  }));
}

function status(
  g: NormGroup,
  name: string,
  specImage: string,
  n: NormContainer | undefined,
  old: ContainerStatus | undefined,
  state: ContainerState,
): ContainerStatus {
  const restartCount = n?.restartCount ?? old?.restartCount ?? 0;
  const lastState = n?.last ?? (old && old.restartCount === restartCount ? old.lastState : undefined) ?? {};
  const cs: ContainerStatus = {
    name,
    state,
    lastState,
    ready: n?.ready === true && !!state.running,
    restartCount,
    image: n?.image ?? specImage,
    imageID: n?.imageID ?? old?.imageID ?? '',
    started: !!state.running,
  };
  if (state.running || state.terminated) {
    cs.containerID = n?.containerID ?? state.terminated?.containerID ?? `eci://${g.id}/${name}/${restartCount}`;
  }
  return cs;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && x !== null) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

function visible(s: PodStatus | undefined): unknown {
  // hostIPs always follows hostIP (compared), and API servers before 1.28 drop it: comparing it would rewrite
  // every pod's status on every sync there.
  const { hostIPs: _h, ...st } = s ?? {};
  const byName = <T extends { name: string }>(xs: T[] | undefined): T[] => [...(xs ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return canonical({
    ...st,
    conditions: [...(st.conditions ?? [])]
      .map(({ lastProbeTime: _p, ...c }) => c)
      .sort((a, b) => a.type.localeCompare(b.type)),
    containerStatuses: byName(st.containerStatuses),
    initContainerStatuses: byName(st.initContainerStatuses),
  });
}

/** True when two statuses differ in anything a user would see (lastProbeTime and ordering ignored). */
export function podStatusDiffers(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return JSON.stringify(visible(a)) !== JSON.stringify(visible(b));
}
