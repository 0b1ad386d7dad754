/**
 * The `k8s.aliyun.com/eci-*` pod annotations (ECI pod annotations, docs/architecture.md#sources) → CreateContainerGroup fields. Every value is
 * validated: a bad value is a violation (InvalidAnnotation) naming the annotation, never a silent drop.
 * Annotations that only steer the bridge (spot fallback, fail strategy, reschedule) are validated and returned as
 * `policy`; documented annotations without a request field produce a warning.
 */
import { type CustomDns, parseCustomDns } from './dns.js';
import type { EciKeyValue } from './eci.js';
import type { Violation, Warning } from './errors.js';
import { violation, warning } from './errors.js';
import { tagProblem } from './names.js';
import { parseQuantity, parseUseSpecs } from './resources.js';

export const P = 'k8s.aliyun.com/';
export const ANNOTATION_USE_SPECS = `${P}eci-use-specs`;
export const ANNOTATION_CUSTOM_TAGS = `${P}eci-custom-tags`;

type Parsed = { value: unknown } | { error: string };
type Parser = (v: string) => Parsed;

const ok = (value: unknown): Parsed => ({ value });
const err = (error: string): Parsed => ({ error });

const str =
  (re?: RegExp, what?: string): Parser =>
  (v) => {
    const t = v.trim();
    if (!t) return err('empty value');
    if (re && !re.test(t)) return err(`expected ${what ?? re.source}`);
    return ok(t);
  };
/**
 * The one boolean rule for every annotation (bridge policy and request fields alike): "true" or "false", any case,
 * surrounding blanks ignored; anything else is undefined (an InvalidAnnotation where the value is validated).
 */
export function parseBoolean(v: string | undefined): boolean | undefined {
  const t = v?.trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}
const bool: Parser = (v) => {
  const b = parseBoolean(v);
  return b === undefined ? err('expected "true" or "false"') : ok(b);
};
const int =
  (min: number, max: number): Parser =>
  (v) => {
    const t = v.trim();
    if (!/^\d+$/.test(t)) return err(`expected an integer between ${min} and ${max}`);
    const n = Number(t);
    return n < min || n > max ? err(`expected an integer between ${min} and ${max}`) : ok(n);
  };
const oneOf =
  (...values: string[]): Parser =>
  (v) =>
    values.includes(v.trim()) ? ok(v.trim()) : err(`expected one of ${values.join(', ')}`);
const list =
  (re: RegExp, maxItems: number, what: string): Parser =>
  (v) => {
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) return err('empty list');
    if (items.length > maxItems) return err(`at most ${maxItems} items`);
    const bad = items.find((i) => !re.test(i));
    return bad !== undefined ? err(`"${bad}" is not ${what}`) : ok(items);
  };
const csvString =
  (re: RegExp, maxItems: number, what: string): Parser =>
  (v) => {
    const r = list(re, maxItems, what)(v);
    return 'error' in r ? r : ok((r.value as string[]).join(','));
  };
/** Bandwidth like `40M` / `1G` / `500k` (bit/s, decimal units as Kubernetes' bandwidth plugin) → bit/s. */
const bandwidth: Parser = (v) => {
  const n = parseQuantity(v.trim());
  return n === undefined || n <= 0 ? err('expected a bandwidth such as 40M') : ok(Math.round(n));
};
const ipv4Re = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const idRe = (prefix: string): RegExp => new RegExp(`^${prefix}[A-Za-z0-9-]+$`);

