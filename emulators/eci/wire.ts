/**
 * The emulator's response renderings, in the wire names and shapes the SDK parses (eci-api.md Appendices A-C): a
 * container group as DescribeContainerGroups shows it, its status as DescribeContainerGroupStatus shows it, its
 * events as DescribeContainerGroupEvents shows them; and the pre-serialised fragments a Describe answer splices in.
 * Pure functions of a group.
 */
import { type CtrState, iso, type SimContainer, type SimGroup as Group } from './lifecycle.js';
import { bool, int, num, objects, str, strings, sub, type Wire } from './params.js';

/**
 * A response fragment already serialised to JSON (a cached group rendering). `stringifyResponse` splices it in
 * as is, so a Describe answer costs a string join per group instead of building and serialising its object.
 */
export class Prejson {
  constructor(readonly text: string) {}
}

/** JSON.stringify of a response object whose top-level values may be arrays of `Prejson` fragments. */
export function stringifyResponse(payload: Record<string, unknown>): string {
  let out = '';
  for (const key of Object.keys(payload)) {
    const v = payload[key];
    let text: string | undefined;
    if (Array.isArray(v) && v.some((x) => x instanceof Prejson)) {
      text = `[${v.map((x) => (x instanceof Prejson ? x.text : (JSON.stringify(x) ?? 'null'))).join(',')}]`;
    } else text = JSON.stringify(v);
    if (text === undefined) continue; // undefined and functions are left out, as JSON.stringify does
    out += `${out ? ',' : ''}${JSON.stringify(key)}:${text}`;
  }
  return `{${out}}`;
}

export function namespaceOf(g: Group): string {
  return g.init.tags.find((t) => t.Key === 'k8s.aliyun.com/namespace' || t.Key === 'namespace')?.Value ?? 'default';
}

export function echoFields(p: Wire): Record<string, unknown> {
  const dns = sub(p, 'DnsConfig');
  return {
    DnsConfig: dns
      ? {
          NameServers: strings(dns, 'NameServer'),
          Searches: strings(dns, 'Search'),
          Options: objects(dns, 'Option').map((o) => ({ Name: str(o, 'Name'), Value: str(o, 'Value') })),
        }
      : undefined,
    HostAliases: objects(p, 'HostAliase').map((h) => ({ Ip: str(h, 'Ip'), Hostnames: strings(h, 'Hostname') })),
    Volumes: objects(p, 'Volume').map((v) => {
      const cfg = sub(v, 'ConfigFileVolume');
      const nfs = sub(v, 'NFSVolume');
      const empty = sub(v, 'EmptyDirVolume');
      return {
        Name: str(v, 'Name'),
        Type: str(v, 'Type'),
        ...(cfg
          ? { ConfigFileVolumeConfigFileToPaths: objects(cfg, 'ConfigFileToPath').map((f) => ({ Path: str(f, 'Path'), Content: str(f, 'Content') })) }
          : {}),
        ...(nfs ? { NFSVolumeServer: str(nfs, 'Server'), NFSVolumePath: str(nfs, 'Path'), NFSVolumeReadOnly: bool(nfs, 'ReadOnly') } : {}),
        ...(empty ? { EmptyDirVolumeMedium: str(empty, 'Medium'), EmptyDirVolumeSizeLimit: str(empty, 'SizeLimit') } : {}),
      };
    }),
    RamRoleName: str(p, 'RamRoleName'),
    EphemeralStorage: num(p, 'EphemeralStorage'),
  };
}

function ctrState(s: CtrState): Record<string, unknown> {
  return { ...s };
}

function containerWire(c: SimContainer, isInit: boolean): Record<string, unknown> {
  const x = c.spec.extra;
  const base: Record<string, unknown> = {
    Name: c.spec.Name,
    Image: c.spec.Image,
    [isInit ? 'Command' : 'Commands']: c.spec.Command,
    Args: c.spec.Arg,
    Cpu: c.spec.Cpu ?? 0,
    Memory: c.spec.Memory ?? 0,
    Gpu: c.spec.Gpu ?? 0,
    ImagePullPolicy: c.spec.ImagePullPolicy ?? 'IfNotPresent',
    WorkingDir: c.spec.WorkingDir,
    Ready: c.ready,
    RestartCount: c.restartCount,
    CurrentState: ctrState(c.state),
    PreviousState: c.previous ? ctrState(c.previous) : { State: '' },
    EnvironmentVars: objects(x, 'EnvironmentVar').map((e) => {
      const ref = sub(e, 'FieldRef');
      return {
        Key: str(e, 'Key'),
        Value: str(e, 'Value') ?? '',
        ValueFrom: ref ? { FieldRef: { FieldPath: str(ref, 'FieldPath') } } : undefined,
      };
    }),
    Ports: objects(x, 'Port').map((pt) => ({ Port: int(pt, 'Port'), Protocol: str(pt, 'Protocol') ?? 'TCP' })),
    VolumeMounts: objects(x, 'VolumeMount').map((m) => ({
      Name: str(m, 'Name'),
      MountPath: str(m, 'MountPath'),
      ReadOnly: bool(m, 'ReadOnly') ?? false,
      ...(isInit ? {} : { SubPath: str(m, 'SubPath'), MountPropagation: str(m, 'MountPropagation') }),
    })),
  };
  if (!isInit) {
    base.Stdin = bool(x, 'Stdin') ?? false;
    base.StdinOnce = bool(x, 'StdinOnce') ?? false;
    base.Tty = bool(x, 'Tty') ?? false;
  }
  return base;
}

