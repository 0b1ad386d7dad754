/**
 * The ECI service behind the emulator's HTTP front: the container-group store, ClientToken idempotency, request
 * validation with ECI's limits and name rules, and one handler per action answering in the wire names and
 * shapes the SDK parses (ECI API reference, docs/architecture.md#sources). CreateContainerGroup refuses parameter names ECI does not
 * document (documented.ts); other actions ignore unknown parameters. Every group CreateContainerGroup ever created
 * is kept in `created` (an idempotent replay of a ClientToken creates nothing and adds nothing).
 */
import { randomUUID } from 'node:crypto';
import { type Faults, seededRandom } from './control.js';
import { checkDocumented } from './documented.js';
import type { ExecTicket } from './exec.js';
import { EciEmulatorError, invalidParameter, missingParameter } from './errors.js';
import { type ContainerSpec, type CtrState, iso, type SimContainer, type SimGroup as Group, SimGroup, type SimSettings } from './lifecycle.js';
import {
  bool,
  int,
  jsonStringArray,
  num,
  objects,
  str,
  strings,
  sub,
  unflatten,
  type Wire,
  type WireValue,
} from './params.js';

export interface ServiceOptions {
  settings: SimSettings;
  retainFinishedMs: number;
  keepLatestFinished: number;
  zones: string[];
  /** 10, or 127 for pod IPs reachable on loopback */
  podIpFirstOctet: number;
  seed: number;
  now: () => number;
  faults: () => Faults;
}

export interface RequestContext {
  /** the Host header, for the exec URLs */
  host: string;
}

type Handler = (p: Wire, ctx: RequestContext, raw: Record<string, string>) => Record<string, unknown>;

/** One group CreateContainerGroup created (never an idempotent replay), kept for the emulator's lifetime. */
export interface CreateRecord {
  id: string;
  clientToken?: string;
  tags: { Key: string; Value: string }[];
  /** ms on the emulator's clock */
  at: number;
  /** the request's parameters as received (flattened wire names), signature parameters left out */
  params: Record<string, string>;
}

/** Parameters that belong to the signature, not to the request (excluded from ClientToken fingerprints). */
const SIGNATURE_PARAMS = new Set([
  'Action',
  'Format',
  'Version',
  'Timestamp',
  'SignatureNonce',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureType',
  'AccessKeyId',
  'SecurityToken',
  'Signature',
  'ClientToken',
  'DryRun',
]);

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,126}[a-z0-9])$/;
const CONTAINER_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const VOLUME_TYPES = new Set([
  'EmptyDirVolume',
  'NFSVolume',
  'ConfigFileVolume',
  'DiskVolume',
  'FlexVolume',
  'HostPathVolume',
]);
const INSTANCE_TYPES: Record<string, { cpu: number; memory: number }> = {
  'ecs.c6.large': { cpu: 2, memory: 4 },
  'ecs.c6.xlarge': { cpu: 4, memory: 8 },
  'ecs.c6.2xlarge': { cpu: 8, memory: 16 },
  'ecs.g6.large': { cpu: 2, memory: 8 },
  'ecs.g6.xlarge': { cpu: 4, memory: 16 },
  'ecs.r6.large': { cpu: 2, memory: 16 },
  'ecs.gn6i-c4g1.xlarge': { cpu: 4, memory: 15 },
};
/** China-site list prices per hour (ECI billing, docs/architecture.md#sources). */
const PRICE_VCPU_HOUR = 0.1764;
const PRICE_GIB_HOUR = 0.0221;

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

/** A binary min-heap of (time, group): which groups have a lifecycle step due. Stale entries are skipped. */
class WakeHeap {
  private readonly items: { at: number; g: Group }[] = [];

  get size(): number {
    return this.items.length;
  }

  push(at: number, g: Group): void {
    const a = this.items;
    a.push({ at, g });
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if ((a[up] as { at: number }).at <= at) break;
      [a[i], a[up]] = [a[up] as { at: number; g: Group }, a[i] as { at: number; g: Group }];
      i = up;
    }
  }

  peekAt(): number | undefined {
    return this.items[0]?.at;
  }

  pop(): { at: number; g: Group } | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && (a[l] as { at: number }).at < (a[m] as { at: number }).at) m = l;
        if (r < a.length && (a[r] as { at: number }).at < (a[m] as { at: number }).at) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as { at: number; g: Group }, a[i] as { at: number; g: Group }];
        i = m;
      }
    }
    return top;
  }
}

const tagKey = (key: string, value?: string): string => (value === undefined ? `k\u0000${key}` : `kv\u0000${key}\u0000${value}`);

