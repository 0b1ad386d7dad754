/**
 * The `Cluster` port (and `ClusterStore`) over plain `node:https`: the FC functions' Kubernetes client. It speaks
 * the handful of REST calls the bridge makes, with an explicit server URL, bearer token and CA (what the functions
 * get from their config), and no dependency: the function bundles carry neither @kubernetes/client-node nor its
 * serialiser of every API model (~1 MB of each bundle, and most of its load time).
 *
 * It is a second implementation of the same port as ./cluster.ts, not a different behaviour: the same typed errors
 * (./errors.ts `errorFromStatus`, `toKubeError`), the same plain JSON (./normalize.ts), the same Event aggregation
 * (./events.ts), MicroTime and create helpers, and the same list+watch loop (./watch.ts). The integration suite
 * test/integration/kube/cluster.test.ts runs against both. The token travels only in the Authorization header:
 * errors name the operation and the object, never the token or a Secret's data.
 *
 * Over 400 lines: one small method per REST call of the Cluster port; the shared pieces live in ./wire.ts,
 * ./errors.ts, ./normalize.ts and ./events.ts.
 */
import { type ClientRequest, type IncomingMessage, request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { EventWrite } from '../../domain/events.js';
import type { ConfigMap, Endpoints, K8sEvent, Lease, Namespace, Node, Pod, PodStatus, Secret, Service } from '../../domain/k8s.js';
import type { Cluster, ClusterStore, PodWatchHandle } from '../../ports/index.js';
import { errorFromStatus, KubeError, parseStatus, toKubeError } from './errors.js';
import { type EventInput, EventRecorder, type EventRecorderOptions } from './events.js';
import { forCreate, leaseForWire, nodeStatusPatch } from './normalize.js';
import { type ListResult, type ListWatchOptions, startListWatch, type WatchSource } from './watch.js';
import { decodeWatchLine, LIST_PAGE, listAllPages, watchStream } from './wire.js';

export interface LiteKubeConnection {
  /** API server URL (`https://host:port`). */
  server: string;
  /** Bearer token (a ServiceAccount token). */
  token: string;
  /** The cluster CA, PEM. */
  caPem: string;
}

export interface LiteClusterOptions extends EventRecorderOptions {
  /** Server-side watch timeout: each watch lasts a random time in [t, 2t) seconds. Default 300. */
  watchTimeoutSeconds?: number;
  /** Backoff, sleep, randomness and clock of the watch loop (tests inject them). */
  watch?: ListWatchOptions;
  /** A request with no complete answer after this long fails as a TransientError. Default 60 000 ms. */
  requestTimeoutMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestSpec {
  query?: Query;
  body?: unknown;
  /** Content-Type of the body; default application/json. */
  contentType?: string;
  signal?: AbortSignal;
}

const SMP = 'application/strategic-merge-patch+json';
const MERGE = 'application/merge-patch+json';
const COORDINATION = '/apis/coordination.k8s.io/v1';

const seg = encodeURIComponent;
const ns = (namespace: string, resource: string, name?: string): string =>
  `/api/v1/namespaces/${seg(namespace)}/${resource}${name === undefined ? '' : `/${seg(name)}`}`;

function queryString(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The HTTP transport: one keep-alive agent, bearer auth, JSON in and out, every failure a KubeError. */
class KubeHttp {
  private readonly base: string;
  private readonly send: typeof httpsRequest;
  private readonly agent: HttpsAgent | HttpAgent;
  private readonly headers: Record<string, string>;

  constructor(
    conn: LiteKubeConnection,
    private readonly timeoutMs: number,
  ) {
    if (!/^https?:\/\//.test(conn.server)) throw new KubeError(`cannot build a Kubernetes client for ${conn.server}: server must be an http(s) URL`);
    if (!conn.token) throw new KubeError(`cannot build a Kubernetes client for ${conn.server}: no token`);
    this.base = conn.server.replace(/\/+$/, '');
    const tls = this.base.startsWith('https:');
    this.send = tls ? httpsRequest : httpRequest;
    this.agent = tls ? new HttpsAgent({ keepAlive: true, ca: conn.caPem }) : new HttpAgent({ keepAlive: true });
    this.headers = { authorization: `Bearer ${conn.token}`, accept: 'application/json' };
  }

  get server(): string {
    return this.base;
  }

  /** Opens a request; `onResponse` gets the response head. Network failures reach `onError` as KubeErrors. */
  open(method: string, path: string, spec: RequestSpec, timeoutMs: number | undefined, onResponse: (res: IncomingMessage) => void, onError: (err: unknown) => void): ClientRequest {
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const headers: Record<string, string> = { ...this.headers };
    if (payload !== undefined) {
      headers['content-type'] = spec.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const req = this.send(`${this.base}${path}${queryString(spec.query)}`, {
      method,
      agent: this.agent,
      headers,
      ...(spec.signal ? { signal: spec.signal } : {}),
      ...(timeoutMs ? { timeout: timeoutMs } : {}),
    });
    req.on('response', onResponse);
    req.on('timeout', () => {
      const err = new Error(`no answer within ${timeoutMs} ms`);
      err.name = 'TimeoutError';
      req.destroy(err);
    });
    req.on('error', onError);
    req.end(payload);
    return req;
  }

  /** A request whose answer is a JSON object; a non-2xx answer rejects with the typed error of its Status. */
  json<T>(method: string, path: string, context: string, spec: RequestSpec = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (err: unknown): void => reject(toKubeError(err, context));
      this.open(
        method,
        path,
        spec,
        this.timeoutMs,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              reject(errorFromStatus(context, status, parseStatus(text), new Error(`HTTP ${status} from ${method} ${path}`)));
              return;
            }
            try {
              resolve(JSON.parse(text) as T);
            } catch (err) {
              reject(new KubeError(`${context}: the API server's answer is not JSON`, { status }, { cause: err }));
            }
          });
        },
        fail,
      );
    });
  }
}

