/**
 * Pod DNS → ECI `DnsPolicy` / `DnsConfig`. The bridge writes the resolv.conf the kubelet would, since ECI sees no
 * pod spec, then merges ECI's `k8s.aliyun.com/eci-custom-dnsconfig` annotation into it:
 *
 * 1. the base of the dnsPolicy: ClusterFirst (the default; ClusterFirstWithHostNet behaves the same, hostNetwork
 *    being refused) → nameserver CLUSTER_DNS, searches `<ns>.svc.<d> svc.<d> <d>`, option `ndots:5`;
 *    None → nothing; Default → the VPC resolver (`DnsPolicy=Default`);
 * 2. `spec.dnsConfig` appended (Kubernetes' rule);
 * 3. the annotation appended after that: its nameservers (ECI: at most 2) after the policy's and dnsConfig's, so
 *    cluster names still resolve first; its searches after theirs; its options override same-named ones.
 * Duplicates are removed; options merge by name (later wins). More than 3 nameservers (resolv.conf's limit): the
 * first 3 are kept with a DnsNameserversTruncated warning, as the kubelet does. More than 32 searches is refused.
 * Default with the annotation becomes `DnsPolicy=None` with the annotation's servers followed by Alibaba Cloud DNS
 * (100.100.2.136), which ECI documents it appends for this annotation; Default with only dnsConfig stays Default
 * (DnsDefaultWithConfig warning: ECI documents DnsConfig for None only).
 *
 * The annotation takes ECI's documented format, comma-separated strings —
 * `{"nameservers":"20.1.0.1,20.1.0.2","searches":"xx.com","options":"ndots:2,edns0"}` — and the spec.dnsConfig
 * shape (`nameservers`/`searches` lists, `options` as `[{"name","value"}]`).
 */
import type { Collector } from './collector.js';
import type { EciCreateRequest } from './eci.js';
import type { Pod } from './k8s.js';

export type DnsOption = { Name: string; Value?: string };
export interface CustomDns {
  nameservers: string[];
  searches: string[];
  options: DnsOption[];
}

/** ECI reads at most this many nameservers from eci-custom-dnsconfig (it ignores the rest). */
export const CUSTOM_DNS_MAX_NAMESERVERS = 2;
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCHES = 32;
/** Alibaba Cloud DNS, which ECI appends after eci-custom-dnsconfig's nameservers. */
export const ALIBABA_CLOUD_DNS = '100.100.2.136';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]+$/;

function listOf(v: unknown): string[] | undefined {
  if (v === undefined) return [];
  if (typeof v === 'string') {
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.map((x: string) => x.trim()).filter(Boolean) : undefined;
}

function optionOf(v: unknown): DnsOption | undefined {
  if (typeof v === 'string') {
    const t = v.trim();
    const i = t.indexOf(':');
    if (!t || i === 0) return undefined;
    return i < 0 ? { Name: t } : { Name: t.slice(0, i), Value: t.slice(i + 1) };
  }
  const r = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  if (typeof r?.name !== 'string' || !r.name) return undefined;
  return r.value === undefined ? { Name: r.name } : typeof r.value === 'string' ? { Name: r.name, Value: r.value } : undefined;
}

/** Parses eci-custom-dnsconfig (a JSON object); an error message when malformed. */
export function parseCustomDns(text: string): { value: CustomDns } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const r = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  const format = 'expected JSON {"nameservers":"20.1.0.1,20.1.0.2","searches":"xx.com","options":"ndots:2,edns0"} (lists also accepted)';
  if (!r) return { error: format };
  const nameservers = listOf(r.nameservers);
  const searches = listOf(r.searches);
  const rawOptions = typeof r.options === 'string' ? listOf(r.options) : r.options === undefined ? [] : Array.isArray(r.options) ? r.options : undefined;
  const options = rawOptions?.map(optionOf);
  if (!nameservers || !searches || !options || options.some((o) => !o)) return { error: format };
  const badIp = nameservers.find((s) => !IPV4.test(s) && !(s.includes(':') && IPV6.test(s)));
  if (badIp !== undefined) return { error: `nameserver "${badIp}" is not an IP address` };
  if (nameservers.length > CUSTOM_DNS_MAX_NAMESERVERS) {
    return { error: `at most ${CUSTOM_DNS_MAX_NAMESERVERS} nameservers (ECI ignores the rest)` };
  }
  if (searches.length > MAX_DNS_SEARCHES) return { error: `at most ${MAX_DNS_SEARCHES} searches` };
  return { value: { nameservers, searches, options: options as DnsOption[] } };
}

