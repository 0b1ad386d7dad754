/**
 * A fault-injecting HTTP proxy on loopback in front of a real kube-apiserver (HTTPS upstream). Clients talk
 * plain HTTP to the proxy (loopback only); the proxy forwards every request, streaming both ways (watches
 * included), and injects, by seeded chance: 409 Conflict on writes, 500 on any non-watch request, latency, and
 * dropped watch streams. Faults are real HTTP responses with Kubernetes `Status` bodies, so the client sees
 * exactly what a misbehaving apiserver would send.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../shared/sim/rng.js';

export interface KubeFaults {
  /** probability of a 409 Conflict answer to POST/PUT/PATCH/DELETE */
  conflictRate: number;
  /** probability of a 500 answer to any non-watch request */
  errorRate: number;
  /** added latency, uniformly in [0, latencyMs] */
  latencyMs: number;
  /** probability that a request is delayed at all (default 1: every request, when latencyMs > 0) */
  latencyRate?: number;
  /** probability that a watch stream is cut after `dropWatchAfterMs` (uniform in [0, that]) */
  dropWatchRate: number;
  dropWatchAfterMs: number;
  /**
   * Inject each enabled fault (rate > 0) on its first chance after `setFaults` while none of that kind has been
   * injected since, then by chance: a short run then cannot miss a fault by bad luck.
   */
  atLeastOnce?: boolean;
}

export const NO_FAULTS: KubeFaults = { conflictRate: 0, errorRate: 0, latencyMs: 0, latencyRate: 1, dropWatchRate: 0, dropWatchAfterMs: 0 };

export interface KubeFaultProxy {
  url: string;
  setFaults(f: Partial<KubeFaults>): void;
  counts(): { requests: number; conflicts: number; errors: number; droppedWatches: number; delayed: number };
  /** Write requests (POST/PUT/PATCH/DELETE) so far, by `METHOD resource[/subresource]` (e.g. `PATCH pods/status`). */
  writes(): Record<string, number>;
  /**
   * Every request so far, by `VERB resource[/subresource]` with Kubernetes verbs: `get`/`list`/`watch` for GETs
   * (a GET on a collection is a list, with `watch=true` a watch), `create`/`update`/`patch`/`delete` for writes.
   */
  requests(): Record<string, number>;
  /** Requests the apiserver refused (status ≥ 400; the proxy's own injected faults not counted), by `CODE verb resource`. */
  refused(): Record<string, number>;
  /**
   * PATCHes of pods and pods/status by the annotation keys their body sets (`pods eci-bridge.io/create-attempted`,
   * `pods/status k8s.aliyun.com/eci-instance-id`; `pods/status -` when none): where the bookkeeping writes come from.
   */
  patchedAnnotations(): Record<string, number>;
  close(): Promise<void>;
}

/**
 * The Kubernetes verb of a request: a GET on a collection (`/api/v1/namespaces/ns/pods`, `/api/v1/pods`) is a
 * list, a GET with `watch=true` (or under `/watch/`) a watch, a GET on a named object a get.
 */
export function verbOf(method: string, url: string): string {
  const path = url.split('?')[0] ?? '';
  if (method !== 'GET') return ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method] ?? method.toLowerCase();
  if (/[?&]watch=(1|true)/.test(url) || /\/watch\//.test(path)) return 'watch';
  const parts = path.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const r = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  return r.length >= 2 ? 'get' : 'list';
}

