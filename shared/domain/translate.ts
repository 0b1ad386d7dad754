/**
 * Pod → CreateContainerGroup request (wire names). Pure and total: every field is carried over, degraded with a
 * warning, or refused with a violation; translatePod never throws. Secret-bearing values are tracked by wire
 * path so redactRequest can hide exactly those. Over 400 lines as the one walk from pod to request; volumes, DNS,
 * sysctls, native sidecars, probes and resources each live in their own file.
 */
import { type AnnotationResult, ANNOTATION_USE_SPECS, parseAnnotations } from './annotations.js';
import { Collector } from './collector.js';
import { pullCredentials } from './credentials.js';
import type { EciContainer, EciCreateRequest, EciKeyValue } from './eci.js';
import { applyDns } from './dns.js';
import { expand, resolveEnv, type EnvContext } from './env.js';
import type { Violation, Warning } from './errors.js';
import { violation } from './errors.js';
import type { ConfigMap, Container, Pod, Secret } from './k8s.js';
import { asEciSidecar, isNativeSidecar } from './sidecars.js';
import { translateSysctls } from './sysctls.js';
import { containerGroupName, costTags, MAX_TAGS, TAG_CLUSTER, TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID, TAG_VNODE, tagProblem, tagValue } from './names.js';
import { applyLifecycle, applyProbes } from './probes.js';
import { type Resolved, Sources } from './references.js';
import { type ContainerSize, containerSize, INCLUDED_EPHEMERAL_GIB, parseQuantity, podLevelSize, podSize } from './resources.js';
import { translateMounts, translateVolumes } from './volumes.js';

export const MAX_CONTAINERS = 20;
export const MAX_VOLUMES = 20;
/** ECI's default instance size when no resources are given. */
export const DEFAULT_POD_CPU = 2;
export const DEFAULT_POD_MEMORY_GIB = 4;

export interface TranslateContext {
  /** Bridge identity, written into tags. */
  clusterName: string;
  vnodeName: string;
  /**
   * Pod labels copied into cost tags (BILLING_TEAM_LABELS; key = the label name), beside the namespace and owner
   * tags. At most MAX_TEAM_LABELS (checked where the config is read: names.ts teamLabelsProblem).
   */
  teamLabels?: readonly string[];
  /** The virtual node's cost tags (VNODE_TAGS), put on every group after the identity and team tags. */
  vnodeTags?: readonly EciKeyValue[];
  /** ECI placement defaults (annotations override vSwitch and security group). */
  regionId: string;
  vSwitchIds: string[];
  securityGroupId?: string;
  zoneId?: string;
  /** Cluster DNS for dnsPolicy ClusterFirst. */
  clusterDns: string;
  clusterDomain: string;
  /** The `kubernetes` Service, for KUBERNETES_SERVICE_HOST / _PORT in every container. */
  kubernetesService?: { host: string; port: number };
  /** Resolved objects by name (UNRESOLVED marks one that cannot be read: a placeholder is written). */
  configMaps?: ReadonlyMap<string, Resolved<ConfigMap>>;
  secrets?: ReadonlyMap<string, Resolved<Secret>>;
  /** Pod-bound TokenRequest results by tokenKey(). */
  tokens?: ReadonlyMap<string, Resolved<string>>;
  /**
   * Offline mode (the CLI): anything absent from the maps is unresolvable rather than missing; `placeholder`
   * writes marked placeholders with a warning, `strict` refuses instead.
   */
  offline?: 'placeholder' | 'strict';
}

export type TranslateResult =
  | { ok: true; request: EciCreateRequest; warnings: Warning[]; secretPaths: string[] }
  | { ok: false; violations: Violation[]; warnings: Warning[] };

/** The marker that replaces a secret value in redacted requests. */
export const REDACTED = '<redacted>';

