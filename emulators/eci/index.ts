/**
 * A wire-faithful local ECI (OpenAPI 2018-08-08) for tests, benchmarks and the sandbox. The real
 * `@alicloud/eci20180808` SDK talks to it with `endpoint: emulator.endpoint, protocol: 'http'`.
 *
 * Per request: count the call → authenticate (V3 or V1 signature, STS token, clock skew, nonce) → API flow
 * control (token buckets sized to ECI's quotas, when `quotas` is on) → injected faults (latency, error codes) →
 * the action (service.ts) → JSON. Errors are the cloud's JSON bodies (`RequestId, HostId, Code, Message,
 * Recommend`) with its HTTP statuses.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator, type EmulatorCredential } from './auth.js';
import { eciQuotaOf } from '../../shared/domain/eciQuotas.js';
import { seededRandom } from '../../shared/sim/rng.js';
import { type Faults, latencyOf, pickFault, TokenBucket } from './control.js';
import { EciEmulatorError } from './errors.js';
import { serveExec } from './exec.js';
import type { SimSettings } from './lifecycle.js';
import { PodPortServer } from './podServer.js';
import { type CreateRecord, EciService } from './service.js';
import { groupWire, stringifyResponse } from './wire.js';
import { readRpcRequest } from '../request.js';

export type { EmulatorCredential } from './auth.js';
export type { ActionFault, Faults } from './control.js';
export type { CreateRecord } from './service.js';
export { CREATE_CONTAINER_GROUP_PARAMS, type ParamSpec } from './documented.js';
export { ERROR_CATALOGUE, type EciErrorCode } from './errors.js';
export { parseProgram, SIM_MARKER } from './lifecycle.js';

/** Behaviour settings, also loadable from a JSON scenario file (`emulate eci --scenario FILE`). */
export interface Scenario {
  /** Zones vSwitches are spread over (default cn-hangzhou-h, cn-hangzhou-i, cn-hangzhou-j). */
  zones?: string[];
  /** Pod IPs in 127.0.0.0/8 (reachable on loopback: port-forward tests listen on them) instead of 10.0.0.0/8. */
  loopbackPodIps?: boolean;
  /**
   * With loopbackPodIps: while a container runs, each TCP port it declares answers HTTP on `<pod IP>:<port>`
   * (./podServer.ts), so port-forward reaches something. A port that cannot be bound (< 1024 without root) stays
   * unserved.
   */
  servePorts?: boolean;
  schedulingSeconds?: number;
  imagePullSeconds?: number;
  imagePull?: Record<string, number>;
  startSeconds?: number;
  stopSeconds?: number;
  spotReclaimSeconds?: number;
  backoffBaseSeconds?: number;
  backoffMaxSeconds?: number;
  /** How many finished groups survive the retention window (ECI: the latest 100 per region). */
  keepLatestFinished?: number;
  faults?: Faults;
  /** Seed of every random choice (fault injection, ids): runs are reproducible. */
  seed?: number;
}

export interface EciEmulatorOptions {
  /** 0 (default) = a free port */
  port?: number;
  host?: '127.0.0.1';
  /** Accepted keys; default one pair, `LTAIemulatorKey` / `emulator-secret`. */
  credentials?: EmulatorCredential[];
  /** Simulated seconds → real seconds factor (0.01: 100 s pass in 1 s). Default 1. */
  timeScale?: number;
  scenario?: Scenario;
  /** ECI's published API rate limits as token buckets (default off). */
  quotas?: boolean;
  /** How long finished groups are all kept (default 1 h × timeScale), then only the latest N. */
  retainFinishedMs?: number;
  clock?: { now(): number };
}

export interface CallCounts {
  total: number;
  byAction: Record<string, number>;
  /** of those, calls answered Throttling (the quotas' token buckets), by action */
  throttledByAction: Record<string, number>;
  /** Error answers by code (authentication, throttling, injected faults, validation). */
  errors: Record<string, number>;
  /** Creates whose response was dropped on purpose (crash-after-create). */
  crashedAfterCreate: number;
}

/** A group's current status and when (ms on the emulator's clock, exact to the simulated step) it entered it. */
export interface GroupState {
  id: string;
  name: string;
  status: string;
  since: number;
  /** When CreateContainerGroup created it (ms, the emulator's clock). */
  createdAt: number;
  tags: { Key: string; Value: string }[];
}

