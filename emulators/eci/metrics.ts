/**
 * DescribeMultiContainerGroupMetric: one synthetic record per group with running containers (a steady 0.05 core and
 * 64 MiB per running container), in the shape the SDK parses; unknown ids are left out, as ECI does.
 */
import { missingParameter } from './errors.js';
import { iso, type SimGroup as Group } from './lifecycle.js';
import { jsonStringArray, requireStr, type Wire } from './params.js';

export function metricsResponse(p: Wire, groups: ReadonlyMap<string, Group>, now: number): Record<string, unknown> {
  requireStr(p, 'RegionId');
  const ids = jsonStringArray(p, 'ContainerGroupIds', 20);
  if (!ids) throw missingParameter('ContainerGroupIds');
  const data = ids
    .map((id) => groups.get(id))
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