export class LiteKubeCluster implements Cluster, ClusterStore {
  private readonly http: KubeHttp;
  private readonly recorder: EventRecorder;

  constructor(
    conn: LiteKubeConnection,
    private readonly opts: LiteClusterOptions = {},
  ) {
    this.http = new KubeHttp(conn, opts.requestTimeoutMs ?? 60_000);
    this.recorder = new EventRecorder(
      {
        create: (namespace, body, context) => this.write<K8sEvent>('POST', ns(namespace, 'events'), context, { body }),
        patch: (namespace, name, body, context) => this.write<K8sEvent>('PATCH', ns(namespace, 'events', name), context, { body, contentType: MERGE }),
        get: (namespace, name, context) => this.get<K8sEvent>(ns(namespace, 'events', name), context),
      },
      opts,
    );
  }

  /** The API server URL (no credentials). */
  get server(): string {
    return this.http.server;
  }

  // JSON.parse already gives plain JSON (no Dates, no class instances, no undefined members): no toPlain copy, which
  // was 5 % of pod-sync's busy CPU in the burst profile
  private get<T>(path: string, context: string): Promise<T> {
    return this.http.json<T>('GET', path, context);
  }

  private write<T>(method: string, path: string, context: string, spec: RequestSpec): Promise<T> {
    return this.http.json<T>(method, path, context, spec);
  }

  // ---------------------------------------------------------------- pods

  getPod(namespace: string, name: string): Promise<Pod> {
    return this.get<Pod>(ns(namespace, 'pods', name), `get pod ${namespace}/${name}`);
  }

  async listPods(opts: { nodeName?: string; namespace?: string; labelSelector?: string }): Promise<Pod[]> {
    const fieldSelector = opts.nodeName !== undefined ? `spec.nodeName=${opts.nodeName}` : undefined;
    return (await this.listPodsPaged(fieldSelector, opts.labelSelector, opts.namespace)).items;
  }

  private listPodsPaged(fieldSelector: string | undefined, labelSelector?: string, namespace?: string, signal?: AbortSignal): Promise<ListResult<Pod>> {
    const context = `list pods${namespace ? ` in ${namespace}` : ''}${fieldSelector ? ` (${fieldSelector})` : ''}`;
    const path = namespace ? ns(namespace, 'pods') : '/api/v1/pods';
    return listAllPages<Pod>(async (cont) => {
      const page = await this.http.json<{ items?: unknown[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', path, context, {
        query: { fieldSelector, labelSelector, limit: LIST_PAGE, continue: cont },
        ...(signal ? { signal } : {}),
      });
      return { items: page.items, resourceVersion: page.metadata?.resourceVersion, continue: page.metadata?.continue };
    });
  }