const secretRegistry = new WeakMap<object, readonly string[]>();

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const NS_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isRecord(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Translates a pod. Never throws: malformed input yields an InvalidPod violation. */
export function translatePod(pod: Pod, ctx: TranslateContext): TranslateResult {
  try {
    return translate(pod, ctx);
  } catch {
    // Deliberately without the error text: it could quote pod content.
    return {
      ok: false,
      violations: [violation('InvalidPod', 'spec', 'the pod is malformed and could not be translated')],
      warnings: [],
    };
  }
}

function translate(pod: Pod, ctx: TranslateContext): TranslateResult {
  const col = new Collector(ctx.offline === 'strict');
  if (!isRecord(pod) || !isRecord(pod.metadata) || !isRecord(pod.spec) || !Array.isArray(pod.spec.containers) || pod.spec.containers.length === 0) {
    col.refuse('InvalidPod', 'spec.containers', 'the pod needs metadata and at least one container');
    return { ok: false, violations: col.violations, warnings: col.warnings };
  }
  const md = pod.metadata;
  const spec = pod.spec;
  const ns = str(md.namespace);
  const name = str(md.name);
  if (!NS_RE.test(ns) || ns.length > 63) col.refuse('InvalidName', 'metadata.namespace', 'the namespace is missing or not a valid DNS label');
  if (!NAME_RE.test(name) || name.length > 253) col.refuse('InvalidName', 'metadata.name', 'the name is missing or not a valid DNS subdomain');
  // the uid is also the pod-uid tag value, so ECI's tag rules apply to it (no acs: prefix, no http://)
  if (md.uid !== undefined && (typeof md.uid !== 'string' || md.uid.length > 64 || !/^[\x21-\x7e]+$/.test(md.uid) || tagProblem(TAG_POD_UID, md.uid))) {
    col.refuse('InvalidUid', 'metadata.uid', 'metadata.uid is not 1-64 printable ASCII characters usable as an ECI tag value');
  }

  podLevelChecks(pod, col);
  const ann = parseAnnotations(isRecord(md.annotations) ? md.annotations : undefined);
  col.violations.push(...ann.violations);
  col.warnings.push(...ann.warnings);

  const sources = new Sources(
    ctx.configMaps ?? new Map(),
    ctx.secrets ?? new Map(),
    ctx.tokens ?? new Map(),
    ctx.offline !== undefined,
  );

  const apps = spec.containers;
  const inits = spec.initContainers ?? [];
  // Native sidecars become ECI sidecar containers (sidecars.ts); the other init containers stay init containers.
  const indexed = inits.map((c, i) => ({ c, i }));
  const sidecars = indexed.filter((x) => isNativeSidecar(x.c));
  const regular = indexed.filter((x) => !isNativeSidecar(x.c));
  const containerCount = apps.length + sidecars.length;
  if (containerCount > MAX_CONTAINERS) {
    col.refuse('TooManyContainers', 'spec.containers', `${containerCount} containers (native sidecars included); ECI allows ${MAX_CONTAINERS}`);
  }
  if (regular.length > MAX_CONTAINERS) col.refuse('TooManyContainers', 'spec.initContainers', `${regular.length} init containers; ECI allows ${MAX_CONTAINERS}`);

  // Sizes first: resourceFieldRef needs them. Sidecars run beside the app containers, so they add to their sum.
  const appSizes = [
    ...apps.map((c, i) => sized(col, c, `spec.containers[${i}]`)),
    ...sidecars.map(({ c, i }) => sized(col, c, `spec.initContainers[${i}]`)),
  ];
  const initSizes = regular.map(({ c, i }) => sized(col, c, `spec.initContainers[${i}]`));
  const podLevel = podLevelSize(pod);
  col.violations.push(...podLevel.violations);
  if (ann.useSpecs && spec.resources) col.warn('PodResourcesOverridden', 'spec.resources');
  const ps = podSize(appSizes, initSizes, ann.useSpecs, `metadata.annotations['${ANNOTATION_USE_SPECS}']`, podLevel.size);
  col.violations.push(...ps.violations);
  const anySized = [...appSizes, ...initSizes, podLevel.size].some((s) => s.cpu !== undefined || s.memory !== undefined);
  if (anySized && appSizes.some((s) => s.cpu === undefined && s.memory === undefined)) {
    col.warn('ContainerResourcesShared', 'spec.containers');
  }
  const podCpu = ps.size.Cpu ?? DEFAULT_POD_CPU;
  const podMemBytes = (ps.size.Memory ?? DEFAULT_POD_MEMORY_GIB) * 2 ** 30;
  const ephBytes = (INCLUDED_EPHEMERAL_GIB + ((ann.fields.EphemeralStorage as number | undefined) ?? ps.size.EphemeralStorage ?? 0)) * 2 ** 30;
  const resourceValue = (cname: string, res: string): number | undefined => {
    const c = [...apps, ...inits].find((x) => x?.name === cname);
    if (!c) return undefined;
    const m = /^(limits|requests)\.(cpu|memory|ephemeral-storage)$/.exec(res);
    if (!m) return undefined;
    const lim = parseQuantity(c.resources?.limits?.[m[2] as string]);
    const req = parseQuantity(c.resources?.requests?.[m[2] as string]);
    if (m[1] === 'requests') return req ?? lim ?? 0;
    return lim ?? (m[2] === 'cpu' ? podCpu : m[2] === 'memory' ? podMemBytes : ephBytes);
  };

  const tokenMounted = (spec.volumes ?? []).some((v) => v?.projected?.sources?.some((s) => s?.serviceAccountToken));
  const base: { name: string; value: string }[] = [];
  if (ctx.kubernetesService) {
    const { host, port } = ctx.kubernetesService;
    base.push(
      { name: 'KUBERNETES_SERVICE_HOST', value: host },
      { name: 'KUBERNETES_SERVICE_PORT', value: String(port) },
      { name: 'KUBERNETES_SERVICE_PORT_HTTPS', value: String(port) },
      { name: 'KUBERNETES_PORT', value: `tcp://${host}:${port}` },
      { name: `KUBERNETES_PORT_${port}_TCP`, value: `tcp://${host}:${port}` },
      { name: `KUBERNETES_PORT_${port}_TCP_PROTO`, value: 'tcp' },
      { name: `KUBERNETES_PORT_${port}_TCP_PORT`, value: String(port) },
      { name: `KUBERNETES_PORT_${port}_TCP_ADDR`, value: host },
    );
  } else if (tokenMounted) {
    col.warn('KubernetesServiceUnknown', 'spec.volumes');
  }
  const envCtx: EnvContext = {
    pod,
    sources,
    col,
    nodeName: spec.nodeName || ctx.vnodeName,
    resourceValue,
    base,
  };
  const declared = new Set((spec.volumes ?? []).map((v) => v?.name).filter((n): n is string => typeof n === 'string'));

  const Container = apps.map((c, i) =>
    translateContainer(col, envCtx, c, `spec.containers[${i}]`, `Container[${i}]`, appSizes[i] ?? {}, declared, false),
  );
  sidecars.forEach(({ c, i }, k) => {
    const path = `spec.initContainers[${i}]`;
    const j = apps.length + k;
    const out = translateContainer(col, envCtx, c, path, `Container[${j}]`, appSizes[j] ?? {}, declared, false);
    const later = regular.filter((r) => r.i > i).map((r) => r.c?.name ?? '?');
    Container.push(asEciSidecar(col, out, k, sidecars.length, path, later, spec.restartPolicy));
  });
  const InitContainer = regular.map(({ c, i }, j) =>
    translateContainer(col, envCtx, c, `spec.initContainers[${i}]`, `InitContainer[${j}]`, initSizes[j] ?? {}, declared, true),
  );

  const Volume = translateVolumes({ pod, sources, col, resourceValue });
  if ((spec.volumes ?? []).length > MAX_VOLUMES) {
    col.refuse('TooManyVolumes', 'spec.volumes', `${(spec.volumes ?? []).length} volumes; ECI allows ${MAX_VOLUMES}`);
  }

  const req: EciCreateRequest = {
    RegionId: ctx.regionId,
    ContainerGroupName: containerGroupName(ns || 'default', name || 'pod'),
    Container,
  };
  if (md.uid) req.ClientToken = md.uid;
  if (InitContainer.length) req.InitContainer = InitContainer;
  if (Volume.length) req.Volume = Volume;

  const tags = buildTags(pod, ctx, ann);
  if (tags.length > MAX_TAGS) {
    col.refuse('TooManyTags', `metadata.annotations['k8s.aliyun.com/eci-custom-tags']`, `${tags.length} tags; ECI allows ${MAX_TAGS}`);
  }
  req.Tag = tags;

  const vsw = (ann.fields.VSwitchId as string | undefined) ?? ctx.vSwitchIds.join(',');
  if (vsw) req.VSwitchId = vsw;
  const sg = (ann.fields.SecurityGroupId as string | undefined) ?? ctx.securityGroupId;
  if (sg) req.SecurityGroupId = sg;
  if (ctx.zoneId && ann.fields.VSwitchId === undefined) req.ZoneId = ctx.zoneId;

  if (spec.restartPolicy === 'Always' || spec.restartPolicy === 'OnFailure' || spec.restartPolicy === 'Never') {
    req.RestartPolicy = spec.restartPolicy;
  }
  if (spec.terminationGracePeriodSeconds !== undefined) req.TerminationGracePeriodSeconds = spec.terminationGracePeriodSeconds;
  if (spec.activeDeadlineSeconds !== undefined) req.ActiveDeadlineSeconds = spec.activeDeadlineSeconds;
  if (spec.shareProcessNamespace) req.ShareProcessNamespace = true;
  Object.assign(req, translateSysctls(col, spec.securityContext?.sysctls ?? [], ann.hostSysctls));

  if (ps.size.Cpu !== undefined) req.Cpu = ps.size.Cpu;
  if (ps.size.Memory !== undefined) req.Memory = ps.size.Memory;
  if (ps.size.InstanceType !== undefined) req.InstanceType = ps.size.InstanceType;
  if (ps.size.EphemeralStorage !== undefined) req.EphemeralStorage = ps.size.EphemeralStorage;

  applyDns(pod, ctx, ann.dnsConfig, col, req);
  const aliases = [
    ...(spec.hostAliases ?? []).map((h) => ({ Ip: h.ip, Hostname: [...(h.hostnames ?? [])] })),
    ...ann.hostAliases,
  ];
  if (aliases.length) req.HostAliase = aliases;
  const host = (spec.hostname || name).slice(0, 63).replace(/[-.]+$/, '');
  if (host) req.HostName = host;
  if (spec.subdomain) col.warn('SubdomainIgnored', 'spec.subdomain');

  const creds = pullCredentials(col, sources, spec.imagePullSecrets);
  if (creds.length) {
    req.ImageRegistryCredential = creds;
    creds.forEach((c, i) => {
      if (!c.Password.startsWith('<unresolved')) col.secretPaths.add(`ImageRegistryCredential[${i}].Password`);
    });
  }

  // Remaining annotation fields (spot, EIP, RAM role, ...), without overriding what was set above.
  for (const [k, v] of Object.entries(ann.fields)) {
    if (k === 'VSwitchId' || k === 'SecurityGroupId') continue;
    if (req[k] === undefined) req[k] = v;
  }

  const odd = unsendable(req);
  if (odd) col.refuse('InvalidPod', 'spec', `a field holds a value ECI cannot take (at ${odd}): not a string, finite number or boolean, or nested too deeply`);
  if (col.violations.length) return { ok: false, violations: dedupe(col.violations), warnings: col.warnings };
  const request = ordered(req);
  const secretPaths = [...col.secretPaths];
  secretRegistry.set(request, secretPaths);
  return { ok: true, request, warnings: col.warnings, secretPaths };
}

/** The deepest a CreateContainerGroup request nests (Container[i].LivenessProbe.HttpGet.Port is 5 levels). */
const MAX_REQUEST_DEPTH = 10;

/**
 * The wire path of the first value in the request that the ECI wire cannot carry, if any: a non-finite number
 * (JSON turns it into null), a value that is not JSON (undefined, function, bigint, symbol), or nesting deeper than
 * any request field (a pod value carried over verbatim where a scalar belongs). Iterative: a hostile pod may nest
 * thousands of levels, which would overflow structuredClone and JSON.stringify later.
 */
function unsendable(req: EciCreateRequest): string | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: req, path: '', depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop() as { v: unknown; path: string; depth: number };
    if (typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return path;
      continue;
    }
    if (!v || typeof v !== 'object' || depth >= MAX_REQUEST_DEPTH) return path || 'request';
    const arr = Array.isArray(v);
    for (const k of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[k];
      // an absent optional field is left out of the wire request; inside an array it would become null
      if (child === undefined && !arr) continue;
      stack.push({ v: child, path: arr ? `${path}[${k}]` : path ? `${path}.${k}` : k, depth: depth + 1 });
    }
  }
  return undefined;
}

