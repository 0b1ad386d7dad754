/**
 * Resources: Kubernetes quantities → ECI's per-container Cpu (vCPU) / Memory (GiB) / Gpu, and the pod-level
 * Cpu / Memory or InstanceType.
 *
 * The rule (docs/translation.md, "Resources"):
 * - a container's Cpu / Memory is its limit when set, else its request (ECI has one value, not a split);
 *   nvidia.com/gpu (limit, else request) → Gpu; a container with neither gets no Cpu / Memory and shares the
 *   pod's resources;
 * - `k8s.aliyun.com/eci-use-specs` wins at pod level: one `<cpu>-<mem>Gi` → Cpu / Memory, ECS types or a list →
 *   InstanceType (comma list, tried in order);
 * - otherwise pod Cpu / Memory = max(sum over containers, largest init container), rounded up by ECI to a
 *   supported spec; pod-level `spec.resources` (Kubernetes 1.32+; limit, else request) raises that to what the pod
 *   asked for (never below the containers' total, which ECI refuses); none given anywhere → ECI's default
 *   (2 vCPU, 4 GiB);
 * - GPUs need a GPU instance type from eci-use-specs; at most 64 vCPU; ephemeral-storage beyond the 30 GiB ECI
 *   includes → EphemeralStorage (extra GiB).
 */
import type { Violation } from './errors.js';
import { violation } from './errors.js';
import type { Container, Pod } from './k8s.js';

export const MAX_POD_CPU = 64;
export const INCLUDED_EPHEMERAL_GIB = 30;
export const GPU_RESOURCE = 'nvidia.com/gpu';

const QUANTITY_RE = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|n|u|m|k|M|G|T|P|E)?$/;
const BIN: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DEC: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Parses a Kubernetes quantity into its base unit (cores, bytes, count); undefined when malformed. */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? q : undefined;
  const m = QUANTITY_RE.exec(q.trim());
  if (!m?.[1]) return undefined;
  const n = Number(m[1]);
  const suf = m[2];
  let v = n;
  if (suf) {
    if (BIN[suf] !== undefined) v = n * BIN[suf];
    else if (DEC[suf] !== undefined) v = n * DEC[suf];
    else v = n * 10 ** Number(suf.slice(1));
  }
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** Rounds up to 3 decimals (ECI accepts fractional vCPU / GiB). */
export function ceil3(x: number): number {
  return Math.ceil(x * 1000 - 1e-9) / 1000;
}

export interface ContainerSize {
  cpu?: number;
  memory?: number;
  gpu?: number;
  ephemeralGiB?: number;
}

const KNOWN = new Set(['cpu', 'memory', 'ephemeral-storage', GPU_RESOURCE]);

/** One container's ECI size, with violations for unsupported or malformed resources. */
export function containerSize(c: Container, path: string): { size: ContainerSize; violations: Violation[] } {
  const violations: Violation[] = [];
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  for (const [kind, map] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const [name, q] of Object.entries(map)) {
      if (!KNOWN.has(name)) {
        violations.push(
          violation('UnsupportedResource', `${path}.resources.${kind}.${name}`, `resource ${name} is not available on ECI`),
        );
      } else if (parseQuantity(q) === undefined) {
        violations.push(
          violation('InvalidResource', `${path}.resources.${kind}.${name}`, `${name} is not a valid quantity`),
        );
      }
    }
  }
  const pick = (name: string): number | undefined => parseQuantity(limits[name]) ?? parseQuantity(requests[name]);
  const size: ContainerSize = {};
  const cpu = pick('cpu');
  const mem = pick('memory');
  const gpu = pick(GPU_RESOURCE);
  const eph = pick('ephemeral-storage');
  if (cpu !== undefined && cpu > 0) size.cpu = ceil3(cpu);
  if (mem !== undefined && mem > 0) size.memory = ceil3(mem / 2 ** 30);
  if (gpu !== undefined && gpu > 0) size.gpu = Math.ceil(gpu);
  if (eph !== undefined && eph > 0) size.ephemeralGiB = eph / 2 ** 30;
  return { size, violations };
}

export interface PodSize {
  Cpu?: number;
  Memory?: number;
  InstanceType?: string;
  EphemeralStorage?: number;
}

const SPEC_CM_RE = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)Gi$/;
const SPEC_ECS_RE = /^ecs\.[a-z0-9][a-z0-9.-]*$/;