export interface EciEmulator {
  /** `127.0.0.1:PORT`, for the SDK's `endpoint` with `protocol: 'http'`. */
  readonly endpoint: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly credentials: readonly EmulatorCredential[];
  calls(): CallCounts;
  resetCalls(): void;
  /** Replaces the injected faults (and reseeds the fault randomness when `seed` is given). */
  setFaults(faults: Faults, seed?: number): void;
  /** Replaces the accepted credentials (e.g. to expire an STS token). */
  setCredentials(credentials: EmulatorCredential[]): void;
  /** Every container group, as DescribeContainerGroups would show it (advanced to now). */
  groups(): Record<string, unknown>[];
  /**
   * Every group CreateContainerGroup ever created, in order, with its ClientToken, tags and received parameters
   * (deleted and forgotten groups included; an idempotent replay of a token adds nothing).
   */
  creates(): CreateRecord[];
  /** Every group's status and the exact time it changed (benchmarks: state change → pod status latency). */
  states(): GroupState[];
  /** The pod addresses (`ip:port`) served now (scenario servePorts). */
  podPorts(): string[];
  close(): Promise<void>;
}

export const DEFAULT_CREDENTIAL: EmulatorCredential = {
  accessKeyId: 'LTAIemulatorKey',
  accessKeySecret: 'emulator-secret',
};

const API_VERSION = '2018-08-08';

