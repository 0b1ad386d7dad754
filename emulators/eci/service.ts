/**
 * The ECI service behind the emulator's HTTP front: one handler per action, answering in the wire names and shapes
 * the SDK parses (ECI API reference, docs/architecture.md#sources), and ClientToken idempotency. CreateContainerGroup refuses parameter
 * names ECI does not document (documented.ts); other actions ignore unknown parameters. Every group
 * CreateContainerGroup ever created is kept in `created` (an idempotent replay of a ClientToken creates nothing and
 * adds nothing). The concerns live beside it: the request checks (validate.ts), the store and its indexes
 * (store.ts), placement and the vCPU quota (placement.ts), renderings (wire.ts), price (price.ts), metrics
 * (metrics.ts), logs and exec (containerIo.ts).
 */
import { seededRandom } from '../../shared/sim/rng.js';
import { ExecTickets, logResponse } from './containerIo.js';
import type { Faults } from './control.js';
import { checkDocumented } from './documented.js';
import type { ExecTicket } from './exec.js';
import { EciEmulatorError, invalidParameter } from './errors.js';
import { type SimGroup as Group, SimGroup, type SimSettings } from './lifecycle.js';
import { metricsResponse } from './metrics.js';
import { bool, int, jsonStringArray, objects, requireStr, str, unflatten, type Wire, type WireValue } from './params.js';
import { checkVcpuQuota, place } from './placement.js';
import { priceResponse } from './price.js';
import { GroupStore } from './store.js';
import { fingerprintOf, SIGNATURE_PARAMS, validateCreate } from './validate.js';
import { echoFields, eventsWire, Prejson, groupWire, statusWire } from './wire.js';

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

export class EciService {
  private readonly store = new GroupStore();
  /** Every group, in creation order (= `seq` order: a group is inserted once, at creation). */
  readonly groups: ReadonlyMap<string, Group> = this.store.groups;
  private readonly tokens = new Map<string, { id: string; fingerprint: string }>();
  /** Every group ever created, in creation order (finished and deleted ones too). */
  readonly created: CreateRecord[] = [];
  /** Cached DescribeContainerGroups renderings, valid while the group's version is unchanged. */
  private readonly wireCache = new WeakMap<Group, { version: number; withEvent: boolean; json: Prejson }>();
  private seq = 0;
  private readonly execTickets = new ExecTickets();
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
      DescribeContainerLog: (p) => logResponse(this.groupOf(p), p, this.opts.now()),
      ExecContainerCommand: (p, ctx) => this.execTickets.issue(this.groupOf(p), p, ctx.host, this.opts.now()),
      DescribeContainerGroupPrice: (p) => priceResponse(p, this.opts.zones),
      DescribeMultiContainerGroupMetric: (p) => metricsResponse(p, this.store.groups, this.opts.now()),
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
   * Advances every group that has a step due, drops deleted ones, applies the retention of finished groups:
   * beyond the latest `keepLatestFinished`, those finished more than `retainFinishedMs` ago go.
   */
  sweep(): void {
    this.store.sweep(this.opts.now(), this.opts.keepLatestFinished, this.opts.retainFinishedMs);
  }

  /** The exec WebSocket's ticket for `/exec/<group>/<container>?token=…` (taken once; undefined when unknown or late). */
  takeExecTicket(groupId: string, container: string, token: string): ExecTicket | undefined {
    return this.execTickets.take(groupId, container, token, this.opts.now());
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
    const { clientToken, vSwitches, dryRun, ...init } = validateCreate(p);

    // idempotency before capacity: a retried create must find its group even when stock has run out since
    const fingerprint = fingerprintOf(p);
    if (clientToken) {
      const seen = this.tokens.get(clientToken);
      if (seen) {
        if (seen.fingerprint !== fingerprint) throw new EciEmulatorError('IdempotentParameterMismatch');
        return { ContainerGroupId: seen.id };
      }
    }

    const faults = this.opts.faults();
    const { zoneId, vSwitchId } = place(this.opts.zones, faults, str(p, 'ZoneId'), vSwitches, init.spotStrategy !== 'NoSpot');
    checkVcpuQuota(faults, this.store.groups.values(), init.cpu);
    if (dryRun) throw new EciEmulatorError('DryRun.Success');

    const seq = ++this.seq;
    const id = `eci-${(0x1000000000 + seq).toString(36)}${Math.floor(this.rnd() * 36 ** 8)
      .toString(36)
      .padStart(8, '0')}`;
    const now = this.opts.now();
    const group = new SimGroup(
      {
        ...init,
        id,
        seq,
        zoneId,
        vSwitchId,
        securityGroupId: str(p, 'SecurityGroupId') ?? 'sg-emulator',
        vpcId: 'vpc-emulator',
        intranetIp: `${this.opts.podIpFirstOctet}.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}`,
        createdAt: now,
        echo: echoFields(p),
      },
      this.opts.settings,
    );
    this.store.add(group);
    if (clientToken) this.tokens.set(clientToken, { id, fingerprint });
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (!SIGNATURE_PARAMS.has(k) || k === 'ClientToken' || k === 'DryRun') params[k] = v;
    this.created.push({ id, ...(clientToken ? { clientToken } : {}), tags: init.tags.map((t) => ({ ...t })), at: now, params });
    return { ContainerGroupId: id };
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
    this.store.settle(g);
    return {};
  }

  private restartGroup(p: Wire): Record<string, unknown> {
    requireStr(p, 'RegionId');
    const g = this.groupOf(p);
    if (g.status !== 'Running' && g.status !== 'Pending') {
      throw new EciEmulatorError('IncorrectStatus', `The container group is ${g.status}; only Pending or Running can restart.`);
    }
    g.restart(this.opts.now());
    this.store.settle(g);
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
        .map((id) => this.store.groups.get(id))
        .filter((g): g is Group => g !== undefined && match(g))
        .sort((a, b) => a.init.seq - b.init.seq);
    }
    // the smallest index that must contain every match; each is in creation (= seq) order already
    const out: Group[] = [];
    for (const g of this.store.candidates(name, tags)) if (match(g)) out.push(g);
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
    const sinceMs = since === undefined ? undefined : now - since * 1000;
    return { Data: items.map((g) => eventsWire(g, source, sinceMs)), NextToken: next, TotalCount: all.length };
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

export type { WireValue };