export class EciService {
  /** Every group, in creation order (= `seq` order: a group is inserted once, at creation). */
  readonly groups = new Map<string, Group>();
  private readonly tokens = new Map<string, { id: string; fingerprint: string }>();
  /** Every group ever created, in creation order (finished and deleted ones too). */
  readonly created: CreateRecord[] = [];
  /** Groups by tag key and by tag key + value, each in creation order (DescribeContainerGroups' Tag filter). */
  private readonly byTag = new Map<string, Set<Group>>();
  /** Groups by name, in creation order. */
  private readonly byName = new Map<string, Set<Group>>();
  /** When each group's next lifecycle step is due; `sweep` advances only the groups whose time has come. */
  private readonly wake = new WakeHeap();
  private readonly wakeAt = new Map<Group, number>();
  /** Finished groups, oldest first (by finishedAt, then newest creation first): the retention order. */
  private readonly finished: Group[] = [];
  private readonly finishedSet = new Set<Group>();
  /** Cached DescribeContainerGroups renderings, valid while the group's version is unchanged. */
  private readonly wireCache = new WeakMap<Group, { version: number; withEvent: boolean; json: Prejson }>();
  private seq = 0;
  /** exec WebSocket tickets by token (single use, 30 s) */
  private readonly execTickets = new Map<string, ExecTicket & { groupId: string; container: string }>();
  private readonly rnd: () => number;
  private readonly handlers: Record<string, Handler>;

  constructor(private readonly opts: ServiceOptions) {
    this.rnd = seededRandom(opts.seed ^ 0x5eed);
    this.handlers = {
      CreateContainerGroup: (p, _ctx, raw) => this.create(p, raw),
      DeleteContainerGroup: (p) => this.deleteGroup(p),
      RestartContainerGroup: (p) => this.restartGroup(p),
      DescribeContainerGroups: (p) => this.describeGroups(p),
      DescribeContainerGroupStatus: (p) => this.describeStatus(p),
      DescribeContainerGroupEvents: (p) => this.describeEvents(p),
      DescribeContainerLog: (p) => this.describeLog(p),
      ExecContainerCommand: (p, ctx) => this.exec(p, ctx),
      DescribeContainerGroupPrice: (p) => this.price(p),
      DescribeMultiContainerGroupMetric: (p) => this.multiMetric(p),
      DescribeRegions: () => this.regions(),
    };
  }

  hasAction(action: string): boolean {
    return Object.hasOwn(this.handlers, action);
  }

  handle(action: string, raw: Record<string, string>, ctx: RequestContext): Record<string, unknown> {
    const handler = this.handlers[action];
    if (!handler) throw new EciEmulatorError('InvalidAction.NotFound');
    if (action === 'CreateContainerGroup') checkDocumented(raw, SIGNATURE_PARAMS);
    const params = unflatten(raw);
    this.sweep();
    return handler(params, ctx, raw);
  }

  /**
   * Advances every group that has a step due (the others are unchanged by advancing), drops deleted ones,
   * applies the retention of finished groups: beyond the latest `keepLatestFinished`, those finished more
   * than `retainFinishedMs` ago go.
   */
  sweep(): void {
    const now = this.opts.now();
    for (let at = this.wake.peekAt(); at !== undefined && at <= now; at = this.wake.peekAt()) {
      const { g } = this.wake.pop() as { at: number; g: Group };
      if (this.wakeAt.get(g) !== at) continue; // stale: rescheduled or dropped since
      this.wakeAt.delete(g);
      g.advance(now);
      this.settle(g);
    }
    const keep = this.opts.keepLatestFinished;
    while (this.finished.length > keep) {
      const oldest = this.finished[0] as Group;
      if ((oldest.finishedAt ?? 0) + this.opts.retainFinishedMs > now) break;
      this.drop(oldest);
    }
  }

  /** After a group changed: drop it if gone, file it as finished, schedule its next step. */
  private settle(g: Group): void {
    if (g.gone) {
      this.drop(g);
      return;
    }
    if (g.finishedAt !== undefined && !this.finishedSet.has(g)) {
      this.finishedSet.add(g);
      // oldest first; among equal times the newest creation first (it is the first to go)
      const f = this.finished;
      let i = f.length;
      while (i > 0) {
        const o = f[i - 1] as Group;
        const oa = o.finishedAt ?? 0;
        const ga = g.finishedAt;
        if (oa < ga || (oa === ga && o.init.seq > g.init.seq)) break;
        i--;
      }
      f.splice(i, 0, g);
    }
    const next = g.nextAt;
    if (next === undefined) this.wakeAt.delete(g);
    else if (this.wakeAt.get(g) !== next) {
      this.wakeAt.set(g, next);
      this.wake.push(next, g);
    }
  }

