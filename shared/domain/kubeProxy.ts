/**
 * kube-proxy inside each container group, as ECI's own virtual node provides it (docs/networking.md §2): a sidecar
 * container running the real kube-proxy (image from KUBE_PROXY_IMAGE: the user's registry copy of the upstream
 * version matching the cluster), iptables mode in the group's own network namespace, NET_ADMIN only, reading
 * Services and EndpointSlices with the token of a dedicated ServiceAccount bound to `system:node-proxier`.
 *
 * - ECI sidecar type (`ECI_CONTAINER_TYPE=sidecar`, `ECI_CONTAINER_IGNORE_EXIT_CODE=true`): a Job's group completes
 *   when its app containers finish.
 * - Application containers start only once the rules exist (ECI's `eci-wait-clusterip-ready`): the sidecar has the
 *   highest launch priority (1000) and a readiness probe `iptables -w -t nat -S KUBE-SERVICES`, a chain kube-proxy
 *   1.20 creates in its first full sync only (it syncs only after the Service and EndpointSlice informers synced);
 *   ECI starts the next containers once it is Ready. Exit priority -1000: it stops last.
 * - `--hostname-override=<vnode>`: kube-proxy looks its Node up before it starts (about 36 s of retries when the
 *   Node does not exist); the virtual node exists, so it proceeds at once.
 * - Hidden: it is not a pod container, so it has no container status, and its name is reserved.
 * - Its resources (KUBE_PROXY_CPU, KUBE_PROXY_MEMORY_GIB) are added to the group's size.
 */
import { parseBoolean } from './annotations.js';
import { type Collector, toBase64 } from './collector.js';
import type { Config } from './config.js';
import type { EciContainer, EciVolume } from './eci.js';
import type { Pod } from './k8s.js';
import { type CpuMemSpec, formatSpec, roundUpSpec } from './prices.js';
import { ROOT_CA_CONFIGMAP, type Resolved, type Sources, UNRESOLVED } from './references.js';
import { reachableMaster, type ServiceView } from './serviceEnv.js';
import { ECI_SIDECAR_ENV } from './sidecars.js';

/** The annotation ECI's own virtual node reads; the eci-profile effect can set it. */
export const ANNOTATION_KUBE_PROXY = 'k8s.aliyun.com/eci-kube-proxy-enabled';
/** The reserved container and volume name. */
export const KUBE_PROXY_CONTAINER = 'eci-bridge-kube-proxy';
export const KUBE_PROXY_DIR = '/var/lib/eci-bridge-kube-proxy';
/** kube-proxy's health and metrics, bound to the group's loopback only. */
export const KUBE_PROXY_HEALTHZ = '127.0.0.1:10256';
export const KUBE_PROXY_METRICS = '127.0.0.1:10249';

export interface KubeProxySettings {
  /** KUBE_PROXY_IMAGE; unset: no kube-proxy (a pod asking for one gets a warning). */
  image?: string;
  /** KUBE_PROXY_DEFAULT: on for pods without the annotation. */
  defaultOn: boolean;
  cpu: number;
  memoryGiB: number;
  /** The ServiceAccount (namespace, name) whose token kube-proxy uses. */
  serviceAccount: { namespace: string; name: string };
  /** Lifetime of its token (a ConfigFile cannot be refreshed in a running group). */
  tokenSeconds: number;
  /** KUBE_PROXY_CLUSTER_CIDR: the pod CIDR, for kube-proxy's masquerade rule of traffic from outside it. */
  clusterCidr?: string;
}

/** The settings from the parsed config (compose.ts and the CLI). */
export function kubeProxySettings(config: Config): KubeProxySettings {
  return {
    ...(config.KUBE_PROXY_IMAGE ? { image: config.KUBE_PROXY_IMAGE } : {}),
    defaultOn: config.KUBE_PROXY_DEFAULT,
    cpu: config.KUBE_PROXY_CPU,
    memoryGiB: config.KUBE_PROXY_MEMORY_GIB,
    serviceAccount: { namespace: config.BRIDGE_NAMESPACE, name: config.KUBE_PROXY_SERVICE_ACCOUNT },
    tokenSeconds: config.KUBE_PROXY_TOKEN_SECONDS,
    ...(config.KUBE_PROXY_CLUSTER_CIDR ? { clusterCidr: config.KUBE_PROXY_CLUSTER_CIDR } : {}),
  };
}