/** Parses eci-use-specs (`2-4Gi,4-8Gi,ecs.c6.xlarge`); an error string when malformed. */
export function parseUseSpecs(value: string): { specs: string[] } | { error: string } {
  const specs = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (specs.length === 0) return { error: 'empty list' };
  for (const s of specs) {
    if (!SPEC_CM_RE.test(s) && !SPEC_ECS_RE.test(s)) {
      return { error: `"${s}" is neither <cpu>-<memory>Gi nor an ECS instance type (ecs.*)` };
    }
  }
  return { specs };
}

/** Pod-level spec.resources (cpu and memory only, as Kubernetes allows) → vCPU / GiB, limit else request. */
export function podLevelSize(pod: Pod): { size: ContainerSize; violations: Violation[] } {
  const res = pod.spec?.resources;
  if (!res) return { size: {}, violations: [] };
  const r = containerSize({ name: 'pod', resources: res }, 'spec');
  const violations = [...r.violations];
  for (const kind of ['limits', 'requests'] as const) {
    for (const name of Object.keys(res[kind] ?? {})) {
      if (name !== 'cpu' && name !== 'memory' && KNOWN.has(name)) {
        violations.push(violation('UnsupportedResource', `spec.resources.${kind}.${name}`, `pod-level resources take cpu and memory only, not ${name}`));
      }
    }
  }
  return { size: { ...(r.size.cpu !== undefined ? { cpu: r.size.cpu } : {}), ...(r.size.memory !== undefined ? { memory: r.size.memory } : {}) }, violations };
}

/** The pod-level size from the container sizes and an optional eci-use-specs list (already validated). */
export function podSize(
  app: ContainerSize[],
  init: ContainerSize[],
  specs: string[] | undefined,
  useSpecsField: string,
  podLevel: ContainerSize = {},
): { size: PodSize; violations: Violation[] } {
  const violations: Violation[] = [];
  const size: PodSize = {};
  const sum = (xs: ContainerSize[], k: keyof ContainerSize): number => xs.reduce((a, x) => a + (x[k] ?? 0), 0);
  const max = (xs: ContainerSize[], k: keyof ContainerSize): number => xs.reduce((a, x) => Math.max(a, x[k] ?? 0), 0);
  const eff = (k: keyof ContainerSize): number => Math.max(sum(app, k), max(init, k));
  const gpus = eff('gpu');
  if (specs) {
    const first = specs[0];
    const cm = specs.length === 1 && first ? SPEC_CM_RE.exec(first) : null;
    if (cm) {
      size.Cpu = Number(cm[1]);
      size.Memory = Number(cm[2]);
    } else {
      size.InstanceType = specs.join(',');
    }
    if (gpus > 0 && !specs.some((s) => SPEC_ECS_RE.test(s))) {
      violations.push(
        violation('GpuRequiresInstanceType', useSpecsField, 'GPU containers need a GPU instance type in eci-use-specs'),
      );
    }
  } else {
    const cpu = Math.max(eff('cpu'), podLevel.cpu ?? 0);
    const mem = Math.max(eff('memory'), podLevel.memory ?? 0);
    if (cpu > 0) size.Cpu = ceil3(cpu);
    if (mem > 0) size.Memory = ceil3(mem);
    if (gpus > 0) {
      violations.push(
        violation(
          'GpuRequiresInstanceType',
          useSpecsField,
          'GPU containers need a GPU instance type: set k8s.aliyun.com/eci-use-specs',
        ),
      );
    }
  }
  const cpuTotal = size.Cpu ?? eff('cpu');
  if (cpuTotal > MAX_POD_CPU) {
    violations.push(
      violation('ResourceLimitExceeded', 'spec.containers', `the pod needs ${cpuTotal} vCPU; ECI allows ${MAX_POD_CPU}`),
    );
  }
  const eph = eff('ephemeralGiB');
  if (eph > INCLUDED_EPHEMERAL_GIB) size.EphemeralStorage = Math.ceil(eph - INCLUDED_EPHEMERAL_GIB);
  return { size, violations };
}

/** Kubernetes QoS class of a pod (Guaranteed, Burstable, BestEffort), computed as the kubelet does. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = all.length > 0;
  for (const c of all) {
    for (const r of ['cpu', 'memory']) {
      const lim = parseQuantity(c.resources?.limits?.[r]);
      const req = parseQuantity(c.resources?.requests?.[r]) ?? lim;
      if (lim !== undefined || req !== undefined) any = true;
      if (lim === undefined || req !== lim) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
