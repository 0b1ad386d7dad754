/**
 * `/metrics/resource` (Prometheus text, what metrics-server ≥ 0.6 scrapes) and `/stats/summary` (the Summary
 * API, metrics-server < 0.6 and other tools) from ECI's DescribeMultiContainerGroupMetric.
 *
 * One snapshot serves both and is reused for `ttlMs` (~15 s, ECI's sampling period); concurrent scrapes share the
 * refresh. 20 groups per call (the SDK adapter batches). A pod without data (no group yet, no record, a failed
 * batch) is left out: the scrape never fails because of one pod. CPU is clamped to at least 1 ns of cumulative
 * usage: metrics-server drops containers whose cumulative CPU is 0 ("No metrics for pod"). The node's values are
 * the sum over its pods, so `kubectl top node` shows the virtual node's actual use.
 */
import type { EciGroupMetric, Logger } from '../../shared/ports/index.js';

export interface StatsPod {
  namespace: string;
  name: string;
  uid: string;
  groupId: string;
  startTime?: string;
}

export interface StatsSources {
  /** the node's pods with a container group */
  pods(): Promise<StatsPod[]>;
  metrics(ids: readonly string[]): Promise<EciGroupMetric[]>;
}

interface Usage {
  cpuNs: number;
  nanoCores: number;
  workingSet: number;
  usage: number;
  rss: number;
  available?: number;
}

export interface PodSample {
  pod: StatsPod;
  time: string;
  total: Usage;
  containers: { name: string; usage: Usage }[];
}

export interface Snapshot {
  at: number;
  time: string;
  pods: PodSample[];
  node: Usage;
}

function usageOf(m: Pick<EciGroupMetric, 'cpu' | 'memory'>): Usage {
  return {
    cpuNs: Math.max(1, Math.round(m.cpu.usageCoreNanoSeconds ?? 0)),
    nanoCores: Math.max(0, Math.round(m.cpu.usageNanoCores ?? 0)),
    workingSet: Math.max(0, Math.round(m.memory.workingSetBytes ?? m.memory.usageBytes ?? 0)),
    usage: Math.max(0, Math.round(m.memory.usageBytes ?? m.memory.workingSetBytes ?? 0)),
    rss: Math.max(0, Math.round(m.memory.rssBytes ?? 0)),
    available: m.memory.availableBytes,
  };
}

const add = (a: Usage, b: Usage): Usage => ({
  cpuNs: a.cpuNs + b.cpuNs,
  nanoCores: a.nanoCores + b.nanoCores,
  workingSet: a.workingSet + b.workingSet,
  usage: a.usage + b.usage,
  rss: a.rss + b.rss,
});

