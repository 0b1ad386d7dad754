/**
 * The ECI adapter: implements the `ContainerGroups` port over `@alicloud/eci20180808` (the only place that
 * imports it). Every call goes through one pipeline: client-side token bucket → SDK call → on failure classify
 * (errors.ts) → retry the retryable ones with exponential backoff and jitter (same request, so a create keeps its
 * ClientToken) up to `maxAttempts` → surface an `EciError` with a sanitised message.
 *
 * Over 400 lines: one method per ECI action over one shared pipeline, each response's mapping beside its call.
 */
import { randomUUID } from 'node:crypto';
import type { EciContainerGroup, EciCreateRequest, EciEvent, EciGroupStatusItem, EciKeyValue } from '../../domain/eci.js';
import type { Clock, ContainerGroups, EciGroupMetric, EciLogOptions, Logger } from '../../ports/index.js';
import type { EciAction } from './actions.js';
import { classifyCode, EciError, EciSdkFailure, sdkErrorFacts } from './errors.js';
import { type BucketSpec, ECI_API_QUOTAS } from '../../domain/eciQuotas.js';
import { backoffMs, DEFAULT_RETRY, type RetryPolicy, systemClock, WaitingBucket } from './retry.js';
import { Redactor, secretsOfCreate } from './sanitize.js';
import { toSdkModel, toWire } from './models.js';
import type { EciClientOptions, EciCredentials, EciCredentialsProvider, EciSdkClient } from './sdk.js';

export { ECI_ACTIONS, type EciAction, eciRamActions } from './actions.js';
export { classifyCode, EciError, type EciErrorKind } from './errors.js';
export type { RetryPolicy } from './retry.js';
export { REDACTED, Redactor } from './sanitize.js';
export type { EciCredentials, EciCredentialsProvider } from './sdk.js';

/**
 * The SDK (@alicloud/eci20180808 with openapi-client, tea-util, credentials: ~600 KB and most of a function
 * bundle's load time) is loaded on the first call, not when the adapter's module is: a process that never calls
 * ECI never loads it, and the others load it once (the promise is shared).
 */
type SdkModule = typeof import('./sdk.js');
let sdkModule: Promise<SdkModule> | undefined;
const loadSdk = (): Promise<SdkModule> => {
  sdkModule ??= import('./sdk.js');
  return sdkModule;
};

export interface EciAdapterOptions extends Omit<EciClientOptions, 'onCredentials'> {
  retry?: Partial<RetryPolicy>;
  /** Client-side token buckets per action: ECI's quotas by default, overridable per action, or `false` (off). */
  rateLimits?: false | Partial<Record<string, BucketSpec>>;
  /** describe() batches run at most this many calls at once (default 4) */
  describeConcurrency?: number;
  clock?: Clock;
  logger?: Logger;
  /** jitter source (default Math.random); inject for reproducible tests */
  random?: () => number;
}

/** What the adapter did, for tests, metrics and benchmarks. */
export interface EciAdapterStats {
  calls: number;
  retries: number;
  /** total time slept in backoff, ms */
  backoffMs: number;
  /** errors surfaced to callers, by kind */
  failures: Record<string, number>;
}

const noopLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => noopLogger,
};