export async function startEciEmulator(opts: EciEmulatorOptions = {}): Promise<EciEmulator> {
  const scenario = opts.scenario ?? {};
  const now = opts.clock ? () => (opts.clock as { now(): number }).now() : Date.now;
  const timeScale = opts.timeScale ?? 1;
  const seed = scenario.seed ?? 42;
  let faults: Faults = scenario.faults ?? {};
  let rnd = seededRandom(seed);
  let crashCount = 0;
  const credentials = opts.credentials ?? [DEFAULT_CREDENTIAL];
  const auth = new Authenticator(credentials, now);
  const settings: SimSettings = {
    timeScale,
    schedulingSeconds: scenario.schedulingSeconds ?? 2,
    imagePullSeconds: scenario.imagePullSeconds ?? 3,
    imagePull: scenario.imagePull ?? {},
    startSeconds: scenario.startSeconds ?? 1,
    stopSeconds: scenario.stopSeconds ?? 1,
    spotReclaimSeconds: scenario.spotReclaimSeconds,
    backoffBaseSeconds: scenario.backoffBaseSeconds ?? 10,
    backoffMaxSeconds: scenario.backoffMaxSeconds ?? 300,
  };
  const service = new EciService({
    settings,
    retainFinishedMs: opts.retainFinishedMs ?? 3_600_000 * timeScale,
    keepLatestFinished: scenario.keepLatestFinished ?? 100,
    zones: scenario.zones ?? ['cn-hangzhou-h', 'cn-hangzhou-i', 'cn-hangzhou-j'],
    podIpFirstOctet: scenario.loopbackPodIps ? 127 : 10,
    seed,
    now,
    faults: () => faults,
  });
  const buckets = new Map<string, TokenBucket>();
  const counts: CallCounts = { total: 0, byAction: {}, throttledByAction: {}, errors: {}, crashedAfterCreate: 0 };

  const bucketOf = (action: string): TokenBucket | undefined => {
    if (!opts.quotas) return undefined;
    const q = eciQuotaOf(action);
    if (!q) return undefined;
    let b = buckets.get(action);
    if (!b) {
      b = new TokenBucket(q.burst, q.perSecond, now);
      buckets.set(action, b);
    }
    return b;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // a bug in the emulator: answer like the cloud would, never hang the client
      send(res, 'unknown', new EciEmulatorError('InternalError', undefined, { cause: err }));
    });
  });
  server.keepAliveTimeout = 65_000;

  const send = (res: ServerResponse, region: string, body: Record<string, unknown> | EciEmulatorError) => {
    const requestId = randomUUID().toUpperCase();
    let status = 200;
    let payload: Record<string, unknown>;
    const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf-8' };
    if (body instanceof EciEmulatorError) {
      status = body.status;
      counts.errors[body.code] = (counts.errors[body.code] ?? 0) + 1;
      Object.assign(headers, body.headers);
      payload = {
        RequestId: requestId,
        HostId: `eci.${region}.aliyuncs.com`,
        Code: body.code,
        Message: body.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(body.code)}&product=Eci&requestId=${requestId}`,
      };
    } else {
      payload = { RequestId: requestId, ...body };
    }
    const text = stringifyResponse(payload);
    headers['content-length'] = String(Buffer.byteLength(text));
    headers['x-acs-request-id'] = requestId;
    res.writeHead(status, headers);
    res.end(text);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { body, url, query } = await readRpcRequest(req);
    const headerAction = req.headers['x-acs-action'];
    const action = (typeof headerAction === 'string' ? headerAction : undefined) ?? query.Action ?? '';
    counts.total++;
    counts.byAction[action] = (counts.byAction[action] ?? 0) + 1;
    const region = query.RegionId ?? 'cn-hangzhou';
    try {
      const who = auth.authenticate({
        method: req.method ?? 'GET',
        pathname: url.pathname,
        query,
        headers: req.headers,
        body,
      });
      if (who.version !== API_VERSION) throw new EciEmulatorError('InvalidVersion');
      if (!service.hasAction(who.action)) throw new EciEmulatorError('InvalidAction.NotFound');
      const bucket = bucketOf(who.action);
      if (bucket && !bucket.tryTake()) {
        counts.throttledByAction[action] = (counts.throttledByAction[action] ?? 0) + 1;
        throw new EciEmulatorError('Throttling.User', undefined, {
          headers: { 'x-acs-retry-after': String(Math.max(1, bucket.waitMs())) },
        });
      }
      const fault = pickFault(faults, who.action);
      const delay = latencyOf(fault, rnd);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      for (const e of fault?.errors ?? []) {
        if (rnd() < e.rate) {
          throw new EciEmulatorError(e.code, undefined, {
            headers: e.retryAfterMs ? { 'x-acs-retry-after': String(e.retryAfterMs) } : {},
          });
        }
      }
      const params = { ...query };
      if (body.length > 0 && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(body.toString())) params[k] = v;
      }
      const result = service.handle(who.action, params, { host: String(req.headers.host ?? '') });
      if (who.action === 'CreateContainerGroup' && fault && crashes(fault)) {
        counts.crashedAfterCreate++;
        req.socket.destroy();
        return;
      }
      send(res, region, result);
    } catch (err) {
      if (err instanceof EciEmulatorError) send(res, region, err);
      else throw err;
    }
  }

  function crashes(fault: NonNullable<ReturnType<typeof pickFault>>): boolean {
    if (fault.crashAfterCreateCount !== undefined && crashCount < fault.crashAfterCreateCount) {
      crashCount++;
      return true;
    }
    return fault.crashAfterCreateRate !== undefined && rnd() < fault.crashAfterCreateRate;
  }

  const podPorts = scenario.servePorts && scenario.loopbackPodIps ? new PodPortServer(() => service.groups.values()) : undefined;
  const sweeper = setInterval(() => {
    service.sweep();
    podPorts?.reconcile();
  }, 250);
  sweeper.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // ExecContainerCommand's WebSocketUri
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const m = /^\/exec\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      service.sweep();
      serveExec(req, socket, head, m ? service.takeExecTicket(decodeURIComponent(m[1] ?? ''), decodeURIComponent(m[2] ?? ''), url.searchParams.get('token') ?? '') : undefined);
    });
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `127.0.0.1:${port}`;

  return {
    endpoint,
    url: `http://${endpoint}`,
    credentials,
    calls: () => ({
      total: counts.total,
      byAction: { ...counts.byAction },
      throttledByAction: { ...counts.throttledByAction },
      errors: { ...counts.errors },
      crashedAfterCreate: counts.crashedAfterCreate,
    }),
    resetCalls: () => {
      counts.total = 0;
      counts.byAction = {};
      counts.throttledByAction = {};
      counts.errors = {};
      counts.crashedAfterCreate = 0;
    },
    setFaults: (f, s) => {
      faults = f;
      crashCount = 0;
      if (s !== undefined) rnd = seededRandom(s);
    },
    setCredentials: (c) => auth.setCredentials(c),
    groups: () => {
      service.sweep();
      return [...service.groups.values()].map((g) => groupWire(g));
    },
    creates: () => service.created.map((c) => ({ ...c, tags: c.tags.map((t) => ({ ...t })), params: { ...c.params } })),
    states: () => {
      service.sweep();
      return [...service.groups.values()].map((g) => ({
        id: g.id,
        name: g.init.name,
        status: g.status,
        since: g.statusChangedAt,
        createdAt: g.init.createdAt,
        tags: g.init.tags.map((t) => ({ ...t })),
      }));
    },
    podPorts: () => podPorts?.served() ?? [],
    close: async () => {
      clearInterval(sweeper);
      await podPorts?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