  private add(g: Group): void {
    this.groups.set(g.id, g);
    const index = (m: Map<string, Set<Group>>, k: string) => {
      let set = m.get(k);
      if (!set) {
        set = new Set();
        m.set(k, set);
      }
      set.add(g);
    };
    index(this.byName, g.init.name);
    for (const t of g.init.tags) {
      index(this.byTag, tagKey(t.Key));
      index(this.byTag, tagKey(t.Key, t.Value));
    }
    this.settle(g);
  }

  private drop(g: Group): void {
    if (this.groups.get(g.id) !== g) return;
    this.groups.delete(g.id);
    const unindex = (m: Map<string, Set<Group>>, k: string) => {
      const set = m.get(k);
      if (!set) return;
      set.delete(g);
      if (set.size === 0) m.delete(k);
    };
    unindex(this.byName, g.init.name);
    for (const t of g.init.tags) {
      unindex(this.byTag, tagKey(t.Key));
      unindex(this.byTag, tagKey(t.Key, t.Value));
    }
    this.wakeAt.delete(g);
    if (this.finishedSet.delete(g)) this.finished.splice(this.finished.indexOf(g), 1);
  }

  /** A group as DescribeContainerGroups shows it, serialised once per change. */
  private wire(g: Group, withEvent: boolean): Prejson {
    const hit = this.wireCache.get(g);
    if (hit && hit.version === g.version && hit.withEvent === withEvent) return hit.json;
    const json = new Prejson(JSON.stringify(groupWire(g, withEvent)));
    this.wireCache.set(g, { version: g.version, withEvent, json });
    return json;
  }

  // ---------------------------------------------------------------- Create

