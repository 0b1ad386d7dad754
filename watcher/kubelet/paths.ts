/**
 * The kubelet API's paths as pure data: which route a request names, the authorization attributes the kubelet
 * derives from it (pkg/kubelet/server/auth.go: /stats → nodes/stats, /metrics → nodes/metrics, /logs →
 * nodes/log, everything else → nodes/proxy; the verb from the HTTP method, `create` forced for exec, attach and
 * portForward so a WebSocket GET cannot run a command with only `get`), and the containerLogs query.
 */
import { KubeletError } from './errors.js';

export type Route =
  | { kind: 'healthz' }
  | { kind: 'containerLogs'; namespace: string; pod: string; container: string }
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string }
  | { kind: 'statsSummary' }
  | { kind: 'metricsResource' }
  | { kind: 'unknown' };

const seg = (s: string | undefined): string => decodeURIComponent(s ?? '');

export function parseRoute(path: string): Route {
  const p = path.replace(/\/+$/, '');
  if (p === '/healthz') return { kind: 'healthz' };
  if (p === '/stats/summary') return { kind: 'statsSummary' };
  if (p === '/metrics/resource' || p === '/metrics/resource/v1alpha1') return { kind: 'metricsResource' };
  const parts = p.split('/').slice(1);
  const [head, ns, pod, container] = parts;
  if (head === 'containerLogs' && parts.length === 4) return { kind: 'containerLogs', namespace: seg(ns), pod: seg(pod), container: seg(container) };
  if ((head === 'exec' || head === 'attach') && parts.length === 4) return { kind: head, namespace: seg(ns), pod: seg(pod), container: seg(container) };
  if (head === 'portForward' && parts.length === 3) return { kind: 'portForward', namespace: seg(ns), pod: seg(pod) };
  return { kind: 'unknown' };
}

const VERBS: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The SubjectAccessReview attributes of a request on `nodes/<subresource>`, as the kubelet computes them. */
export function authzAttributes(method: string, path: string): { verb: string; subresource: string } {
  const verb = VERBS[method.toUpperCase()] ?? method.toLowerCase();
  const first = path.split('/')[1] ?? '';
  if (first === 'stats') return { verb, subresource: 'stats' };
  if (first === 'metrics') return { verb, subresource: 'metrics' };
  if (first === 'logs') return { verb, subresource: 'log' };
  if (first === 'exec' || first === 'attach' || first === 'portForward' || first === 'run') return { verb: 'create', subresource: 'proxy' };
  return { verb, subresource: 'proxy' };
}

/** The containerLogs query (PodLogOptions as the apiserver sends them). */
export interface LogQuery {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  /** epoch ms */
  sinceTime?: number;
}

const bool = (v: string | null): boolean => v === 'true' || v === '1';

function nonNegative(q: URLSearchParams, name: string, min: number): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new KubeletError(`${name} must be an integer >= ${min}, got "${raw}"`, 400);
  return n;
}

export function parseLogQuery(q: URLSearchParams): LogQuery {
  const out: LogQuery = {
    follow: bool(q.get('follow')),
    previous: bool(q.get('previous')),
    timestamps: bool(q.get('timestamps')),
    tailLines: nonNegative(q, 'tailLines', 0),
    limitBytes: nonNegative(q, 'limitBytes', 1),
    sinceSeconds: nonNegative(q, 'sinceSeconds', 1),
  };
  const since = q.get('sinceTime');
  if (since) {
    const t = Date.parse(since);
    if (Number.isNaN(t)) throw new KubeletError(`sinceTime must be RFC 3339, got "${since}"`, 400);
    out.sinceTime = t;
  }
  if (out.sinceSeconds !== undefined && out.sinceTime !== undefined) {
    throw new KubeletError('at most one of sinceTime or sinceSeconds may be specified', 400);
  }
  if (out.follow && out.previous) throw new KubeletError('follow and previous cannot be combined', 400);
  return out;
}
