/**
 * How metrics-server (v0.6+, pkg/scraper/client/resource/decode.go) reads a kubelet's /metrics/resource: the
 * node's cumulative CPU and working set, each container's, with sample timestamps; a container whose cumulative
 * CPU or memory is 0 is dropped ("No metrics for pod"), and so is a node whose CPU or memory is 0. Test-side only:
 * the tests parse the watcher's output the way the real consumer does.
 */
export interface MsContainer {
  namespace: string;
  pod: string;
  container: string;
  cpuNs: number;
  memory: number;
  timestampMs: number;
}

export interface MsBatch {
  node?: { cpuNs: number; memory: number; timestampMs: number };
  containers: MsContainer[];
}

function labelsOf(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) if (m[1]) out[m[1]] = (m[2] ?? '').replace(/\\(.)/g, '$1');
  return out;
}

export function decodeResourceMetrics(text: string): MsBatch {
  const node: { cpuNs?: number; memory?: number; ts?: number } = {};
  const byKey = new Map<string, Partial<MsContainer>>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)(?:\{([^}]*)\})?\s+(\S+)(?:\s+(\d+))?$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const [, name, rawLabels, value, ts] = m;
    const v = Number(value);
    const t = ts ? Number(ts) : 0;
    const l = labelsOf(rawLabels ?? '');
    if (name === 'node_cpu_usage_seconds_total') Object.assign(node, { cpuNs: v * 1e9, ts: t });
    if (name === 'node_memory_working_set_bytes') Object.assign(node, { memory: v, ts: t });
    if (name === 'container_cpu_usage_seconds_total' || name === 'container_memory_working_set_bytes') {
      const key = `${l.namespace}/${l.pod}/${l.container}`;
      const c = byKey.get(key) ?? { namespace: l.namespace, pod: l.pod, container: l.container, cpuNs: 0, memory: 0, timestampMs: t };
      if (name === 'container_cpu_usage_seconds_total') c.cpuNs = v * 1e9;
      else c.memory = v;
      c.timestampMs = t;
      byKey.set(key, c);
    }
  }
  const containers = [...byKey.values()].filter((c) => (c.cpuNs ?? 0) > 0 && (c.memory ?? 0) > 0 && (c.timestampMs ?? 0) > 0) as MsContainer[];
  const okNode = (node.cpuNs ?? 0) > 0 && (node.memory ?? 0) > 0 && (node.ts ?? 0) > 0;
  return { ...(okNode ? { node: { cpuNs: node.cpuNs as number, memory: node.memory as number, timestampMs: node.ts as number } } : {}), containers };
}