  watchPods(
    opts: { nodeName: string; slim?: boolean },
    onEvent: (ev: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Pod }) => void,
    onError?: (err: Error) => void,
  ): PodWatchHandle {
    const fieldSelector = `spec.nodeName=${opts.nodeName}`;
    const what = `watch pods (${fieldSelector})`;
    const source: WatchSource<Pod> = {
      list: (signal) => this.listPodsPaged(fieldSelector, undefined, undefined, signal),
      watch: (resourceVersion, onRaw, signal) =>
        watchStream({
          what,
          baseTimeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
          random: this.opts.watch?.random ?? Math.random,
          signal,
          open: (timeoutSeconds, finish) => {
            const stream = new AbortController();
            const query = { watch: true, fieldSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds };
            this.http.open('GET', '/api/v1/pods', { query, signal: stream.signal }, undefined, (res) => readWatch(res, what, onRaw, finish), finish);
            return stream;
          },
        }),
    };
    return startListWatch(source, what, onEvent, onError, { ...this.opts.watch, slimView: opts.slim ?? false });
  }

  patchPodStatus(namespace: string, name: string, status: PodStatus, annotations?: Record<string, string | null>, resourceVersion?: string): Promise<Pod> {
    const metadata = { ...(annotations ? { annotations } : {}), ...(resourceVersion ? { resourceVersion } : {}) };
    const body = annotations || resourceVersion ? { metadata, status } : { status };
    return this.write<Pod>('PATCH', `${ns(namespace, 'pods', name)}/status`, `patch pod status ${namespace}/${name}`, { body, contentType: SMP });
  }

  patchPodMetadata(
    namespace: string,
    name: string,
    patch: { annotations?: Record<string, string | null>; labels?: Record<string, string | null>; resourceVersion?: string },
  ): Promise<Pod> {
    return this.write<Pod>('PATCH', ns(namespace, 'pods', name), `patch pod metadata ${namespace}/${name}`, { body: { metadata: patch }, contentType: SMP });
  }

  async deletePod(namespace: string, name: string, opts: { uid: string; gracePeriodSeconds: number }): Promise<void> {
    await this.http.json('DELETE', ns(namespace, 'pods', name), `delete pod ${namespace}/${name} (uid ${opts.uid})`, {
      query: { gracePeriodSeconds: opts.gracePeriodSeconds },
      body: { gracePeriodSeconds: opts.gracePeriodSeconds, preconditions: { uid: opts.uid } },
    });
  }

  // ---------------------------------------------------------------- events

  /** Records an Event, aggregating repeats (./events.ts). */
  recordEvent(ev: EventInput): Promise<EventWrite> {
    return this.recorder.record(ev);
  }

  /** Writes a named Event (created once, then only its count and lastTimestamp move; ./events.ts). */
  mirrorEvent(ev: K8sEvent): Promise<EventWrite> {
    return this.recorder.mirror(ev);
  }

  // ---------------------------------------------------------------- config, secrets, tokens

  getConfigMap(namespace: string, name: string): Promise<ConfigMap> {
    return this.get<ConfigMap>(ns(namespace, 'configmaps', name), `get configmap ${namespace}/${name}`);
  }

  createConfigMap(namespace: string, cm: ConfigMap): Promise<ConfigMap> {
    return this.write<ConfigMap>('POST', ns(namespace, 'configmaps'), `create configmap ${namespace}/${cm.metadata.name ?? ''}`, { body: cm });
  }

  replaceConfigMap(namespace: string, cm: ConfigMap): Promise<ConfigMap> {
    const name = cm.metadata.name ?? '';
    return this.write<ConfigMap>('PUT', ns(namespace, 'configmaps', name), `replace configmap ${namespace}/${name}`, { body: cm });
  }

  async listNamespaces(): Promise<Namespace[]> {
    const list = await this.http.json<{ items?: Namespace[] }>('GET', '/api/v1/namespaces', 'list namespaces');
    return list.items ?? [];
  }

  getSecret(namespace: string, name: string): Promise<Secret> {
    // Errors name the Secret only; its data never reaches a message.
    return this.get<Secret>(ns(namespace, 'secrets', name), `get secret ${namespace}/${name}`);
  }

  async requestPodToken(
    namespace: string,
    serviceAccount: string,
    opts: { podName?: string; podUid?: string; audiences?: string[]; expirationSeconds?: number },
  ): Promise<{ token: string; expirationTimestamp: string }> {
    const tr = await this.http.json<{ status?: { token?: string; expirationTimestamp?: string } }>(
      'POST',
      `${ns(namespace, 'serviceaccounts', serviceAccount)}/token`,
      `request token for ${namespace}/${serviceAccount}${opts.podName ? ` bound to pod ${opts.podName}` : ''}`,
      {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: opts.audiences ?? [],
            expirationSeconds: opts.expirationSeconds,
            ...(opts.podName && opts.podUid ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: opts.podName, uid: opts.podUid } } : {}),
          },
        },
      },
    );
    const status = tr.status ?? {};
    if (!status.token || !status.expirationTimestamp) {
      throw toKubeError(new Error('the TokenRequest response has no token'), `request token for ${namespace}/${serviceAccount}`);
    }
    return { token: status.token, expirationTimestamp: status.expirationTimestamp };
  }

  // ---------------------------------------------------------------- nodes

  // ---------------------------------------------------------------- services (the kubelet's service env)

  async listServices(namespace: string): Promise<Service[]> {
    const list = await this.http.json<{ items?: Service[] }>('GET', ns(namespace, 'services'), `list services in ${namespace}`);
    return list.items ?? [];
  }

  getService(namespace: string, name: string): Promise<Service> {
    return this.get<Service>(ns(namespace, 'services', name), `get service ${namespace}/${name}`);
  }

  getEndpoints(namespace: string, name: string): Promise<Endpoints> {
    return this.get<Endpoints>(ns(namespace, 'endpoints', name), `get endpoints ${namespace}/${name}`);
  }

  getNode(name: string): Promise<Node> {
    return this.get<Node>(`/api/v1/nodes/${seg(name)}`, `get node ${name}`);
  }

  createNode(node: Node): Promise<Node> {
    return this.write<Node>('POST', '/api/v1/nodes', `create node ${node.metadata.name ?? ''}`, { body: forCreate(node) });
  }

  patchNodeStatus(name: string, status: NonNullable<Node['status']>): Promise<Node> {
    return this.write<Node>('PATCH', `/api/v1/nodes/${seg(name)}/status`, `patch node status ${name}`, { body: nodeStatusPatch(status), contentType: SMP });
  }

  patchNode(name: string, patch: { metadata?: Node['metadata']; spec?: Node['spec'] }): Promise<Node> {
    return this.write<Node>('PATCH', `/api/v1/nodes/${seg(name)}`, `patch node ${name}`, { body: patch, contentType: SMP });
  }

  // ---------------------------------------------------------------- leases

  getLease(namespace: string, name: string): Promise<Lease> {
    return this.get<Lease>(`${COORDINATION}/namespaces/${seg(namespace)}/leases/${seg(name)}`, `get lease ${namespace}/${name}`);
  }

  createLease(namespace: string, lease: Lease): Promise<Lease> {
    return this.write<Lease>('POST', `${COORDINATION}/namespaces/${seg(namespace)}/leases`, `create lease ${namespace}/${lease.metadata.name ?? ''}`, {
      body: forCreate(leaseForWire(lease)),
    });
  }

  replaceLease(namespace: string, lease: Lease): Promise<Lease> {
    const name = lease.metadata.name ?? '';
    return this.write<Lease>('PUT', `${COORDINATION}/namespaces/${seg(namespace)}/leases/${seg(name)}`, `replace lease ${namespace}/${name}`, {
      body: leaseForWire(lease),
    });
  }
}