export function groupWire(g: Group, withEvent = true): Record<string, unknown> {
  const i = g.init;
  const out: Record<string, unknown> = {
    ContainerGroupId: g.id,
    ContainerGroupName: i.name,
    Status: g.status,
    RegionId: i.regionId,
    ZoneId: i.zoneId,
    VSwitchId: i.vSwitchId,
    SecurityGroupId: i.securityGroupId,
    VpcId: i.vpcId,
    CreationTime: iso(i.createdAt),
    IntranetIp: g.ip ?? '',
    InternetIp: '',
    Cpu: i.cpu,
    Memory: i.memory,
    InstanceType: i.instanceType ?? '',
    SpotStrategy: i.spotStrategy,
    SpotPriceLimit: i.spotPriceLimit ?? 0,
    Discount: 0,
    RestartPolicy: i.restartPolicy,
    Tags: i.tags,
    Containers: g.containers.map((c) => containerWire(c, false)),
    InitContainers: g.initContainers.map((c) => containerWire(c, true)),
    Events: withEvent
      ? g.events.map((e) => ({
          Count: e.Count,
          Type: e.Type,
          Name: e.Name,
          Message: e.Message,
          Reason: e.Reason,
          FirstTimestamp: e.FirstTimestamp,
          LastTimestamp: e.LastTimestamp,
        }))
      : [],
    ...Object.fromEntries(Object.entries(i.echo).filter(([, v]) => v !== undefined)),
  };
  if (g.succeededAt !== undefined) out.SucceededTime = iso(g.succeededAt);
  if (g.failedAt !== undefined) out.FailedTime = iso(g.failedAt);
  if (g.expiredAt !== undefined) out.ExpiredTime = iso(g.expiredAt);
  return out;
}

function podCtrState(s: CtrState | undefined): Record<string, unknown> {
  if (!s?.State) return {};
  if (s.State === 'Running') return { Running: { StartedAtstartedAt: s.StartTime } };
  if (s.State === 'Terminated') {
    return {
      Terminated: {
        ExitCode: s.ExitCode,
        Reason: s.Reason,
        Message: s.Message,
        Signal: s.Signal,
        StartedAt: s.StartTime,
        FinishedAt: s.FinishTime,
        ContainerID: '',
      },
    };
  }
  return { Waiting: { Reason: s.Reason, Message: s.Message } };
}

const PHASES: Record<string, string> = {
  Scheduling: 'Pending',
  Pending: 'Pending',
  Running: 'Running',
  Restarting: 'Pending',
  Updating: 'Pending',
  Terminating: 'Running',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Expired: 'Failed',
};

/** The fields DescribeContainerGroupStatus and DescribeContainerGroupEvents start each group's entry with. */
function podHeader(g: Group): Record<string, unknown> {
  return { ContainerGroupId: g.id, Name: g.init.name, Namespace: namespaceOf(g), uuid: g.id, Annotations: '{}' };
}

export function statusWire(g: Group): Record<string, unknown> {
  const ts = iso(g.statusChangedAt);
  const allReady = g.containers.every((c) => c.ready);
  const initialized = g.initContainers.every((c) => c.state.State === 'Terminated' && c.state.ExitCode === 0);
  const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: ts, Reason: '', Message: '' });
  return {
    ...podHeader(g),
    Status: g.status,
    PodStatus: {
      Phase: PHASES[g.status] ?? 'Unknown',
      HostIp: g.ip ?? '',
      PodIp: g.ip ?? '',
      PodIps: g.ip ? [{ Ip: g.ip }] : [],
      QosClass: 'Guaranteed',
      StartTime: iso(g.init.createdAt),
      Conditions: [
        cond('PodScheduled', g.status !== 'Scheduling'),
        cond('Initialized', initialized),
        cond('ContainersReady', allReady),
        cond('Ready', allReady),
      ],
      ContainerStatuses: g.containers.map((c) => ({
        Name: c.spec.Name,
        Image: c.spec.Image,
        ImageID: '',
        Ready: c.ready,
        RestartCount: c.restartCount,
        Started: c.state.State === 'Running',
        State: podCtrState(c.state),
        LastState: podCtrState(c.previous),
      })),
    },
  };
}

/** One group's entry of DescribeContainerGroupEvents: its events from `source` (any when undefined) since `sinceMs`. */
export function eventsWire(g: Group, source: string | undefined, sinceMs: number | undefined): Record<string, unknown> {
  return {
    ...podHeader(g),
    Events: g.events
      .filter((e) => (!source || e.source === source) && (sinceMs === undefined || e.at >= sinceMs))
      .map((e) => ({
        Count: e.Count,
        FirstTimestamp: e.FirstTimestamp,
        LastTimestamp: e.LastTimestamp,
        Message: e.Message,
        Reason: e.Reason,
        Type: e.Type,
        Metadata: { Name: e.Name, Namespace: namespaceOf(g) },
        ReportingComponent: e.source === 'EciService' ? 'eci-service' : 'eci-agent',
        ReportingInstance: g.id,
        Source: { Component: e.source === 'EciService' ? 'eci-service' : 'kubelet', Host: g.ip ?? '' },
        involvedObject: { ApiVersion: 'v1', Kind: 'Pod', Name: g.init.name, Namespace: namespaceOf(g), Uid: g.id },
      })),
  };
}