/** Simple annotations: key (without prefix unless it contains a slash) → request field and parser. */
const SIMPLE: { key: string; field: string; parse: Parser }[] = [
  { key: 'eci-vswitch', field: 'VSwitchId', parse: csvString(idRe('vsw-'), 10, 'a vSwitch id (vsw-...)') },
  { key: 'eci-schedule-strategy', field: 'ScheduleStrategy', parse: oneOf('VSwitchOrdered', 'VSwitchRandom') },
  { key: 'eci-security-group', field: 'SecurityGroupId', parse: csvString(idRe('sg-'), 5, 'a security group id (sg-...)') },
  { key: 'eci-compute-category', field: 'ComputeCategory', parse: list(/^(economy|general)$/, 2, 'economy or general') },
  { key: 'eci-gpu-driver-version', field: 'GpuDriverVersion', parse: str(/^[a-z]+=[\w.-]+$/, 'like tesla=525.85.12') },
  { key: 'eci-spot-strategy', field: 'SpotStrategy', parse: oneOf('NoSpot', 'SpotAsPriceGo', 'SpotWithPriceLimit') },
  {
    key: 'eci-spot-price-limit',
    field: 'SpotPriceLimit',
    parse: (v) =>
      /^\d+(\.\d{1,3})?$/.test(v.trim()) && Number(v) > 0
        ? ok(Number(v))
        : err('expected a positive hourly price with at most 3 decimals'),
  },
  { key: 'eci-spot-duration', field: 'SpotDuration', parse: int(0, 6) },
  { key: 'eci-max-pending-minute', field: 'MaxPendingMinute', parse: int(10, 1440) },
  { key: 'eci-ram-role-name', field: 'RamRoleName', parse: str(/^[A-Za-z0-9.-]{1,64}$/, 'a RAM role name') },
  { key: 'eci-cpu-option-core', field: 'CpuOptionsCore', parse: int(1, 256) },
  { key: 'eci-cpu-option-ht', field: 'CpuOptionsThreadsPerCore', parse: int(1, 2) },
  { key: 'eci-auto-imc', field: 'AutoMatchImageCache', parse: bool },
  { key: 'eci-image-cache', field: 'AutoMatchImageCache', parse: bool },
  { key: 'eci-imc-id', field: 'ImageSnapshotId', parse: str(idRe('imc-'), 'an image cache id (imc-...)') },
  { key: 'eci-image-snapshot-id', field: 'ImageSnapshotId', parse: str(idRe('imc-'), 'an image cache id (imc-...)') },
  { key: 'plain-http-registry', field: 'PlainHttpRegistry', parse: csvString(/^[\w.:-]+$/, 50, 'a registry host') },
  { key: 'insecure-registry', field: 'InsecureRegistry', parse: csvString(/^[\w.:-]+$/, 50, 'a registry host') },
  { key: 'eci-data-cache-bucket', field: 'DataCacheBucket', parse: str(/^[\w.-]+$/, 'a bucket name') },
  { key: 'eci-data-cache-pl', field: 'DataCachePL', parse: oneOf('PL0', 'PL1', 'PL2', 'PL3') },
  { key: 'eci-data-cache-provisionedIops', field: 'DataCacheProvisionedIops', parse: int(0, 1_000_000) },
  { key: 'eci-data-cache-burstingEnabled', field: 'DataCacheBurstingEnabled', parse: bool },
  { key: 'eci-eip-instanceid', field: 'EipInstanceId', parse: str(idRe('eip-'), 'an EIP id (eip-...)') },
  { key: 'eci-with-eip', field: 'AutoCreateEip', parse: bool },
  { key: 'eip-bandwidth', field: 'EipBandwidth', parse: int(1, 10000) },
  {
    key: 'eip-common-bandwidth-package-id',
    field: 'EipCommonBandwidthPackage',
    parse: str(idRe('cbwp-'), 'a bandwidth package id (cbwp-...)'),
  },
  { key: 'eip-isp', field: 'EipISP', parse: oneOf('BGP', 'BGP_PRO') },
  { key: 'eci-ipv6-bandwidth-enable', field: 'Ipv6GatewayBandwidthEnable', parse: bool },
  { key: 'eci-ipv6-bandwidth', field: 'Ipv6GatewayBandwidth', parse: str(/^\d+[KMG]?$/, 'a bandwidth such as 100M') },
  { key: 'eci-private-ip-address', field: 'PrivateIpAddress', parse: str(ipv4Re, 'an IPv4 address') },
  { key: 'eci-fixed-ip-retain-hour', field: 'FixedIpRetainHour', parse: int(1, 8760) },
  { key: 'kubernetes.io/ingress-bandwidth', field: 'IngressBandwidth', parse: bandwidth },
  { key: 'kubernetes.io/egress-bandwidth', field: 'EgressBandwidth', parse: bandwidth },
  {
    key: 'eci-extra-ephemeral-storage',
    field: 'EphemeralStorage',
    parse: (v) => {
      const n = parseQuantity(v.trim());
      return n === undefined || n <= 0 ? err('expected a size such as 50Gi') : ok(Math.ceil(n / 2 ** 30));
    },
  },
  { key: 'eci-ntp-server', field: 'NtpServer', parse: list(/^[\w.*:-]+$/, 10, 'an NTP server address') },
  { key: 'eci-core-pattern', field: 'CorePattern', parse: str(/^\/\S*$/, 'an absolute path') },
  { key: 'eci-resource-group-id', field: 'ResourceGroupId', parse: str(idRe('rg-'), 'a resource group id (rg-...)') },
];