const unique = (xs: string[]): string[] => xs.filter((s, i) => xs.indexOf(s) === i);

function mergeOptions(...lists: DnsOption[][]): DnsOption[] {
  const m = new Map<string, DnsOption>();
  for (const o of lists.flat()) m.set(o.Name, o);
  return [...m.values()];
}

/** Sets DnsPolicy / DnsConfig on the request (see the rules above). */
export function applyDns(pod: Pod, cluster: { clusterDns: string; clusterDomain: string }, custom: CustomDns | undefined, col: Collector, req: EciCreateRequest): void {
  const spec = pod.spec;
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  const dc = spec.dnsConfig;
  const dcOptions = (dc?.options ?? []).filter((o) => o?.name).map((o) => (o.value !== undefined ? { Name: o.name, Value: o.value } : { Name: o.name }));
  const ann = custom ?? { nameservers: [], searches: [], options: [] };
  let servers: string[];
  let searches: string[];
  let options: DnsOption[];
  if (policy === 'None') {
    servers = [...(dc?.nameservers ?? []), ...ann.nameservers];
    searches = [...(dc?.searches ?? []), ...ann.searches];
    options = mergeOptions(dcOptions, ann.options);
    if (servers.length === 0) {
      col.refuse('InvalidDnsConfig', 'spec.dnsConfig', 'dnsPolicy None needs at least one nameserver');
      return;
    }
  } else if (policy === 'Default') {
    if (!custom) {
      req.DnsPolicy = 'Default';
      if (dc && (dc.nameservers?.length || dc.searches?.length || dcOptions.length)) {
        col.warn('DnsDefaultWithConfig', 'spec.dnsConfig');
        req.DnsConfig = {
          ...(dc.nameservers?.length ? { NameServer: [...dc.nameservers] } : {}),
          ...(dc.searches?.length ? { Search: [...dc.searches] } : {}),
          ...(dcOptions.length ? { Option: dcOptions } : {}),
        };
      }
      return;
    }
    servers = [...(dc?.nameservers ?? []), ...ann.nameservers, ALIBABA_CLOUD_DNS];
    searches = [...(dc?.searches ?? []), ...ann.searches];
    options = mergeOptions(dcOptions, ann.options);
  } else {
    const d = cluster.clusterDomain;
    const ns = pod.metadata.namespace ?? 'default';
    servers = [cluster.clusterDns, ...(dc?.nameservers ?? []), ...ann.nameservers];
    searches = [`${ns}.svc.${d}`, `svc.${d}`, d, ...(dc?.searches ?? []), ...ann.searches];
    options = mergeOptions([{ Name: 'ndots', Value: '5' }], dcOptions, ann.options);
  }
  servers = unique(servers);
  searches = unique(searches);
  if (searches.length > MAX_DNS_SEARCHES) {
    col.refuse('InvalidDnsConfig', 'spec.dnsConfig.searches', `${searches.length} search domains after merging; at most ${MAX_DNS_SEARCHES}`);
    return;
  }
  if (servers.length > MAX_DNS_NAMESERVERS) {
    col.warn('DnsNameserversTruncated', 'spec.dnsConfig.nameservers', `${servers.length} nameservers after merging; only the first ${MAX_DNS_NAMESERVERS} are used, ${servers.slice(MAX_DNS_NAMESERVERS).join(', ')} dropped`);
    servers = servers.slice(0, MAX_DNS_NAMESERVERS);
  }
  req.DnsPolicy = 'None';
  req.DnsConfig = { NameServer: servers, ...(searches.length ? { Search: searches } : {}), ...(options.length ? { Option: options } : {}) };
}
