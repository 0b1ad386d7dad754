/**
 * /metrics/resource and /stats/summary from ECI metric records, read the way metrics-server reads them: pods
 * without data are left out (never failing the scrape), CPU is never 0, the node is the sum of its pods, one
 * snapshot serves scrapes within the TTL and a failing batch drops only its pods.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EciGroupMetric } from '../../../../shared/ports/index.js';
import { buildSnapshot, renderResourceMetrics, renderSummary, StatsCache, type StatsPod } from '../../../../watcher/kubelet/stats.js';
import { decodeResourceMetrics } from '../../../helpers/metricsServer.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const pod = (i: number): StatsPod => ({ namespace: 'ns', name: `p${i}`, uid: `u${i}`, groupId: `eci-${i}`, startTime: '2026-01-01T00:00:00Z' });
const metric = (i: number, cpuNs: number, mem: number): EciGroupMetric => ({
  containerGroupId: `eci-${i}`,
  timestamp: '2026-01-01T00:01:00Z',
  cpu: { usageCoreNanoSeconds: cpuNs, usageNanoCores: 5e7 },
  memory: { workingSetBytes: mem, usageBytes: mem, rssBytes: mem },
  containers: [{ name: 'app', cpu: { usageCoreNanoSeconds: cpuNs, usageNanoCores: 5e7 }, memory: { workingSetBytes: mem } }],
});

describe('kubelet stats', () => {
  it('renders what metrics-server keeps: pods with data, CPU clamped to > 0, node = sum of pods', () => {
    const snap = buildSnapshot([pod(1), pod(2), pod(3)], [metric(1, 2e9, 100), metric(2, 0, 50)], Date.parse('2026-01-01T00:01:05Z'));
    const batch = decodeResourceMetrics(renderResourceMetrics(snap));
    assert.deepEqual(batch.containers.map((c) => c.pod).sort(), ['p1', 'p2']);
    assert.equal(batch.containers.find((c) => c.pod === 'p1')?.cpuNs, 2e9);
    assert.ok((batch.containers.find((c) => c.pod === 'p2')?.cpuNs ?? 0) > 0, 'a zero CPU reading is clamped, not dropped');
    assert.equal(batch.node?.memory, 150);
    assert.equal(batch.node?.timestampMs, Date.parse('2026-01-01T00:01:00Z'));
    const sum = renderSummary(snap, 'vn', '2026-01-01T00:00:00Z') as { node: { memory: { workingSetBytes: number } }; pods: { podRef: { name: string } }[] };
    assert.equal(sum.node.memory.workingSetBytes, 150);
    assert.deepEqual(sum.pods.map((p) => p.podRef.name), ['p1', 'p2']);
  });

  it('no pods with data: no node sample (metrics-server skips the node) and still a valid scrape', () => {
    const text = renderResourceMetrics(buildSnapshot([pod(1)], [], 0));
    assert.match(text, /^scrape_error 0$/m);
    assert.deepEqual(decodeResourceMetrics(text), { containers: [] });
  });

  it('caches one snapshot per TTL, shares a refresh, and leaves out only the pods of a failing batch', async () => {
    let now = 0;
    let calls = 0;
    const pods = Array.from({ length: 45 }, (_, i) => pod(i));
    const cache = new StatsCache(
      {
        pods: async () => pods,
        metrics: async (ids) => {
          calls++;
          assert.ok(ids.length <= 20);
          if (ids.includes('eci-20')) throw new Error('boom');
          return ids.map((id) => metric(Number(id.slice(4)), 1e9, 10));
        },
      },
      { ttlMs: 15_000, now: () => now, log: silent },
    );
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    assert.equal(a, b);
    assert.equal(calls, 3);
    assert.equal(a.pods.length, 25, 'the 20 pods of the failed batch are left out');
    now = 14_999;
    await cache.get();
    assert.equal(calls, 3);
    now = 15_000;
    await cache.get();
    assert.equal(calls, 6);
  });
});