/** Bridge-side policy annotations: validated, no request field. */
const POLICY: { key: string; name: keyof BridgePolicy; parse: Parser }[] = [
  { key: 'eci-spot-fallback', name: 'spotFallback', parse: bool },
  { key: 'eci-fail-strategy', name: 'failStrategy', parse: oneOf('fail-back', 'fail-over', 'fail-fast') },
  { key: 'eci-reschedule-enable', name: 'rescheduleEnable', parse: bool },
  { key: 'pod-fail-on-create-err', name: 'failOnCreateError', parse: bool },
];

/** Documented annotations with no CreateContainerGroup field in 2018-08-08 (warning only). */
export const NO_FIELD_ANNOTATIONS = [
  'eci-instance-family',
  'eci-instance-generation',
  'eci-privatepool-matchcriteria',
  'eci-privatepool-id',
  'imc-perfect-match',
  'imc-match-count-request',
  'eip-internet-charge-type',
  'eip-public-ip-address-pool-id',
  'eci-ephemeral-storage-options',
  'eci-eviction-enable',
  'eci-sls-enable',
];

/** Annotations ECI/the bridge write back after scheduling: ignored on input. */
const WRITTEN_BACK = new Set(
  [
    'eci-request-id',
    'eci-instance-id',
    'eci-instance-spec',
    'eci-instance-compute-category',
    'allocated-eipInstanceId',
    'allocated-eipAddress',
    'allocated-ipv6Address',
    'eci-created-by-template',
    'eni-instance-id',
    'eci-vpc',
    'eci-matched-image-cache',
    'eci-schedule-result',
    'eci-client-token',
    'eci-instance-cpu',
    'eci-instance-mem',
    'eci-instance-zone',
  ].map((k) => P + k),
);

export interface BridgePolicy {
  spotFallback?: boolean;
  failStrategy?: 'fail-back' | 'fail-over' | 'fail-fast';
  rescheduleEnable?: boolean;
  failOnCreateError?: boolean;
}

/** The bridge policy of a pod's annotations (invalid values count as absent; translation refuses them). */
export function bridgePolicy(annotations: Record<string, string> | undefined): BridgePolicy {
  return parseAnnotations(annotations).policy;
}

/**
 * Does the pod fail at once when ECI has no capacity for it (ECI's "fail-fast": pod Failed, reason ProviderFailed,
 * the controller decides what next)? `eci-fail-strategy` wins; without it the older `pod-fail-on-create-err: "true"`
 * means the same. fail-back, fail-over (ECI: same as fail-back) and no annotation keep retrying, the pod Pending.
 */
export function failsFast(policy: BridgePolicy): boolean {
  return policy.failStrategy !== undefined ? policy.failStrategy === 'fail-fast' : policy.failOnCreateError === true;
}