function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class EciContainerGroups implements ContainerGroups {
  #client: Promise<EciSdkClient> | undefined;
  readonly #clientOptions: EciClientOptions;
  readonly #region: string;
  readonly #retry: RetryPolicy;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #buckets = new Map<string, WaitingBucket>();
  readonly #limits: false | Record<string, BucketSpec>;
  readonly #redactor = new Redactor();
  readonly #describeConcurrency: number;
  readonly #deadlineMs: number;
  readonly #stats: EciAdapterStats = { calls: 0, retries: 0, backoffMs: 0, failures: {} };

  constructor(opts: EciAdapterOptions) {
    this.#region = opts.regionId;
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? noopLogger;
    this.#random = opts.random ?? Math.random;
    this.#describeConcurrency = opts.describeConcurrency ?? 4;
    this.#deadlineMs = (opts.readTimeoutMs ?? 15_000) + (opts.connectTimeoutMs ?? 5_000);
    this.#limits = opts.rateLimits === false ? false : { ...ECI_API_QUOTAS, ...(opts.rateLimits as Record<string, BucketSpec> | undefined) };
    const seen = this.#redactor;
    this.#clientOptions = {
      ...opts,
      onCredentials: (c: EciCredentials) => {
        seen.add(c.accessKeySecret, c.securityToken);
      },
    };
  }

  /** The SDK client, built on first use (see loadSdk). */
  #sdkClient(): Promise<EciSdkClient> {
    this.#client ??= loadSdk().then((m) => m.createEciSdkClient(this.#clientOptions));
    return this.#client;
  }

  stats(): EciAdapterStats {
    return { ...this.#stats, failures: { ...this.#stats.failures } };
  }

  // ---------------------------------------------------------------- the pipeline

  async #call<T>(action: EciAction, fn: (client: EciSdkClient) => Promise<T>, redactor: Redactor = this.#redactor): Promise<T> {
    const client = await this.#sdkClient();
    for (let attempt = 1; ; attempt++) {
      await this.#bucket(action)?.take();
      this.#stats.calls++;
      try {
        return await this.#withDeadline(fn(client));
      } catch (err) {
        const facts = sdkErrorFacts(err);
        const kind = classifyCode(facts.code, facts.statusCode);
        const message = redactor.redact(facts.message);
        if (kind === 'retryable' && attempt < this.#retry.maxAttempts) {
          const wait = backoffMs(this.#retry, attempt, this.#random, {
            slow: facts.code === 'Degrade.Api',
            hintMs: facts.retryAfterMs,
          });
          this.#stats.retries++;
          this.#stats.backoffMs += wait;
          this.#log.debug({ action, code: facts.code, attempt, waitMs: Math.round(wait) }, 'ECI call failed, retrying');
          await this.#clock.sleep(wait);
          continue;
        }
        this.#stats.failures[kind] = (this.#stats.failures[kind] ?? 0) + 1;
        const cause = new EciSdkFailure(message, facts.name, facts.code, facts.statusCode);
        const reqId = facts.requestId ? ` (request ${facts.requestId})` : '';
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        throw new EciError(
          `ECI ${action} failed${tries}: ${facts.code}${facts.statusCode ? ` (HTTP ${facts.statusCode})` : ''}: ${message}${reqId}`,
          { kind, code: facts.code, action, attempts: attempt, requestId: facts.requestId, statusCode: facts.statusCode },
          { cause },
        );
      }
    }
  }

  /**
   * The SDK's read timeout is not applied on a reused keep-alive socket (httpx starts its timer only for some
   * sockets), so every call also gets a deadline of connect + read timeout; the late answer is dropped (a create
   * keeps its ClientToken, so its retry finds the group).
   */
  #withDeadline<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`no answer within ${this.#deadlineMs} ms`);
        err.name = 'RequestTimeoutError';
        reject(err);
      }, this.#deadlineMs);
    });
    return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
  }

  #bucket(action: string): WaitingBucket | undefined {
    if (this.#limits === false) return undefined;
    const spec = this.#limits[action];
    if (!spec) return undefined;
    let b = this.#buckets.get(action);
    if (!b) {
      b = new WaitingBucket(spec, this.#clock);
      this.#buckets.set(action, b);
    }
    return b;
  }

  // ---------------------------------------------------------------- the port

  async create(req: EciCreateRequest): Promise<{ containerGroupId: string }> {
    const sdk = await loadSdk();
    const { eciSdk } = sdk;
    // a token is what makes retries safe: keep the caller's (the pod UID), or make one for all attempts
    const wire: Record<string, unknown> = { ...req, ClientToken: req.ClientToken ?? randomUUID() };
    if (!wire.RegionId) wire.RegionId = this.#region;
    // fields the 2.0.3 model lacks (GpuDriverVersion, ComputeCategory, MaxPendingMinute) travel as extra query
    // parameters of the same signed call: nothing the translator emits is dropped
    const { request, extraQuery } = toSdkModel(eciSdk.CreateContainerGroupRequest, wire);
    const redactor = this.#redactor.child().add(...secretsOfCreate(wire));
    const res = await this.#call('CreateContainerGroup', (c) => sdk.createContainerGroup(c, request, extraQuery), redactor);
    const id = res.body?.containerGroupId;
    if (!id) {
      throw new EciError('ECI CreateContainerGroup answered without a ContainerGroupId', {
        kind: 'retryable',
        code: 'EmptyResponse',
        action: 'CreateContainerGroup',
        attempts: 1,
        requestId: res.body?.requestId,
      });
    }
    return { containerGroupId: id };
  }

  async delete(containerGroupId: string): Promise<void> {
    const { eciSdk } = await loadSdk();
    const request = new eciSdk.DeleteContainerGroupRequest({ regionId: this.#region, containerGroupId, clientToken: randomUUID() });
    try {
      await this.#call('DeleteContainerGroup', (c) => c.deleteContainerGroup(request));
    } catch (err) {
      if (err instanceof EciError && err.kind === 'notFound') return;
      throw err;
    }
  }

  async describe(ids: readonly string[]): Promise<EciContainerGroup[]> {
    const { eciSdk } = await loadSdk();
    const unique = [...new Set(ids)];
    const batches = chunks(unique, 20);
    const out: EciContainerGroup[][] = new Array(batches.length);
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const i = next++;
        const batch = batches[i] as string[];
        const request = new eciSdk.DescribeContainerGroupsRequest({
          regionId: this.#region,
          containerGroupIds: JSON.stringify(batch),
          limit: 20,
        });
        const res = await this.#call('DescribeContainerGroups', (c) => c.describeContainerGroups(request));
        out[i] = groupsOf(res.body);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#describeConcurrency, batches.length) }, worker));
    return out.flat();
  }

  async list(filter: { tags: readonly EciKeyValue[]; status?: string }): Promise<EciContainerGroup[]> {
    const { eciSdk } = await loadSdk();
    const all: EciContainerGroup[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const request = new eciSdk.DescribeContainerGroupsRequest({
        regionId: this.#region,
        limit: 20,
        tag: filter.tags.map((t) => ({ key: t.Key, value: t.Value })),
        status: filter.status,
        nextToken: token,
      });
      const res = await this.#call('DescribeContainerGroups', (c) => c.describeContainerGroups(request));
      all.push(...groupsOf(res.body));
      token = res.body?.nextToken || undefined;
      if (!token) break;
    }
    return all;
  }

  async changedSince(filter: { tags: readonly EciKeyValue[]; sinceSeconds: number }): Promise<EciGroupStatusItem[]> {
    const { eciSdk } = await loadSdk();
    const all: EciGroupStatusItem[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const request = new eciSdk.DescribeContainerGroupStatusRequest({
        regionId: this.#region,
        limit: 200,
        sinceSecond: Math.max(1, Math.round(filter.sinceSeconds)),
        tag: filter.tags.map((t) => ({ key: t.Key, value: t.Value })),
        nextToken: token,
      });
      const res = await this.#call('DescribeContainerGroupStatus', (c) => c.describeContainerGroupStatus(request));
      const body = res.body ? toWire(res.body) : {};
      for (const d of asArray(body.Data)) {
        if (typeof d.ContainerGroupId === 'string' && typeof d.Status === 'string') all.push(d as unknown as EciGroupStatusItem);
      }
      token = typeof body.NextToken === 'string' && body.NextToken ? body.NextToken : undefined;
      if (!token) break;
    }
    return all;
  }

  async events(ids: readonly string[], sinceSecond?: number): Promise<Map<string, EciEvent[]>> {
    const { eciSdk } = await loadSdk();
    const out = new Map<string, EciEvent[]>();
    for (const batch of chunks([...new Set(ids)], 20)) {
      const request = new eciSdk.DescribeContainerGroupEventsRequest({
        regionId: this.#region,
        containerGroupIds: JSON.stringify(batch),
        sinceSecond,
      });
      const res = await this.#call('DescribeContainerGroupEvents', (c) => c.describeContainerGroupEvents(request));
      const body = res.body ? toWire(res.body) : {};
      for (const d of asArray(body.Data)) {
        const id = typeof d.ContainerGroupId === 'string' ? d.ContainerGroupId : undefined;
        if (!id) continue;
        out.set(
          id,
          asArray(d.Events).map((e) => ({
            Count: num(e.Count),
            Type: str(e.Type),
            Name: str((e.Metadata as Record<string, unknown> | undefined)?.Name),
            Message: str(e.Message),
            Reason: str(e.Reason),
            FirstTimestamp: str(e.FirstTimestamp),
            LastTimestamp: str(e.LastTimestamp),
          })),
        );
      }
    }
    return out;
  }

  async logs(
    containerGroupId: string,
    container: string,
    opts?: EciLogOptions,
  ): Promise<string> {
    const { eciSdk } = await loadSdk();
    const request = new eciSdk.DescribeContainerLogRequest({
      regionId: this.#region,
      containerGroupId,
      containerName: container,
      startTime: opts?.startTime,
      tail: opts?.tail,
      limitBytes: opts?.limitBytes,
      sinceSeconds: opts?.sinceSeconds,
      lastTime: opts?.previous,
      timestamps: opts?.timestamps,
    });
    const res = await this.#call('DescribeContainerLog', (c) => c.describeContainerLog(request));
    return res.body?.content ?? '';
  }

  async exec(
    containerGroupId: string,
    container: string,
    command: readonly string[],
    opts?: { tty?: boolean; stdin?: boolean; sync?: boolean },
  ): Promise<{ webSocketUri?: string; syncResponse?: string }> {
    const { eciSdk } = await loadSdk();
    const request = new eciSdk.ExecContainerCommandRequest({
      regionId: this.#region,
      containerGroupId,
      containerName: container,
      command: JSON.stringify(command),
      TTY: opts?.tty,
      stdin: opts?.stdin,
      sync: opts?.sync,
    });
    const redactor = this.#redactor.child().add(...command);
    const res = await this.#call('ExecContainerCommand', (c) => c.execContainerCommand(request), redactor);
    return { webSocketUri: res.body?.webSocketUri || undefined, syncResponse: res.body?.syncResponse };
  }

  async metrics(ids: readonly string[]): Promise<EciGroupMetric[]> {
    const { eciSdk } = await loadSdk();
    const out: EciGroupMetric[] = [];
    for (const batch of chunks([...new Set(ids)], 20)) {
      const request = new eciSdk.DescribeMultiContainerGroupMetricRequest({
        regionId: this.#region,
        containerGroupIds: JSON.stringify(batch),
        metricType: 'summary',
      });
      const res = await this.#call('DescribeMultiContainerGroupMetric', (c) => c.describeMultiContainerGroupMetric(request));
      const body = res.body ? toWire(res.body) : {};
      for (const d of asArray(body.MonitorDatas)) {
        const id = str(d.ContainerGroupId);
        const records = asArray(d.Records);
        const r = records[records.length - 1];
        if (!id || !r) continue;
        out.push({
          containerGroupId: id,
          timestamp: str(r.Timestamp) ?? '',
          cpu: cpuOf(r.CPU),
          memory: memOf(r.Memory),
          containers: asArray(r.Containers).map((c) => ({ name: str(c.Name) ?? '', cpu: cpuOf(c.CPU), memory: memOf(c.Memory) })),
        });
      }
    }
    return out;
  }

  async price(spec: {
    cpu?: number;
    memory?: number;
    instanceType?: string;
    zoneId?: string;
    spotStrategy?: string;
  }): Promise<{ tradePrice: number; originalPrice: number; currency: string }> {
    const { eciSdk } = await loadSdk();
    const request = new eciSdk.DescribeContainerGroupPriceRequest({ regionId: this.#region, ...spec });
    const res = await this.#call('DescribeContainerGroupPrice', (c) => c.describeContainerGroupPrice(request));
    const price = res.body?.priceInfo?.price;
    return {
      tradePrice: price?.tradePrice ?? 0,
      originalPrice: price?.originalPrice ?? 0,
      currency: price?.currency ?? '',
    };
  }
}

function asArray(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
}
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
function cpuOf(v: unknown): EciGroupMetric['cpu'] {
  const c = rec(v);
  return { usageCoreNanoSeconds: num(c.UsageCoreNanoSeconds), usageNanoCores: num(c.UsageNanoCores) };
}
function memOf(v: unknown): EciGroupMetric['memory'] {
  const m = rec(v);
  return { workingSetBytes: num(m.WorkingSet), usageBytes: num(m.UsageBytes), rssBytes: num(m.Rss), availableBytes: num(m.AvailableBytes) };
}

function groupsOf(body: { toMap(): Record<string, unknown> } | undefined): EciContainerGroup[] {
  if (!body) return [];
  // the SDK's toMap() gives ECI's wire names, which is what EciContainerGroup is: one cast at the SDK edge
  return asArray(toWire(body).ContainerGroups) as unknown as EciContainerGroup[];
}

/** Builds the adapter from the bridge config and a credentials provider (called per request: STS rotation). */
export function createEciContainerGroups(
  config: { ECI_REGION: string; ECI_ENDPOINT?: string; ECI_PROTOCOL: 'https' | 'http'; ECI_CREATE_PER_SECOND: number; ECI_CREATE_BURST: number },
  credentials: EciCredentials | EciCredentialsProvider,
  extra?: Partial<EciAdapterOptions>,
): EciContainerGroups {
  return new EciContainerGroups({
    regionId: config.ECI_REGION,
    endpoint: config.ECI_ENDPOINT,
    protocol: config.ECI_PROTOCOL,
    credentials,
    rateLimits: {
      CreateContainerGroup: { burst: config.ECI_CREATE_BURST, perSecond: config.ECI_CREATE_PER_SECOND },
    },
    ...extra,
  });
}

