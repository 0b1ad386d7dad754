/**
 * Pod sysctls → ECI, by ECI's own list (help.aliyun.com/document_detail/163023, "Configure a security context";
 * CreateContainerGroup `SecurityContext.Sysctl` / `HostSecurityContext.Sysctl`):
 * - ECI lets a pod set `kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`, `net.*` except
 *   `net.ipv4.tcp_syncookies`, and `vm.min_free_kbytes`; anything else is refused (UnsupportedSysctl) — other
 *   host-level sysctls need an ECI support ticket, then the `k8s.aliyun.com/eci-host-sysctls` annotation;
 * - of those, `SecurityContext.Sysctl` takes only the safe ones CreateContainerGroup lists
 *   (`net.ipv4.ping_group_range`, `net.ipv4.ip_unprivileged_port_start`); every other allowed one (Kubernetes'
 *   "unsafe" sysctls, and `kernel.shm_rmid_forced`, which matches `kernel.shm*`) goes in `HostSecurityContext.Sysctl`;
 * - `k8s.aliyun.com/eci-host-sysctls` (JSON `[{"name","value"}]`, ECI's annotation for ticket-approved ones) is
 *   appended to `HostSecurityContext.Sysctl` as given.
 */
import type { Collector } from './collector.js';
import type { EciNameValue } from './eci.js';

/** Sysctls CreateContainerGroup accepts in SecurityContext.Sysctl. */
export const ECI_SAFE_SYSCTLS: readonly string[] = ['net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'];
/** Patterns ECI documents as settable (a trailing `*` matches any rest). */
export const ECI_ALLOWED_SYSCTLS: readonly string[] = ['kernel.shm*', 'kernel.msg*', 'kernel.sem', 'fs.mqueue.*', 'net.*', 'vm.min_free_kbytes'];
/** Documented exceptions to the patterns. */
export const ECI_EXCLUDED_SYSCTLS: readonly string[] = ['net.ipv4.tcp_syncookies'];

function matches(name: string, pattern: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** Does ECI let a pod set this sysctl (without a support ticket)? */
export function eciAllowsSysctl(name: string): boolean {
  return !ECI_EXCLUDED_SYSCTLS.includes(name) && ECI_ALLOWED_SYSCTLS.some((p) => matches(name, p));
}

export interface SysctlFields {
  SecurityContext?: { Sysctl: EciNameValue[] };
  HostSecurityContext?: { Sysctl: EciNameValue[] };
}

/** The request fields for the pod's sysctls plus the annotation's host sysctls; refusals go to the collector. */
export function translateSysctls(col: Collector, sysctls: readonly { name?: unknown; value?: unknown }[], hostSysctls: readonly EciNameValue[]): SysctlFields {
  const safe: EciNameValue[] = [];
  const host: EciNameValue[] = [];
  sysctls.forEach((s, i) => {
    const field = `spec.securityContext.sysctls[${i}]`;
    if (typeof s?.name !== 'string' || !s.name || typeof s.value !== 'string') {
      col.refuse('InvalidSysctl', field, 'a sysctl needs a name and a value');
      return;
    }
    if (!eciAllowsSysctl(s.name)) {
      col.refuse('UnsupportedSysctl', `${field}.name`, `sysctl ${s.name} cannot be set on ECI`);
      return;
    }
    (ECI_SAFE_SYSCTLS.includes(s.name) ? safe : host).push({ Name: s.name, Value: s.value });
  });
  host.push(...hostSysctls);
  return {
    ...(safe.length ? { SecurityContext: { Sysctl: safe } } : {}),
    ...(host.length ? { HostSecurityContext: { Sysctl: host } } : {}),
  };
}