/**
 * Reads a watch response: newline-delimited `{type, object}` frames to `onRaw` (objects normalised; an ERROR
 * carries its Status as is); a non-200 answer is the typed error of its Status. `finish` is called once.
 */
function readWatch(res: IncomingMessage, what: string, onRaw: (type: string, object: unknown) => void, finish: (err?: unknown) => void): void {
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => finish(errorFromStatus(what, status, parseStatus(Buffer.concat(chunks).toString('utf8')))));
    res.on('error', finish);
    return;
  }
  res.setEncoding('utf8');
  let buffered = '';
  const frame = (line: string): void => decodeWatchLine(line, onRaw);
  res.on('data', (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    try {
      while (nl >= 0) {
        frame(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
      }
    } catch (err) {
      finish(err);
    }
  });
  res.on('end', () => {
    try {
      frame(buffered);
      finish();
    } catch (err) {
      finish(err);
    }
  });
  res.on('error', finish);
  res.on('aborted', () => finish(new Error('the watch stream was cut (premature close)')));
}

/** The composition root's entry for the functions: a Cluster from server + token + CA. */
export function createLiteKubeCluster(conn: LiteKubeConnection, opts: LiteClusterOptions = {}): LiteKubeCluster {
  return new LiteKubeCluster(conn, opts);
}