/** What the pod wants: its annotation ("true"/"false", any case) if set, else the default; undefined: no opinion. */
export function kubeProxyWanted(pod: Pod, s: KubeProxySettings | undefined): boolean {
  const a = parseBoolean(pod.metadata?.annotations?.[ANNOTATION_KUBE_PROXY]);
  return a ?? s?.defaultOn ?? false;
}

/** The kubeconfig kube-proxy reads: the apiserver's real address (never a ClusterIP: it makes them). */
export function kubeProxyKubeconfig(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: cluster',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${KUBE_PROXY_DIR}/ca.crt`,
    'users:',
    '- name: kube-proxy',
    '  user:',
    `    tokenFile: ${KUBE_PROXY_DIR}/token`,
    'contexts:',
    '- name: kube-proxy',
    '  context: {cluster: cluster, user: kube-proxy}',
    'current-context: kube-proxy',
    '',
  ].join('\n');
}

/** kube-proxy's command line (also used by the network-namespace test, with its own paths). */
export function kubeProxyArgs(vnode: string, dir: string, clusterCidr?: string): string[] {
  return [
    `--kubeconfig=${dir}/kubeconfig`,
    '--proxy-mode=iptables',
    `--hostname-override=${vnode}`,
    `--healthz-bind-address=${KUBE_PROXY_HEALTHZ}`,
    `--metrics-bind-address=${KUBE_PROXY_METRICS}`,
    // no conntrack sysctls (they need more than NET_ADMIN and are per host anyway)
    '--conntrack-max-per-core=0',
    '--conntrack-tcp-timeout-established=0s',
    '--conntrack-tcp-timeout-close-wait=0s',
    ...(clusterCidr ? [`--cluster-cidr=${clusterCidr}`] : []),
  ];
}

export function kubeProxyContainer(s: KubeProxySettings & { image: string }, vnode: string): EciContainer {
  return {
    Name: KUBE_PROXY_CONTAINER,
    Image: s.image,
    Command: ['kube-proxy'],
    Arg: kubeProxyArgs(vnode, KUBE_PROXY_DIR, s.clusterCidr),
    Cpu: s.cpu,
    Memory: s.memoryGiB,
    SecurityContext: { Capability: { Add: ['NET_ADMIN'] } },
    VolumeMount: [{ Name: KUBE_PROXY_CONTAINER, MountPath: KUBE_PROXY_DIR, ReadOnly: true }],
    ReadinessProbe: {
      Exec: { Command: ['iptables', '-w', '-t', 'nat', '-S', 'KUBE-SERVICES'] },
      PeriodSeconds: 1,
      TimeoutSeconds: 5,
      FailureThreshold: 3,
    },
    EnvironmentVar: [
      { Key: ECI_SIDECAR_ENV.type, Value: 'sidecar' },
      { Key: ECI_SIDECAR_ENV.ignoreExitCode, Value: 'true' },
      { Key: ECI_SIDECAR_ENV.launchPriority, Value: '1000' },
      { Key: ECI_SIDECAR_ENV.exitPriority, Value: '-1000' },
    ],
  };
}

export function kubeProxyVolume(server: string, token: string, caPem: string): EciVolume {
  const b64 = toBase64;
  return {
    Name: KUBE_PROXY_CONTAINER,
    Type: 'ConfigFileVolume',
    ConfigFileVolume: {
      ConfigFileToPath: [
        { Path: 'kubeconfig', Content: b64(kubeProxyKubeconfig(server)) },
        { Path: 'token', Content: b64(token) },
        { Path: 'ca.crt', Content: b64(caPem) },
      ],
      DefaultMode: 0o400,
    },
  };
}