const KEY_ORDER = [
  'RegionId',
  'ContainerGroupName',
  'ClientToken',
  'ZoneId',
  'VSwitchId',
  'SecurityGroupId',
  'RestartPolicy',
  'Cpu',
  'Memory',
  'InstanceType',
  'EphemeralStorage',
  'Tag',
];

/** The request with its identity and placement first (readable dry runs); containers and volumes follow. */
function ordered(req: EciCreateRequest): EciCreateRequest {
  const out: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (req[k] !== undefined) out[k] = req[k];
  for (const k of Object.keys(req)) if (!(k in out)) out[k] = req[k];
  return out as EciCreateRequest;
}

function dedupe(vs: Violation[]): Violation[] {
  const seen = new Set<string>();
  return vs.filter((v) => {
    const k = `${v.code}|${v.field}|${v.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sized(col: Collector, c: Container, path: string): ContainerSize {
  if (!isRecord(c)) return {};
  const r = containerSize(c, path);
  col.violations.push(...r.violations);
  return r.size;
}

function podLevelChecks(pod: Pod, col: Collector): void {
  const spec = pod.spec;
  if (spec.hostNetwork) col.refuse('HostNetwork', 'spec.hostNetwork', 'ECI pods cannot use the host network');
  if (spec.hostPID) col.refuse('HostPID', 'spec.hostPID', 'ECI pods cannot share the host PID namespace');
  if (spec.hostIPC) col.refuse('HostIPC', 'spec.hostIPC', 'ECI pods cannot share the host IPC namespace');
  (pod.metadata.ownerReferences ?? []).forEach((o, i) => {
    if (o?.kind === 'DaemonSet') {
      col.refuse('DaemonSetPod', `metadata.ownerReferences[${i}]`, `pod of DaemonSet ${o.name}: DaemonSets do not run on the virtual node`);
    }
  });
  if (spec.os?.name && spec.os.name !== 'linux') col.refuse('UnsupportedOS', 'spec.os.name', `os ${spec.os.name} is not supported`);
  if (spec.resourceClaims?.length) col.refuse('ResourceClaims', 'spec.resourceClaims', 'resource claims are not supported on ECI');
  if (spec.ephemeralContainers?.length) col.warn('EphemeralContainersIgnored', 'spec.ephemeralContainers');
  if (spec.topologySpreadConstraints?.length) col.warn('TopologySpreadIgnored', 'spec.topologySpreadConstraints');
  if (spec.runtimeClassName) col.warn('RuntimeClassIgnored', 'spec.runtimeClassName');
  if (spec.hostUsers !== undefined) col.warn('HostUsersIgnored', 'spec.hostUsers');
  // The apiserver defaults enableServiceLinks to true: every live pod has it unless it opted out.
  if (spec.enableServiceLinks !== false) col.warn('ServiceLinksNotInjected', 'spec.enableServiceLinks');
  if (spec.setHostnameAsFQDN === true) col.warn('HostnameFqdnIgnored', 'spec.setHostnameAsFQDN');
  const psc = spec.securityContext as (Record<string, unknown> & NonNullable<Pod['spec']['securityContext']>) | undefined;
  if (psc) {
    if (psc.fsGroup !== undefined || psc.supplementalGroups?.length || psc.fsGroupChangePolicy !== undefined) {
      col.warn('FsGroupIgnored', 'spec.securityContext');
    }
    for (const k of ['seccompProfile', 'seLinuxOptions', 'appArmorProfile', 'windowsOptions']) {
      if (psc[k] !== undefined) col.warn('SecurityProfileIgnored', `spec.securityContext.${k}`);
    }
  }
}

function translateContainer(
  col: Collector,
  envCtx: EnvContext,
  c: Container,
  path: string,
  wire: string,
  size: ContainerSize,
  declared: ReadonlySet<string>,
  init: boolean,
): EciContainer {
  if (!isRecord(c) || typeof c.name !== 'string' || c.name === '') {
    col.refuse('InvalidPod', path, 'a container needs a name');
    return { Name: '', Image: '' };
  }
  if (typeof c.image !== 'string' || !c.image) col.refuse('MissingImage', `${path}.image`, `container ${c.name} has no image`);
  const out: EciContainer = { Name: c.name, Image: c.image ?? '' };
  const env = resolveEnv(envCtx, c, path, wire);
  const expandList = (xs: string[], key: 'Command' | 'Arg'): string[] =>
    xs.map((s, k) => {
      const x = expand(String(s), env.literal, env.secretNames);
      if (x.usedSecret) col.secretPaths.add(`${wire}.${key}[${k}]`);
      return x.value;
    });
  if (c.command?.length) out.Command = expandList(c.command, 'Command');
  if (c.args?.length) out.Arg = expandList(c.args, 'Arg');
  if (c.workingDir) out.WorkingDir = c.workingDir;
  if (env.vars.length) out.EnvironmentVar = env.vars;
  const ports: { Port: number; Protocol?: string }[] = [];
  (c.ports ?? []).forEach((p, i) => {
    if (p?.hostPort) col.refuse('HostPort', `${path}.ports[${i}].hostPort`, `container ${c.name} asks for hostPort ${p.hostPort}`);
    else if (p?.hostIP) col.refuse('HostPort', `${path}.ports[${i}].hostIP`, `container ${c.name} asks for hostIP ${p.hostIP}`);
    const protocol = (p?.protocol ?? 'TCP').toUpperCase();
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      col.refuse('UnsupportedPortProtocol', `${path}.ports[${i}].protocol`, `container ${c.name} port ${p?.containerPort} uses ${p?.protocol}; ECI ports are TCP or UDP`);
    } else if (p && typeof p.containerPort === 'number') ports.push({ Port: p.containerPort, Protocol: protocol });
  });
  if (ports.length) out.Port = ports;
  if (size.cpu !== undefined) out.Cpu = size.cpu;
  if (size.memory !== undefined) out.Memory = size.memory;
  if (size.gpu !== undefined) out.Gpu = size.gpu;
  if (c.imagePullPolicy) out.ImagePullPolicy = c.imagePullPolicy;
  const mounts = translateMounts(col, c, path, declared, env.literal);
  if (mounts.length) out.VolumeMount = mounts;
  if (c.terminationMessagePath) out.TerminationMessagePath = c.terminationMessagePath;
  if (c.terminationMessagePolicy) out.TerminationMessagePolicy = c.terminationMessagePolicy;

  const psc = envCtx.pod.spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  if (sc.privileged) col.refuse('Privileged', `${path}.securityContext.privileged`, `container ${c.name} is privileged`);
  const security: NonNullable<EciContainer['SecurityContext']> = {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  if (runAsUser !== undefined) security.RunAsUser = runAsUser;
  if (sc.readOnlyRootFilesystem) security.ReadOnlyRootFilesystem = true;
  if (sc.capabilities?.add?.length) security.Capability = { Add: [...sc.capabilities.add] };
  if (sc.capabilities?.drop?.length) col.warn('CapabilitiesDropIgnored', `${path}.securityContext.capabilities.drop`);
  if (Object.keys(security).length) out.SecurityContext = security;
  if (sc.allowPrivilegeEscalation === false) col.warn('AllowPrivilegeEscalationIgnored', `${path}.securityContext.allowPrivilegeEscalation`);
  for (const k of ['seccompProfile', 'seLinuxOptions', 'appArmorProfile', 'procMount', 'windowsOptions'] as const) {
    if (sc[k] !== undefined) col.warn('SecurityProfileIgnored', `${path}.securityContext.${k}`);
  }
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;

  if (init) {
    // Always (a native sidecar) never gets here; Kubernetes allows no other value.
    if (c.restartPolicy) col.refuse('SidecarInitContainer', `${path}.restartPolicy`, `init container ${c.name} has restartPolicy ${c.restartPolicy}; only Always (a native sidecar) is valid`);
    // Each field ECI's InitContainer lacks, named by its own path (a pod-level value the container inherits too).
    const ignored: [string, string][] = [];
    if (sc.runAsGroup !== undefined) ignored.push([`${path}.securityContext.runAsGroup`, 'runAsGroup']);
    else if (psc.runAsGroup !== undefined) ignored.push(['spec.securityContext.runAsGroup', `runAsGroup (inherited by ${c.name})`]);
    if (sc.runAsNonRoot !== undefined) ignored.push([`${path}.securityContext.runAsNonRoot`, 'runAsNonRoot']);
    else if (psc.runAsNonRoot !== undefined) ignored.push(['spec.securityContext.runAsNonRoot', `runAsNonRoot (inherited by ${c.name})`]);
    for (const k of ['stdin', 'stdinOnce', 'tty'] as const) if (c[k]) ignored.push([`${path}.${k}`, k]);
    for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const) if (c[k]) ignored.push([`${path}.${k}`, k]);
    for (const [f, what] of ignored) col.warn('InitContainerFieldIgnored', f, `ECI init containers have no ${what}: it is ignored`);
    return out;
  }
  if (runAsGroup !== undefined) out.SecurityContextRunAsGroup = runAsGroup;
  if (runAsNonRoot !== undefined) out.SecurityContextRunAsNonRoot = runAsNonRoot;
  if (c.stdin) out.Stdin = true;
  if (c.stdinOnce) out.StdinOnce = true;
  if (c.tty) out.Tty = true;
  applyProbes(col, c, out, path);
  applyLifecycle(col, c, out, path);
  return out;
}

function buildTags(pod: Pod, ctx: TranslateContext, ann: AnnotationResult): EciKeyValue[] {
  const md = pod.metadata;
  // namespace, owner (the Deployment, not its ReplicaSet: the same rule as the billing report) and team labels
  const cost = costTags(pod, ctx.teamLabels);
  const tags: EciKeyValue[] = [
    { Key: TAG_CLUSTER, Value: tagValue(ctx.clusterName) },
    { Key: TAG_VNODE, Value: tagValue(ctx.vnodeName) },
    cost.find((t) => t.Key === TAG_NAMESPACE) ?? { Key: TAG_NAMESPACE, Value: tagValue(md.namespace ?? '') },
    { Key: TAG_POD_NAME, Value: tagValue(md.name ?? '') },
  ];
  if (md.uid) tags.push({ Key: TAG_POD_UID, Value: md.uid });
  tags.push(...cost.filter((t) => t.Key !== TAG_NAMESPACE));
  // then the node's cost tags and the pod's custom tags; the first tag of a key wins
  for (const t of [...(ctx.vnodeTags ?? []), ...ann.customTags]) {
    if (!tags.some((x) => x.Key === t.Key)) tags.push(t);
  }
  return tags;
}

/** The secret wire paths recorded for a request returned by translatePod (empty when unknown). */
export function secretPathsOf(request: EciCreateRequest): readonly string[] | undefined {
  return secretRegistry.get(request);
}

function parsePath(p: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of p.matchAll(/([A-Za-z0-9]+)|\[(\d+)\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
  }
  return out;
}

function setPath(root: unknown, path: (string | number)[], value: unknown): void {
  let cur: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i] as string | number;
    if (!cur || typeof cur !== 'object') return;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  const last = path[path.length - 1];
  if (cur && typeof cur === 'object' && last !== undefined && (cur as Record<string | number, unknown>)[last] !== undefined) {
    (cur as Record<string | number, unknown>)[last] = value;
  }
}

/**
 * A copy of the request with every secret-bearing value replaced by REDACTED: registry passwords, secret and
 * token file contents, env values (and command/args) taken from Secrets. Exact for requests from translatePod
 * (or with `secretPaths`); for any other request it redacts conservatively (all passwords, all ConfigFile
 * contents, all env values, commands and args).
 */
export function redactRequest(request: EciCreateRequest, secretPaths?: readonly string[]): EciCreateRequest {
  const copy = structuredClone(request);
  const known = secretPaths ?? secretRegistry.get(request);
  if (known) {
    for (const p of known) setPath(copy, parsePath(p), REDACTED);
    return copy;
  }
  for (const c of copy.ImageRegistryCredential ?? []) c.Password = REDACTED;
  for (const v of copy.Volume ?? []) for (const f of v.ConfigFileVolume?.ConfigFileToPath ?? []) f.Content = REDACTED;
  for (const c of [...copy.Container, ...(copy.InitContainer ?? [])]) {
    for (const e of c.EnvironmentVar ?? []) if (e.Value !== undefined) e.Value = REDACTED;
    // $(VAR) expansion can carry a secret into command/args.
    if (c.Command) c.Command = c.Command.map(() => REDACTED);
    if (c.Arg) c.Arg = c.Arg.map(() => REDACTED);
  }
  return copy;
}