  private create(p: Wire, raw: Record<string, string>): Record<string, unknown> {
    const regionId = requireStr(p, 'RegionId');
    const name = requireStr(p, 'ContainerGroupName');
    if (!NAME_RE.test(name)) {
      throw invalidParameter(
        'ContainerGroupName',
        'must be 2-128 characters of lowercase letters, digits and hyphens, not starting or ending with a hyphen',
      );
    }
    const clientToken = str(p, 'ClientToken');
    if (clientToken !== undefined && (clientToken.length > 64 || !/^[\x20-\x7e]*$/.test(clientToken))) {
      throw invalidParameter('ClientToken', 'must be at most 64 ASCII characters');
    }
    const restartPolicy = str(p, 'RestartPolicy') ?? 'Always';
    if (restartPolicy !== 'Always' && restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
      throw invalidParameter('RestartPolicy', 'must be Always, OnFailure or Never');
    }
    const volumes = objects(p, 'Volume');
    if (volumes.length > 20) throw invalidParameter('Volume', 'at most 20 volumes');
    const volumeNames = new Set<string>();
    volumes.forEach((v, i) => {
      const vn = requireStr(v, 'Name', `Volume.${i + 1}.Name`);
      const type = requireStr(v, 'Type', `Volume.${i + 1}.Type`);
      if (!VOLUME_TYPES.has(type)) throw invalidParameter(`Volume.${i + 1}.Type`, `unknown volume type ${type}`);
      if (volumeNames.has(vn)) throw invalidParameter(`Volume.${i + 1}.Name`, `duplicate volume name ${vn}`);
      if (type === 'NFSVolume') {
        requireStr(sub(v, 'NFSVolume'), 'Server', `Volume.${i + 1}.NFSVolume.Server`);
        requireStr(sub(v, 'NFSVolume'), 'Path', `Volume.${i + 1}.NFSVolume.Path`);
      }
      volumeNames.add(vn);
    });
    const containerNames = new Set<string>();
    const containers = this.containerSpecs(p, 'Container', volumeNames, containerNames);
    if (containers.length === 0) throw missingParameter('Container.1.Name');
    if (containers.length > 20) throw invalidParameter('Container', 'at most 20 containers');
    const initContainers = this.containerSpecs(p, 'InitContainer', volumeNames, containerNames);
    const tags = objects(p, 'Tag').map((t, i) => {
      const key = requireStr(t, 'Key', `Tag.${i + 1}.Key`);
      if (key.length > 128 || /^(aliyun|acs:)/i.test(key)) {
        throw invalidParameter(`Tag.${i + 1}.Key`, 'at most 128 characters, not starting with aliyun or acs:');
      }
      const value = str(t, 'Value', `Tag.${i + 1}.Value`) ?? '';
      if (value.length > 128) throw invalidParameter(`Tag.${i + 1}.Value`, 'at most 128 characters');
      return { Key: key, Value: value };
    });
    if (tags.length > 20) throw invalidParameter('Tag', 'at most 20 tags');

    const instanceType = str(p, 'InstanceType');
    const spec = instanceType ? INSTANCE_TYPES[instanceType.split(',')[0] as string] : undefined;
    if (instanceType && !spec) throw invalidParameter('InstanceType', `unknown instance type ${instanceType}`);
    const sumCpu = containers.reduce((s, c) => s + (c.Cpu ?? 0), 0);
    const sumMem = containers.reduce((s, c) => s + (c.Memory ?? 0), 0);
    const cpu = spec?.cpu ?? num(p, 'Cpu') ?? (sumCpu || 2);
    const memory = spec?.memory ?? num(p, 'Memory') ?? (sumMem || 4);
    if (cpu <= 0 || cpu > 64) throw invalidParameter('Cpu', 'must be in (0, 64]');
    if (memory <= 0 || memory > 512) throw invalidParameter('Memory', 'must be in (0, 512]');
    if (sumCpu > cpu) throw invalidParameter('Container.N.Cpu', 'the containers ask for more vCPU than the group');
    if (sumMem > memory) throw invalidParameter('Container.N.Memory', 'the containers ask for more memory than the group');

    const spotStrategy = str(p, 'SpotStrategy') ?? 'NoSpot';
    if (!['NoSpot', 'SpotWithPriceLimit', 'SpotAsPriceGo'].includes(spotStrategy)) {
      throw invalidParameter('SpotStrategy', 'must be NoSpot, SpotWithPriceLimit or SpotAsPriceGo');
    }
    const spotPriceLimit = num(p, 'SpotPriceLimit');
    if (spotStrategy === 'SpotWithPriceLimit' && spotPriceLimit === undefined) throw missingParameter('SpotPriceLimit');
    const grace = int(p, 'TerminationGracePeriodSeconds') ?? 30;
    if (grace < 0) throw invalidParameter('TerminationGracePeriodSeconds', 'must be >= 0');
    const vSwitches = (str(p, 'VSwitchId') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (vSwitches.length > 10) throw invalidParameter('VSwitchId', 'at most 10 vSwitches');
    const dryRun = bool(p, 'DryRun') ?? false;

    // idempotency before capacity: a retried create must find its group even when stock has run out since
    const fingerprint = fingerprintOf(p);
    if (clientToken) {
      const seen = this.tokens.get(clientToken);
      if (seen) {
        if (seen.fingerprint !== fingerprint) throw new EciEmulatorError('IdempotentParameterMismatch');
        return { ContainerGroupId: seen.id };
      }
    }

    const { zoneId, vSwitchId } = this.place(str(p, 'ZoneId'), vSwitches, spotStrategy !== 'NoSpot');
    const faults = this.opts.faults();
    if (faults.vcpuQuota !== undefined) {
      let used = 0;
      for (const g of this.groups.values()) if (!g.terminal) used += g.init.cpu;
      if (used + cpu > faults.vcpuQuota) {
        throw new EciEmulatorError(
          'QuotaExceeded.Cpu',
          `The vCPU quota of the region is exhausted: used ${used}, quota ${faults.vcpuQuota}, requested ${cpu}.`,
        );
      }
    }
    if (dryRun) throw new EciEmulatorError('DryRun.Success');

    const seq = ++this.seq;
    const id = `eci-${(0x1000000000 + seq).toString(36)}${Math.floor(this.rnd() * 36 ** 8)
      .toString(36)
      .padStart(8, '0')}`;
    const now = this.opts.now();
    const group = new SimGroup(
      {
        id,
        seq,
        name,
        regionId,
        zoneId,
        vSwitchId,
        securityGroupId: str(p, 'SecurityGroupId') ?? 'sg-emulator',
        vpcId: 'vpc-emulator',
        intranetIp: `${this.opts.podIpFirstOctet}.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}`,
        createdAt: now,
        restartPolicy,
        terminationGracePeriodSeconds: grace,
        tags,
        cpu,
        memory,
        instanceType,
        spotStrategy,
        spotPriceLimit,
        containers,
        initContainers,
        echo: echoFields(p),
      },
      this.opts.settings,
    );
    this.add(group);
    if (clientToken) this.tokens.set(clientToken, { id, fingerprint });
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (!SIGNATURE_PARAMS.has(k) || k === 'ClientToken' || k === 'DryRun') params[k] = v;
    this.created.push({ id, ...(clientToken ? { clientToken } : {}), tags: tags.map((t) => ({ ...t })), at: now, params });
    return { ContainerGroupId: id };
  }

  private containerSpecs(p: Wire, key: string, volumes: Set<string>, names: Set<string>): ContainerSpec[] {
    return objects(p, key).map((c, i) => {
      const path = `${key}.${i + 1}`;
      const name = requireStr(c, 'Name', `${path}.Name`);
      if (!CONTAINER_NAME_RE.test(name)) {
        throw invalidParameter(`${path}.Name`, 'must be 1-63 lowercase letters, digits and hyphens');
      }
      if (names.has(name)) throw invalidParameter(`${path}.Name`, `duplicate container name ${name}`);
      names.add(name);
      const image = requireStr(c, 'Image', `${path}.Image`);
      const mounts = objects(c, 'VolumeMount', `${path}.VolumeMount`);
      mounts.forEach((m, j) => {
        const vn = requireStr(m, 'Name', `${path}.VolumeMount.${j + 1}.Name`);
        requireStr(m, 'MountPath', `${path}.VolumeMount.${j + 1}.MountPath`);
        if (!volumes.has(vn)) throw invalidParameter(`${path}.VolumeMount.${j + 1}.Name`, `no volume named ${vn}`);
      });
      const cpu = num(c, 'Cpu', `${path}.Cpu`);
      const memory = num(c, 'Memory', `${path}.Memory`);
      if (cpu !== undefined && cpu < 0) throw invalidParameter(`${path}.Cpu`, 'must be >= 0');
      if (memory !== undefined && memory < 0) throw invalidParameter(`${path}.Memory`, 'must be >= 0');
      return {
        Name: name,
        Image: image,
        Command: strings(c, 'Command', `${path}.Command`),
        Arg: strings(c, 'Arg', `${path}.Arg`),
        Cpu: cpu,
        Memory: memory,
        Gpu: int(c, 'Gpu', `${path}.Gpu`),
        ImagePullPolicy: str(c, 'ImagePullPolicy', `${path}.ImagePullPolicy`),
        WorkingDir: str(c, 'WorkingDir', `${path}.WorkingDir`),
        extra: c,
      };
    });
  }

  /** Picks the zone and vSwitch; NoStock when every candidate is sold out (VSwitchOrdered semantics). */
  private place(zone: string | undefined, vSwitches: string[], spot: boolean): { zoneId: string; vSwitchId: string } {
    const noStock = this.opts.faults().noStock;
    if (spot && noStock?.spot) {
      throw new EciEmulatorError('OperationDenied.NoStock', 'Sales of spot instances are temporarily suspended in every zone.');
    }
    const zoneOf = (vsw: string) => this.opts.zones[hash(vsw) % this.opts.zones.length] as string;
    const candidates = vSwitches.length
      ? vSwitches.map((v) => ({ vSwitchId: v, zoneId: zone ?? zoneOf(v) }))
      : [{ vSwitchId: 'vsw-emulator-default', zoneId: zone ?? (this.opts.zones[0] as string) }];
    for (const c of candidates) {
      if (noStock?.zones?.includes(c.zoneId) || noStock?.vSwitches?.includes(c.vSwitchId)) continue;
      return c;
    }
    const where = candidates.map((c) => `${c.zoneId}/${c.vSwitchId}`).join(', ');
    throw new EciEmulatorError(
      'OperationDenied.NoStock',
      `Sales of this resource are temporarily suspended in the specified zone (${where}).`,
    );
  }

  // ---------------------------------------------------------------- Delete / Restart

  private groupOf(p: Wire): Group {
    const id = requireStr(p, 'ContainerGroupId');
    const g = this.groups.get(id);
    if (!g || g.gone) throw new EciEmulatorError('InvalidParameter.NotFound', `The specified ContainerGroupId ${id} is not found.`);
    return g;
  }

  private deleteGroup(p: Wire): Record<string, unknown> {
    requireStr(p, 'RegionId');
    const g = this.groupOf(p);
    g.delete(this.opts.now());
    this.settle(g);
    return {};
  }

  private restartGroup(p: Wire): Record<string, unknown> {
    requireStr(p, 'RegionId');
    const g = this.groupOf(p);
    if (g.status !== 'Running' && g.status !== 'Pending') {
      throw new EciEmulatorError('IncorrectStatus', `The container group is ${g.status}; only Pending or Running can restart.`);
    }
    g.restart(this.opts.now());
    this.settle(g);
    return {};
  }

  // ---------------------------------------------------------------- Describe*

  /** Groups matching the common filters, in creation order; `ids` (if given) restricts and keeps unknown ids out. */
  private select(p: Wire, idsKey = 'ContainerGroupIds'): Group[] {
    const regionId = requireStr(p, 'RegionId');
    const ids = jsonStringArray(p, idsKey, 20);
    const tags = objects(p, 'Tag').map((t) => ({ Key: str(t, 'Key') ?? '', Value: str(t, 'Value') }));
    const status = str(p, 'Status');
    const name = str(p, 'ContainerGroupName');
    const zone = str(p, 'ZoneId');
    const vsw = str(p, 'VSwitchId');
    const match = (g: Group) =>
      g.init.regionId === regionId &&
      (!status || g.status === status) &&
      (!name || g.init.name === name) &&
      (!zone || g.init.zoneId === zone) &&
      (!vsw || g.init.vSwitchId === vsw) &&
      tags.every((t) => g.init.tags.some((x) => x.Key === t.Key && (t.Value === undefined || x.Value === t.Value)));
    if (ids) {
      return ids
        .map((id) => this.groups.get(id))
        .filter((g): g is Group => g !== undefined && match(g))
        .sort((a, b) => a.init.seq - b.init.seq);
    }
    // the smallest index that must contain every match; each is in creation (= seq) order already
    let candidates: Iterable<Group> = this.groups.values();
    let size = this.groups.size;
    const narrow = (set: Set<Group> | undefined) => {
      const n = set?.size ?? 0;
      if (n < size) {
        candidates = set ?? [];
        size = n;
      }
    };
    if (name) narrow(this.byName.get(name));
    for (const t of tags) narrow(this.byTag.get(tagKey(t.Key, t.Value)));
    const out: Group[] = [];
    for (const g of candidates) if (match(g)) out.push(g);
    return out;
  }

  private page(p: Wire, all: Group[], defaultLimit: number, maxLimit: number): { items: Group[]; next: string } {
    const limit = int(p, 'Limit') ?? defaultLimit;
    if (limit < 1 || limit > maxLimit) throw invalidParameter('Limit', `must be in [1, ${maxLimit}]`);
    const token = str(p, 'NextToken');
    let after = 0;
    if (token) {
      const m = /^seq-(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
      if (!m) throw invalidParameter('NextToken', 'unknown paging token');
      after = Number(m[1]);
    }
    const rest = all.filter((g) => g.init.seq > after);
    const items = rest.slice(0, limit);
    const last = items[items.length - 1];
    const next = rest.length > limit && last ? Buffer.from(`seq-${last.init.seq}`).toString('base64url') : '';
    return { items, next };
  }

  private describeGroups(p: Wire): Record<string, unknown> {
    const all = this.select(p);
    const { items, next } = this.page(p, all, 20, 20);
    const withEvent = bool(p, 'WithEvent') ?? true;
    return {
      ContainerGroups: items.map((g) => this.wire(g, withEvent)),
      NextToken: next,
      TotalCount: all.length,
    };
  }

  private describeStatus(p: Wire): Record<string, unknown> {
    const since = int(p, 'SinceSecond');
    const now = this.opts.now();
    const all = this.select(p).filter((g) => since === undefined || g.statusChangedAt >= now - since * 1000);
    const { items, next } = this.page(p, all, 200, 200);
    return { Data: items.map(statusWire), NextToken: next, TotalCount: all.length };
  }

  private describeEvents(p: Wire): Record<string, unknown> {
    const since = int(p, 'SinceSecond');
    const source = str(p, 'EventSource');
    const now = this.opts.now();
    const all = this.select(p);
    const { items, next } = this.page(p, all, 200, 200);
    const data = items.map((g) => ({
      ContainerGroupId: g.id,
      Name: g.init.name,
      Namespace: namespaceOf(g),
      uuid: g.id,
      Annotations: '{}',
      Events: g.events
        .filter((e) => (!source || e.source === source) && (since === undefined || e.at >= now - since * 1000))
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
    }));
    return { Data: data, NextToken: next, TotalCount: all.length };
  }

  private container(g: Group, p: Wire): SimContainer {
    const name = requireStr(p, 'ContainerName');
    const c = [...g.containers, ...g.initContainers].find((x) => x.spec.Name === name);
    if (!c) throw invalidParameter('ContainerName', `no container ${name} in ${g.id}`);
    return c;
  }

  private describeLog(p: Wire): Record<string, unknown> {
    requireStr(p, 'RegionId');
    const g = this.groupOf(p);
    const c = this.container(g, p);
    const previous = bool(p, 'LastTime') ?? false;
    let lines = g.logLines(c, previous, this.opts.now());
    const sinceSeconds = int(p, 'SinceSeconds');
    const startTime = str(p, 'StartTime');
    if (sinceSeconds !== undefined) lines = lines.filter((l) => l.at >= this.opts.now() - sinceSeconds * 1000);
    if (startTime) {
      const t = Date.parse(startTime);
      if (Number.isNaN(t)) throw invalidParameter('StartTime', 'not an RFC 3339 time');
      lines = lines.filter((l) => l.at >= t);
    }
    // ECI: Tail defaults to 500 lines and is at most 2000; LimitBytes 1..1048576; the content at most 1 MB
    const tail = int(p, 'Tail') ?? 500;
    if (tail < 0 || tail > 2000) throw invalidParameter('Tail', 'must be between 0 and 2000');
    lines = lines.slice(Math.max(0, lines.length - tail));
    const stamps = bool(p, 'Timestamps') ?? false;
    let content = lines.map((l) => `${stamps ? `${new Date(l.at).toISOString()} ` : ''}${l.line}\n`).join('');
    const given = int(p, 'LimitBytes');
    if (given !== undefined && (given < 1 || given > 1_048_576)) throw invalidParameter('LimitBytes', 'must be between 1 and 1048576');
    const limitBytes = given ?? 1_048_576;
    if (Buffer.byteLength(content) > limitBytes) {
      content = Buffer.from(content).subarray(Buffer.byteLength(content) - limitBytes).toString();
    }
    return { ContainerName: c.spec.Name, Content: content };
  }

  private exec(p: Wire, ctx: RequestContext): Record<string, unknown> {
    requireStr(p, 'RegionId');
    const g = this.groupOf(p);
    const c = this.container(g, p);
    const command = jsonStringArray(p, 'Command', 20);
    if (!command || command.length === 0) throw missingParameter('Command');
    if (command.some((x) => x.length > 256)) throw invalidParameter('Command', 'each item at most 256 characters');
    const sync = bool(p, 'Sync') ?? false;
    const tty = bool(p, 'TTY') ?? false;
    if (sync && tty) throw invalidParameter('TTY', 'Sync requires TTY=false');
    if (c.state.State !== 'Running') {
      throw new EciEmulatorError('IncorrectStatus', `The container ${c.spec.Name} is not running.`);
    }
    const token = randomUUID();
    const base = `${ctx.host}/exec/${g.id}/${c.spec.Name}?token=${token}`;
    for (const [k, v] of this.execTickets) if (v.expiresAt < this.opts.now()) this.execTickets.delete(k);
    this.execTickets.set(token, {
      groupId: g.id,
      container: c.spec.Name,
      groupName: g.init.name,
      command,
      tty,
      stdin: bool(p, 'Stdin') ?? true,
      expiresAt: this.opts.now() + 30_000,
    });
    const out: Record<string, unknown> = { WebSocketUri: `ws://${base}`, HttpUrl: `http://${base}` };
    if (sync) out.SyncResponse = execOutput(g, command);
    return out;
  }

  /** The exec WebSocket's ticket for `/exec/<group>/<container>?token=…` (taken once; undefined when unknown or late). */
  takeExecTicket(groupId: string, container: string, token: string): ExecTicket | undefined {
    const t = this.execTickets.get(token);
    this.execTickets.delete(token);
    if (!t || t.groupId !== groupId || t.container !== container || t.expiresAt < this.opts.now()) return undefined;
    return t;
  }

  private price(p: Wire): Record<string, unknown> {
    requireStr(p, 'RegionId');
    const instanceType = str(p, 'InstanceType');
    const spec = instanceType ? INSTANCE_TYPES[instanceType] : undefined;
    if (instanceType && !spec) throw invalidParameter('InstanceType', `unknown instance type ${instanceType}`);
    const cpu = spec?.cpu ?? num(p, 'Cpu') ?? 2;
    const memory = spec?.memory ?? num(p, 'Memory') ?? 4;
    const storage = Math.max(0, num(p, 'EphemeralStorage') ?? 0);
    const round = (x: number) => Math.round(x * 10000) / 10000;
    const cpuPrice = round(cpu * PRICE_VCPU_HOUR);
    const memPrice = round(memory * PRICE_GIB_HOUR);
    const diskPrice = round(storage * 0.000_35);
    const total = round(cpuPrice + memPrice + diskPrice);
    const spot = (str(p, 'SpotStrategy') ?? 'NoSpot') !== 'NoSpot';
    const detail = (resource: string, price: number) => ({
      Resource: resource,
      OriginalPrice: price,
      DiscountPrice: 0,
      TradePrice: price,
      Rules: { Rule: [] },
    });
    return {
      PriceInfo: {
        Price: {
          Currency: 'CNY',
          OriginalPrice: total,
          DiscountPrice: 0,
          TradePrice: total,
          DetailInfos: {
            DetailInfo: [detail('Cpu', cpuPrice), detail('Memory', memPrice), ...(storage ? [detail('EphemeralStorage', diskPrice)] : [])],
          },
        },
        Rules: { Rule: [] },
        SpotPrices: {
          SpotPrice: spot
            ? [
                {
                  InstanceType: instanceType ?? `eci.${cpu}c${memory}g`,
                  ZoneId: str(p, 'ZoneId') ?? this.opts.zones[0],
                  OriginPrice: total,
                  SpotPrice: round(total * 0.2),
                },
              ]
            : [],
        },
      },
    };
  }

  private multiMetric(p: Wire): Record<string, unknown> {
    requireStr(p, 'RegionId');
    const ids = jsonStringArray(p, 'ContainerGroupIds', 20);
    if (!ids) throw missingParameter('ContainerGroupIds');
    const now = this.opts.now();
    const data = ids
      .map((id) => this.groups.get(id))
      .filter((g): g is Group => g !== undefined)
      .map((g) => {
        const running = g.containers.filter((c) => c.state.State === 'Running');
        const cpuStats = (limit: number, load: number) => ({
          Limit: limit * 1000,
          Load: load,
          UsageCoreNanoSeconds: Math.round((now - g.init.createdAt) * 1e6 * load),
          UsageNanoCores: Math.round(load * 1e9),
        });
        const memStats = (bytes: number, limit: number) => ({
          AvailableBytes: Math.max(0, limit - bytes),
          Cache: Math.round(bytes * 0.1),
          Rss: Math.round(bytes * 0.8),
          UsageBytes: bytes,
          WorkingSet: Math.round(bytes * 0.9),
        });
        const per = running.map((c) => ({
          Name: c.spec.Name,
          CPU: cpuStats(c.spec.Cpu ?? g.init.cpu, 0.05),
          Memory: memStats(64 * 2 ** 20, (c.spec.Memory ?? g.init.memory) * 2 ** 30),
        }));
        const limitBytes = g.init.memory * 2 ** 30;
        return {
          ContainerGroupId: g.id,
          Records: running.length
            ? [
                {
                  Timestamp: iso(now),
                  CPU: cpuStats(g.init.cpu, 0.05 * running.length),
                  Memory: memStats(64 * 2 ** 20 * running.length, limitBytes),
                  Containers: per,
                  Disk: [],
                  Filesystem: [],
                  Network: { Interfaces: [{ Name: 'eth0', RxBytes: 0, RxDrops: 0, RxErrors: 0, RxPackets: 0, TxBytes: 0, TxDrops: 0, TxErrors: 0, TxPackets: 0 }] },
                },
              ]
            : [],
        };
      });
    return { MonitorDatas: data };
  }

  private regions(): Record<string, unknown> {
    const regions = new Set([...this.groups.values()].map((g) => g.init.regionId));
    regions.add('cn-hangzhou');
    return {
      Regions: [...regions].map((r) => ({
        RegionId: r,
        RegionEndpoint: `eci.${r}.aliyuncs.com`,
        Zones: this.opts.zones,
        RecommendZones: this.opts.zones,
      })),
    };
  }
}

// ---------------------------------------------------------------- wire renderers

function requireStr(obj: Wire | undefined, key: string, path = key): string {
  const v = str(obj, key, path);
  if (v === undefined || v === '') throw missingParameter(path);
  return v;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function fingerprintOf(p: Wire): string {
  const keys = Object.keys(p)
    .filter((k) => !SIGNATURE_PARAMS.has(k))
    .sort();
  return JSON.stringify(keys.map((k) => [k, p[k]]));
}

function namespaceOf(g: Group): string {
  return g.init.tags.find((t) => t.Key === 'k8s.aliyun.com/namespace' || t.Key === 'namespace')?.Value ?? 'default';
}

function echoFields(p: Wire): Record<string, unknown> {
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

function statusWire(g: Group): Record<string, unknown> {
  const ts = iso(g.statusChangedAt);
  const allReady = g.containers.every((c) => c.ready);
  const initialized = g.initContainers.every((c) => c.state.State === 'Terminated' && c.state.ExitCode === 0);
  const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: ts, Reason: '', Message: '' });
  return {
    ContainerGroupId: g.id,
    Name: g.init.name,
    Namespace: namespaceOf(g),
    uuid: g.id,
    Annotations: '{}',
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

function execOutput(g: Group, command: string[]): string {
  const [cmd, ...args] = command;
  if (cmd === 'echo') return `${args.join(' ')}\n`;
  if (cmd === 'hostname') return `${g.init.name}\n`;
  if (cmd === 'env') return '';
  return `eci-sim: executed ${JSON.stringify(command)}\n`;
}

export type { WireValue };