/** The ECI spec a group of this size runs on, with and without kube-proxy, when the sidecar changes it. */
export function specRaise(
  without: { cpu: number; memoryGiB: number },
  s: Pick<KubeProxySettings, 'cpu' | 'memoryGiB'>,
): { from: string; to: string } | undefined {
  const spec = (cpu: number, mem: number): CpuMemSpec | undefined =>
    roundUpSpec({ cpuMilli: Math.round(cpu * 1000), memoryBytes: Math.round(mem * 2 ** 30) });
  const a = spec(without.cpu, without.memoryGiB);
  const b = spec(without.cpu + s.cpu, without.memoryGiB + s.memoryGiB);
  if (!a || !b || (a.cpuMilli === b.cpuMilli && a.memoryMilliGiB === b.memoryMilliGiB)) return undefined;
  return { from: formatSpec(a), to: formatSpec(b) };
}

/** What pod-sync must read for a pod's kube-proxy: the ServiceAccount token (unbound: see docs) and the CA. */
export function kubeProxyNeeds(
  pod: Pod,
  s: KubeProxySettings | undefined,
): (KubeProxySettings['serviceAccount'] & { expirationSeconds: number }) | undefined {
  return s?.image && kubeProxyWanted(pod, s) ? { ...s.serviceAccount, expirationSeconds: s.tokenSeconds } : undefined;
}

export interface KubeProxyInput {
  kubeProxy?: KubeProxySettings;
  vnodeName: string;
  kubernetesService?: { host: string; port: number };
  services?: ServiceView;
  kubeProxyToken?: Resolved<string>;
}

export interface KubeProxyPlan {
  container: EciContainer;
  /** the volume, with the token at ConfigFileToPath[1] (secret) */
  volume(): EciVolume;
}

const FIELD = `metadata.annotations['${ANNOTATION_KUBE_PROXY}']`;

/**
 * The sidecar for this pod, or undefined (not wanted, or it cannot run: a warning says why). Reads the CA from the
 * pod namespace's `kube-root-ca.crt` and the apiserver's real address (KUBERNETES_SERVICE_ADDRESS, else the
 * `kubernetes` Endpoints).
 */
export function planKubeProxy(pod: Pod, ctx: KubeProxyInput, sources: Sources, col: Collector): KubeProxyPlan | undefined {
  const s = ctx.kubeProxy;
  if (!kubeProxyWanted(pod, s)) return undefined;
  if (!s?.image) {
    // only a pod that asked for it hears about it; the default applies only where an image is configured
    if (parseBoolean(pod.metadata?.annotations?.[ANNOTATION_KUBE_PROXY]) !== true) return undefined;
    col.warn('KubeProxyUnavailable', FIELD, 'kube-proxy is asked for but KUBE_PROXY_IMAGE is not configured: the group runs without it (ClusterIPs unreachable)');
    return undefined;
  }
  const api = ctx.kubernetesService ?? hostPortOf(ctx.services && reachableMaster(ctx.services, false));
  if (!api) {
    col.warn('KubeProxyUnavailable', FIELD, "the apiserver's address is unknown (no kubernetes Endpoints, no KUBERNETES_SERVICE_ADDRESS): the group runs without kube-proxy");
    return undefined;
  }
  const server = `https://${api.host.includes(':') ? `[${api.host}]` : api.host}:${api.port}`;
  const ca = sources.configMap(ROOT_CA_CONFIGMAP);
  let caPem: string;
  if (ca.kind === 'found') caPem = ca.value.data?.['ca.crt'] ?? '';
  else if (ca.kind === 'unresolved') caPem = col.unresolved(`ConfigMap ${ROOT_CA_CONFIGMAP} (kube-proxy CA)`, FIELD);
  else {
    col.refuse('MissingConfigMap', FIELD, `ConfigMap ${ROOT_CA_CONFIGMAP} not found (the cluster CA kube-proxy needs)`);
    caPem = '';
  }
  const tok = ctx.kubeProxyToken;
  const token =
    tok === undefined || tok === UNRESOLVED
      ? col.unresolved(`token of ServiceAccount ${s.serviceAccount.namespace}/${s.serviceAccount.name} (kube-proxy)`, FIELD)
      : tok;
  const image = s.image;
  return {
    container: kubeProxyContainer({ ...s, image }, ctx.vnodeName),
    volume: () => kubeProxyVolume(server, token, caPem),
  };
}

function hostPortOf(svc: ReturnType<typeof reachableMaster>): { host: string; port: number } | undefined {
  const host = svc?.spec?.clusterIP;
  const port = svc?.spec?.ports?.[0]?.port;
  return host && port ? { host, port } : undefined;
}