/** `/api/v1/namespaces/ns/pods/web/status?x` → `pods/status`; `/apis/coordination.k8s.io/v1/namespaces/ns/leases/l` → `leases`. */
export function resourceOf(url: string): string {
  const parts = (url.split('?')[0] ?? '').split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const r = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  return [r[0] ?? '', r[2]].filter(Boolean).join('/');
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

export async function startKubeFaultProxy(opts: {
  upstream: string;
  caPem?: string;
  seed?: number;
  faults?: Partial<KubeFaults>;
}): Promise<KubeFaultProxy> {
  const upstream = new URL(opts.upstream);
  const rnd = seededRandom(opts.seed ?? 1);
  let faults: KubeFaults = { ...NO_FAULTS, ...opts.faults };
  const counts = { requests: 0, conflicts: 0, errors: 0, droppedWatches: 0, delayed: 0 };
  const writes: Record<string, number> = {};
  const requests: Record<string, number> = {};
  const refused: Record<string, number> = {};
  const patched: Record<string, number> = {};
  const countPatch = (resource: string, body: string): void => {
    let keys: string[] = [];
    try {
      const annotations = (JSON.parse(body) as { metadata?: { annotations?: Record<string, unknown> } }).metadata?.annotations;
      keys = Object.keys(annotations ?? {});
    } catch {
      keys = ['(not JSON)'];
    }
    for (const k of keys.length > 0 ? keys : ['-']) patched[`${resource} ${k}`] = (patched[`${resource} ${k}`] ?? 0) + 1;
  };
  const agent =
    upstream.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, ca: opts.caPem, maxSockets: 64 })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
  const open = new Set<http.ClientRequest>();
  // `atLeastOnce`: the counts when the faults were last set, and the kinds forced since (their counters move only
  // when the answer is sent)
  let baseline = { ...counts };
  const forced = new Set<keyof typeof counts>();
  const first = (kind: Exclude<keyof typeof counts, 'requests'>, enabled: boolean): boolean => {
    if (!enabled || faults.atLeastOnce !== true || counts[kind] > baseline[kind] || forced.has(kind)) return false;
    forced.add(kind);
    return true;
  };

  const server = http.createServer((req, res) => {
    counts.requests++;
    const isWatch = /[?&]watch=(1|true)/.test(req.url ?? '') || /\/watch\//.test(req.url ?? '');
    const isWrite = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method ?? 'GET');
    const byVerb = `${verbOf(req.method ?? 'GET', req.url ?? '')} ${resourceOf(req.url ?? '')}`;
    requests[byVerb] = (requests[byVerb] ?? 0) + 1;
    if (isWrite) {
      const k = `${req.method} ${resourceOf(req.url ?? '')}`;
      writes[k] = (writes[k] ?? 0) + 1;
    }
    const delayed = faults.latencyMs > 0 && (rnd() < (faults.latencyRate ?? 1) || first('delayed', true));
    const delay = delayed ? Math.max(1, Math.floor(rnd() * faults.latencyMs)) : 0;
    const conflict = isWrite && (rnd() < faults.conflictRate || first('conflicts', faults.conflictRate > 0));
    const error = !isWatch && !conflict && (rnd() < faults.errorRate || first('errors', faults.errorRate > 0));
    const drop = isWatch && (rnd() < faults.dropWatchRate || first('droppedWatches', faults.dropWatchRate > 0));
    const dropAfter = Math.floor(rnd() * faults.dropWatchAfterMs);

    const forward = (): void => {
      if (conflict || error) {
        // Drain the body, then answer as the apiserver would.
        req.resume();
        req.on('end', () => {
          if (conflict) counts.conflicts++;
          else counts.errors++;
          const [code, reason, msg] = conflict
            ? [409, 'Conflict', 'Operation cannot be fulfilled: the object has been modified (injected)']
            : [500, 'InternalError', 'Internal error occurred: injected by the chaos proxy'];
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(statusBody(code, reason, msg));
        });
        return;
      }
      const headers = { ...req.headers, host: upstream.host };
      const client = upstream.protocol === 'https:' ? https : http;
      const up = client.request(
        {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (upRes) => {
          const code = upRes.statusCode ?? 502;
          if (code >= 400) refused[`${code} ${byVerb}`] = (refused[`${code} ${byVerb}`] ?? 0) + 1;
          res.writeHead(code, upRes.headers);
          upRes.pipe(res);
          if (drop) {
            setTimeout(() => {
              counts.droppedWatches++;
              upRes.destroy();
              res.destroy();
            }, dropAfter).unref();
          }
        },
      );
      open.add(up);
      up.on('close', () => open.delete(up));
      up.on('error', () => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(statusBody(502, 'ServiceUnavailable', 'upstream unreachable'));
        } else res.destroy();
      });
      res.on('close', () => up.destroy());
      const resource = resourceOf(req.url ?? '');
      if (req.method === 'PATCH' && (resource === 'pods' || resource === 'pods/status')) {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => countPatch(resource, Buffer.concat(chunks).toString('utf8')));
      }
      req.pipe(up);
    };
    if (delay > 0) {
      counts.delayed++;
      setTimeout(forward, delay);
    } else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setFaults(f) {
      faults = { ...faults, ...f };
      baseline = { ...counts };
      forced.clear();
    },
    counts: () => ({ ...counts }),
    writes: () => ({ ...writes }),
    requests: () => ({ ...requests }),
    refused: () => ({ ...refused }),
    patchedAnnotations: () => ({ ...patched }),
    async close() {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
