/**
 * Where a new container group goes and whether the region has room for it: the zone / vSwitch choice (vSwitches in
 * the order given, each in a zone derived from its id unless ZoneId pins one; sold-out ones skipped, as ECI's
 * VSwitchOrdered strategy does) and the regional vCPU quota, both driven by the injected faults (control.ts).
 */
import type { Faults } from './control.js';
import { EciEmulatorError } from './errors.js';
import type { SimGroup as Group } from './lifecycle.js';

/** Picks the zone and vSwitch; NoStock when every candidate is sold out (VSwitchOrdered semantics). */
export function place(
  zones: readonly string[],
  faults: Faults,
  zone: string | undefined,
  vSwitches: string[],
  spot: boolean,
): { zoneId: string; vSwitchId: string } {
  const noStock = faults.noStock;
  if (spot && noStock?.spot) {
    throw new EciEmulatorError('OperationDenied.NoStock', 'Sales of spot instances are temporarily suspended in every zone.');
  }
  const zoneOf = (vsw: string) => zones[hash(vsw) % zones.length] as string;
  const candidates = vSwitches.length
    ? vSwitches.map((v) => ({ vSwitchId: v, zoneId: zone ?? zoneOf(v) }))
    : [{ vSwitchId: 'vsw-emulator-default', zoneId: zone ?? (zones[0] as string) }];
  for (const c of candidates) {
    if (noStock?.zones?.includes(c.zoneId) || noStock?.vSwitches?.includes(c.vSwitchId)) continue;
    return c;
  }
  const where = candidates.map((c) => `${c.zoneId}/${c.vSwitchId}`).join(', ');
  throw new EciEmulatorError(
    'OperationDenied.NoStock',
    `Sales of this resource are temporarily suspended in the specified zone (${where}).`,
  );
}

/** QuotaExceeded.Cpu when `cpu` more vCPU would exceed the faults' regional quota (groups not terminal count). */
export function checkVcpuQuota(faults: Faults, groups: Iterable<Group>, cpu: number): void {
if (faults.vcpuQuota !== undefined) {
  let used = 0;
  for (const g of groups) if (!g.terminal) used += g.init.cpu;
  if (used + cpu > faults.vcpuQuota) {
    throw new EciEmulatorError(
      'QuotaExceeded.Cpu',
      `The vCPU quota of the region is exhausted: used ${used}, quota ${faults.vcpuQuota}, requested ${cpu}.`,
    );
  }
}
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