/** Builds a snapshot from pods and their metric records (pure). */
export function buildSnapshot(pods: readonly StatsPod[], metrics: readonly EciGroupMetric[], nowMs: number): Snapshot {
  const byGroup = new Map(metrics.map((m) => [m.containerGroupId, m]));
  const samples: PodSample[] = [];
  for (const pod of pods) {
    const m = byGroup.get(pod.groupId);
    if (!m || Number.isNaN(Date.parse(m.timestamp))) continue;
    const containers = m.containers.filter((c) => c.name).map((c) => ({ name: c.name, usage: usageOf(c) }));
    if (containers.length === 0) continue;
    samples.push({ pod, time: new Date(Date.parse(m.timestamp)).toISOString(), total: usageOf(m), containers });
  }
  const node = samples.reduce<Usage>((acc, s) => add(acc, s.total), { cpuNs: 0, nanoCores: 0, workingSet: 0, usage: 0, rss: 0 });
  const latest = samples.reduce((t, s) => Math.max(t, Date.parse(s.time)), 0);
  return { at: nowMs, time: new Date(latest || nowMs).toISOString(), pods: samples, node };
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Prometheus text format 0.0.4, the kubelet's resource metrics (with sample timestamps in ms). */
export function renderResourceMetrics(s: Snapshot): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} [ALPHA] ${help}`, `# TYPE ${name} ${type}`);
  const ts = (iso: string) => Date.parse(iso);
  family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the container in core-seconds');
  for (const p of s.pods) {
    for (const c of p.containers) {
      out.push(`container_cpu_usage_seconds_total{container="${esc(c.name)}",namespace="${esc(p.pod.namespace)}",pod="${esc(p.pod.name)}"} ${c.usage.cpuNs / 1e9} ${ts(p.time)}`);
    }
  }
  family('container_memory_working_set_bytes', 'gauge', 'Current working set of the container in bytes');
  for (const p of s.pods) {
    for (const c of p.containers) {
      out.push(`container_memory_working_set_bytes{container="${esc(c.name)}",namespace="${esc(p.pod.namespace)}",pod="${esc(p.pod.name)}"} ${c.usage.workingSet} ${ts(p.time)}`);
    }
  }
  family('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds');
  for (const p of s.pods) {
    if (!p.pod.startTime) continue;
    for (const c of p.containers) {
      out.push(`container_start_time_seconds{container="${esc(c.name)}",namespace="${esc(p.pod.namespace)}",pod="${esc(p.pod.name)}"} ${Date.parse(p.pod.startTime) / 1000} ${ts(p.time)}`);
    }
  }
  if (s.pods.length > 0) {
    family('node_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the node in core-seconds');
    out.push(`node_cpu_usage_seconds_total ${s.node.cpuNs / 1e9} ${ts(s.time)}`);
    family('node_memory_working_set_bytes', 'gauge', 'Current working set of the node in bytes');
    out.push(`node_memory_working_set_bytes ${s.node.workingSet} ${ts(s.time)}`);
  }
  family('pod_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the pod in core-seconds');
  for (const p of s.pods) out.push(`pod_cpu_usage_seconds_total{namespace="${esc(p.pod.namespace)}",pod="${esc(p.pod.name)}"} ${p.total.cpuNs / 1e9} ${ts(p.time)}`);
  family('pod_memory_working_set_bytes', 'gauge', 'Current working set of the pod in bytes');
  for (const p of s.pods) out.push(`pod_memory_working_set_bytes{namespace="${esc(p.pod.namespace)}",pod="${esc(p.pod.name)}"} ${p.total.workingSet} ${ts(p.time)}`);
  family('scrape_error', 'gauge', '1 if there was an error while getting container metrics, 0 otherwise');
  out.push('scrape_error 0');
  return `${out.join('\n')}\n`;
}

const cpuJson = (u: Usage, time: string) => ({ time, usageNanoCores: u.nanoCores, usageCoreNanoSeconds: u.cpuNs });
const memJson = (u: Usage, time: string) => ({
  time,
  ...(u.available !== undefined ? { availableBytes: u.available } : {}),
  usageBytes: u.usage,
  workingSetBytes: u.workingSet,
  rssBytes: u.rss,
});

/** The Summary API (stats/v1alpha1) for the node and its pods. */
export function renderSummary(s: Snapshot, nodeName: string, nodeStart: string): Record<string, unknown> {
  return {
    node: {
      nodeName,
      startTime: nodeStart,
      cpu: cpuJson(s.node, s.time),
      memory: memJson(s.node, s.time),
      systemContainers: [],
    },
    pods: s.pods.map((p) => ({
      podRef: { name: p.pod.name, namespace: p.pod.namespace, uid: p.pod.uid },
      startTime: p.pod.startTime ?? p.time,
      containers: p.containers.map((c) => ({ name: c.name, startTime: p.pod.startTime ?? p.time, cpu: cpuJson(c.usage, p.time), memory: memJson(c.usage, p.time) })),
      cpu: cpuJson(p.total, p.time),
      memory: memJson(p.total, p.time),
    })),
  };
}

/** The cached snapshot, refreshed at most once per `ttlMs`, one refresh at a time. */
export class StatsCache {
  #snapshot?: Snapshot;
  #refreshing?: Promise<Snapshot>;

  constructor(
    private readonly sources: StatsSources,
    private readonly o: { ttlMs: number; now: () => number; log: Logger },
  ) {}

  async get(): Promise<Snapshot> {
    const now = this.o.now();
    if (this.#snapshot && now - this.#snapshot.at < this.o.ttlMs) return this.#snapshot;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<Snapshot> {
    const pods = await this.sources.pods();
    const metrics: EciGroupMetric[] = [];
    // 20 groups per call (ECI's limit); a batch that fails leaves its pods out instead of failing the scrape
    for (let i = 0; i < pods.length; i += 20) {
      const ids = pods.slice(i, i + 20).map((p) => p.groupId);
      try {
        metrics.push(...(await this.sources.metrics(ids)));
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message, groups: ids.length }, 'metrics: a DescribeMultiContainerGroupMetric batch failed; its pods are left out');
      }
    }
    this.#snapshot = buildSnapshot(pods, metrics, this.o.now());
    return this.#snapshot;
  }
}