export interface AnnotationResult {
  /** Request fields in wire names. */
  fields: Record<string, unknown>;
  useSpecs?: string[];
  customTags: EciKeyValue[];
  hostAliases: { Ip: string; Hostname: string[] }[];
  /** `eci-custom-dnsconfig`, merged into the pod's DNS by dns.ts applyDns. */
  dnsConfig?: CustomDns;
  /** `eci-host-sysctls` (host-level sysctls ECI approved by ticket) → HostSecurityContext.Sysctl. */
  hostSysctls: { Name: string; Value: string }[];
  policy: BridgePolicy;
  violations: Violation[];
  warnings: Warning[];
}

const fullKey = (k: string): string => (k.includes('/') ? k : P + k);
const fieldOf = (k: string): string => `metadata.annotations['${k}']`;

/** Every annotation key this module understands (for docs/translation.md and tests). */
export const KNOWN_ANNOTATIONS: string[] = [
  ...SIMPLE.map((s) => fullKey(s.key)),
  ...POLICY.map((p) => fullKey(p.key)),
  ANNOTATION_USE_SPECS,
  ANNOTATION_CUSTOM_TAGS,
  `${P}eci-custom-hosts`,
  `${P}eci-custom-dnsconfig`,
  `${P}eci-host-sysctls`,
  `${P}eci-enable-ipv6`,
  `${P}eci-ipv6-count`,
  `${P}eci-fixed-ip`,
  `${P}acr-instance-ids`,
  `${P}acr-instance-id`,
  `${P}acr-service-arns`,
  `${P}acr-user-arns`,
];

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function parseJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** Parses the pod's annotations into request fields, policy, violations and warnings. */
export function parseAnnotations(annotations: Record<string, string> | undefined): AnnotationResult {
  const res: AnnotationResult = { fields: {}, customTags: [], hostAliases: [], hostSysctls: [], policy: {}, violations: [], warnings: [] };
  const a = annotations ?? {};
  const bad = (key: string, message: string): void => {
    res.violations.push(violation('InvalidAnnotation', fieldOf(key), `${key}: ${message}`));
  };
  const get = (k: string): string | undefined => {
    const v = a[fullKey(k)];
    return typeof v === 'string' ? v : undefined;
  };

  for (const s of SIMPLE) {
    const v = get(s.key);
    if (v === undefined) continue;
    const r = s.parse(v);
    if ('error' in r) bad(fullKey(s.key), r.error);
    else res.fields[s.field] = r.value;
  }
  for (const p of POLICY) {
    const v = get(p.key);
    if (v === undefined) continue;
    const r = p.parse(v);
    if ('error' in r) bad(fullKey(p.key), r.error);
    else (res.policy as Record<string, unknown>)[p.name] = r.value;
  }
  if (res.policy.rescheduleEnable === true) res.warnings.push(warning('RescheduleIgnored', fieldOf(`${P}eci-reschedule-enable`)));
  if (res.fields.SpotStrategy === 'SpotWithPriceLimit' && res.fields.SpotPriceLimit === undefined) {
    bad(`${P}eci-spot-price-limit`, 'required when eci-spot-strategy is SpotWithPriceLimit');
  }

  const specs = get('eci-use-specs');
  if (specs !== undefined) {
    const r = parseUseSpecs(specs);
    if ('error' in r) bad(ANNOTATION_USE_SPECS, r.error);
    else res.useSpecs = r.specs;
  }

  const tags = get('eci-custom-tags');
  if (tags !== undefined) {
    const items = tags
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length > 3) res.warnings.push(warning('CustomTagsOverLimit', fieldOf(ANNOTATION_CUSTOM_TAGS)));
    for (const item of items) {
      const i = item.indexOf(':');
      const key = (i < 0 ? item : item.slice(0, i)).trim();
      const value = i < 0 ? '' : item.slice(i + 1).trim();
      const problem = tagProblem(key, value) ?? (key.startsWith('eci-bridge.io/') ? 'the eci-bridge.io/ prefix is reserved' : undefined);
      if (problem) bad(ANNOTATION_CUSTOM_TAGS, `"${key}": ${problem}`);
      else res.customTags.push({ Key: key, Value: value });
    }
  }

  const hosts = get('eci-custom-hosts');
  if (hosts !== undefined) {
    const parsed = parseJson(hosts);
    const arr = Array.isArray(parsed) ? parsed : undefined;
    if (!arr) bad(`${P}eci-custom-hosts`, 'expected a JSON list of {"host", "ip"}');
    else {
      for (const e of arr) {
        const r = asRecord(e);
        const host = r?.host;
        const ip = r?.ip;
        if (typeof host !== 'string' || typeof ip !== 'string' || !host || !ip) {
          bad(`${P}eci-custom-hosts`, 'each entry needs string "host" and "ip"');
          break;
        }
        res.hostAliases.push({ Ip: ip, Hostname: [host] });
      }
    }
  }

  const dns = get('eci-custom-dnsconfig');
  if (dns !== undefined) {
    const r = parseCustomDns(dns);
    if ('error' in r) bad(`${P}eci-custom-dnsconfig`, r.error);
    else res.dnsConfig = r.value;
  }

  const hostSysctls = get('eci-host-sysctls');
  if (hostSysctls !== undefined) {
    const parsed = parseJson(hostSysctls);
    const entries = Array.isArray(parsed) ? parsed.map(asRecord) : undefined;
    if (!entries || entries.some((e) => typeof e?.name !== 'string' || !e.name || typeof e.value !== 'string')) {
      bad(`${P}eci-host-sysctls`, 'expected a JSON list of {"name": "...", "value": "..."}');
    } else {
      for (const e of entries) res.hostSysctls.push({ Name: String(e?.name), Value: String(e?.value) });
    }
  }

  const v6 = get('eci-enable-ipv6');
  const v6n = get('eci-ipv6-count');
  if (v6 !== undefined) {
    const r = bool(v6);
    if ('error' in r) bad(`${P}eci-enable-ipv6`, r.error);
    else if (r.value === true) res.fields.Ipv6AddressCount = 1;
  }
  if (v6n !== undefined) {
    const r = int(1, 1)(v6n);
    if ('error' in r) bad(`${P}eci-ipv6-count`, 'ECI supports exactly 1 IPv6 address');
    else res.fields.Ipv6AddressCount = 1;
  }
  const fixed = get('eci-fixed-ip');
  if (fixed !== undefined) {
    const r = bool(fixed);
    if ('error' in r) bad(`${P}eci-fixed-ip`, r.error);
    else if (r.value === true) res.fields.FixedIp = 'true';
  }

  const acrIds = get('acr-instance-ids') ?? get('acr-instance-id');
  if (acrIds !== undefined) {
    const ids = list(/^([a-z0-9-]+:)?cri-[A-Za-z0-9]+$/, 10, 'an ACR instance id (cri-... or <region>:cri-...)')(acrIds);
    const svc = get('acr-service-arns')?.split(',').map((s) => s.trim());
    const usr = get('acr-user-arns')?.split(',').map((s) => s.trim());
    if ('error' in ids) bad(`${P}acr-instance-ids`, ids.error);
    else {
      res.fields.AcrRegistryInfo = (ids.value as string[]).map((id, i) => {
        const [region, inst] = id.includes(':') ? id.split(':') : [undefined, id];
        return {
          InstanceId: inst,
          ...(region ? { RegionId: region } : {}),
          ...(svc?.[i] ? { ArnService: svc[i] } : {}),
          ...(usr?.[i] ? { ArnUser: usr[i] } : {}),
        };
      });
    }
  }

  for (const k of NO_FIELD_ANNOTATIONS) {
    if (get(k) !== undefined) res.warnings.push(warning('AnnotationIgnored', fieldOf(fullKey(k))));
  }
  const known = new Set(KNOWN_ANNOTATIONS);
  for (const k of Object.keys(a)) {
    if (!k.startsWith(`${P}eci-`) || known.has(k) || WRITTEN_BACK.has(k)) continue;
    if (NO_FIELD_ANNOTATIONS.some((n) => fullKey(n) === k)) continue;
    res.warnings.push(warning('AnnotationIgnored', fieldOf(k), `${k} is not a known ECI annotation and is ignored`));
  }
  return res;
}
