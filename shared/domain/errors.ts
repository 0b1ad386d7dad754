/**
 * Refusals and warnings of the pod → ECI translation. A violation refuses the pod (it cannot run on ECI as
 * written); a warning says a field is meaningless on ECI or was carried over in a degraded form. Every code has
 * one stable name, a field path, a message and — for violations — the recommended alternative (the table in
 * ECI's documentation of limits and unsupported features, docs/architecture.md#sources). Messages never contain secret values.
 */

export interface Violation {
  code: ViolationCode;
  /** Kubernetes field path, e.g. `spec.volumes[2].hostPath`. */
  field: string;
  message: string;
  alternative: string;
}

export interface Warning {
  code: WarningCode;
  field: string;
  message: string;
}

/** Violation codes and their recommended alternatives. */
export const VIOLATIONS = {
  HostPathVolume: 'Use an emptyDir volume for scratch data, or a disk or NAS (inline nfs) volume for persistent data.',
  HostNetwork: 'Expose the pod through a Service of type LoadBalancer instead of the host network.',
  HostPort: 'Remove hostPort and expose the containerPort through a Service of type LoadBalancer.',
  HostPID: 'Share processes inside the pod only (spec.shareProcessNamespace: true), not with the host.',
  HostIPC: 'Share IPC between the containers of one pod only; ECI gives each pod its own sandbox.',
  DaemonSetPod:
    'Run the per-node agent as a sidecar container in the pods that need it, and keep DaemonSets off the virtual node (node affinity or its taint).',
  Privileged: 'Drop privileged and add only the capabilities the container needs in securityContext.capabilities.add.',
  PersistentVolumeClaim:
    'Mount NAS with an inline nfs volume, or use emptyDir for scratch data; PersistentVolumeClaims are not attached to ECI pods by this bridge.',
  UnsupportedVolume:
    'Use emptyDir (default medium or Memory), configMap, secret, projected, downwardAPI or nfs volumes; ECI offers no huge pages.',
  UnsupportedPortProtocol: 'Use TCP or UDP container ports (ECI documents no SCTP); an SCTP service needs a node outside the virtual node.',
  ConfigFileTooLarge:
    'ECI ConfigFile volumes hold at most 32 KiB per file and 60 KiB per volume: put large files on NAS (an inline nfs volume) or into the image, or split them across volumes.',
  VolumeDevices: 'Use a filesystem volume (emptyDir or nfs) instead of a raw block device.',
  UnknownVolume: 'Mount only volumes declared in spec.volumes.',
  TooManyContainers: 'ECI allows at most 20 containers and 20 init containers per pod: merge containers or split the pod.',
  TooManyVolumes: 'ECI allows at most 20 volumes per pod: merge ConfigMaps/Secrets into projected volumes.',
  TooManyTags: 'ECI allows at most 20 tags: remove entries from k8s.aliyun.com/eci-custom-tags.',
  InvalidName: 'Give the pod a metadata.name and metadata.namespace that are valid Kubernetes names.',
  InvalidUid: 'metadata.uid must be at most 64 ASCII characters (it is the ECI ClientToken).',
  InvalidAnnotation: 'Fix the annotation value as documented for the k8s.aliyun.com/eci-* annotations.',
  MissingImage: 'Set an image on every container.',
  ReservedContainerName: 'Rename the container: eci-bridge-kube-proxy is the name of the bridge\'s kube-proxy sidecar.',
  SidecarInitContainer: 'An init container restartPolicy can only be Always (a native sidecar, run as an ECI sidecar container).',
  UnsupportedResource: 'Request only cpu, memory, ephemeral-storage and nvidia.com/gpu.',
  InvalidResource: 'Write resource quantities in Kubernetes quantity syntax (e.g. 500m, 2, 512Mi, 4Gi).',
  GpuRequiresInstanceType:
    'Set k8s.aliyun.com/eci-use-specs to a GPU-accelerated instance type (e.g. ecs.gn6i-c4g1.xlarge).',
  ResourceLimitExceeded: 'ECI instances have at most 64 vCPU: lower the requests/limits or use eci-use-specs.',
  UnsupportedFieldRef:
    'Use one of metadata.name|namespace|uid|labels|annotations, spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP.',
  UnsupportedProbe: 'Use an exec, httpGet or tcpSocket probe with a numeric or declared named port.',
  UnsupportedLifecycleHandler: 'Use an exec, httpGet or tcpSocket lifecycle handler (e.g. exec: [sleep, "5"]).',
  UnsupportedOS: 'Run Linux pods only on the virtual node.',
  ResourceClaims: 'Dynamic resource allocation is not available on ECI: request GPUs through nvidia.com/gpu and eci-use-specs.',
  InvalidDnsConfig:
    'With dnsPolicy None give at least one nameserver; keep at most 32 search domains across dnsPolicy, spec.dnsConfig and k8s.aliyun.com/eci-custom-dnsconfig.',
  InvalidSubPathExpr: 'subPathExpr may only reference environment variables with literal values.',
  InvalidSysctl: 'Give each sysctl a name and a value.',
  UnsupportedSysctl:
    'Remove the sysctl: ECI lets pods set kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.* (except net.ipv4.tcp_syncookies) and vm.min_free_kbytes; any other needs an ECI support ticket, then the k8s.aliyun.com/eci-host-sysctls annotation.',
  MissingConfigMap: 'Create the ConfigMap, or mark the reference optional: true.',
  MissingSecret: 'Create the Secret, or mark the reference optional: true.',
  MissingKey: 'Add the key to the ConfigMap/Secret, or mark the reference optional: true.',
  MissingServiceAccountToken: 'The bridge could not mint the service-account token; check the ServiceAccount exists.',
  Unresolved: 'Run without --strict, or include the ConfigMaps and Secrets in the input.',
  InvalidPod: 'Submit a valid Pod object with metadata and at least one container in spec.containers.',
} as const;

export type ViolationCode = keyof typeof VIOLATIONS;

/**
 * Codes that depend on objects the caller resolves (ConfigMaps, Secrets, tokens): a retry after the object appears
 * can succeed, so pod-sync may treat them as transient rather than refusing the pod.
 */
export const TRANSIENT_VIOLATIONS: ReadonlySet<ViolationCode> = new Set<ViolationCode>([
  'MissingConfigMap',
  'MissingSecret',
  'MissingKey',
  'MissingServiceAccountToken',
]);

/** Warning codes and what they mean (docs/translation.md's warnings table, generated from this object by npm run docs). */
export const WARNINGS = {
  TopologySpreadIgnored: 'topologySpreadConstraints cannot spread ECI pods: all run behind one virtual node.',
  RuntimeClassIgnored: 'runtimeClassName is ignored: every ECI pod runs in its own sandbox VM.',
  HostUsersIgnored: 'hostUsers is ignored: every ECI pod runs in its own sandbox VM.',
  FsGroupIgnored: 'fsGroup, fsGroupChangePolicy and supplementalGroups are not applied by ECI.',
  SecurityProfileIgnored: 'seccompProfile, seLinuxOptions, appArmorProfile, procMount and windowsOptions are not applied by ECI.',
  AllowPrivilegeEscalationIgnored: 'allowPrivilegeEscalation is not enforced by ECI.',
  CapabilitiesDropIgnored: 'capabilities.drop is not supported by ECI: the ECI default capability set applies.',
  InitContainerFieldIgnored:
    'ECI init containers have no runAsGroup, runAsNonRoot, stdin, stdinOnce, tty, probes or lifecycle hooks: the named field is ignored.',
  HostnameFqdnIgnored: 'setHostnameAsFQDN is ignored: the container hostname is the short name (subdomain has no ECI field).',
  StartupProbeDegraded: 'ECI has no startup probe: its budget is added to the liveness probe initialDelaySeconds.',
  ProbeDegraded: 'The probe was carried over without fields ECI lacks (httpGet host/headers, grpc as tcpSocket).',
  LifecycleSleepAsExec: 'ECI has no sleep lifecycle action: the hook is sent as exec ["sleep", "<seconds>"], which needs a sleep binary in the image.',
  NativeSidecarAsEciSidecar:
    'a native sidecar (init container with restartPolicy Always) runs as an ECI sidecar container: started before the app containers, stopped after them.',
  ProbeGracePeriodIgnored: 'probe terminationGracePeriodSeconds is not supported by ECI; the pod grace period applies.',
  SubdomainIgnored: 'subdomain has no ECI field: the FQDN is not set inside the container (Service DNS still works).',
  DownwardApiSnapshot: 'downwardAPI labels/annotations are written once at creation and not updated afterwards.',
  DnsNameserversTruncated: 'more than 3 nameservers after merging dnsPolicy, dnsConfig and eci-custom-dnsconfig: the first 3 are used.',
  DnsDefaultWithConfig: 'dnsPolicy Default with dnsConfig: ECI documents DnsConfig for DnsPolicy None only, so it may not apply.',
  EphemeralContainersIgnored: 'ephemeralContainers cannot be added to an ECI pod.',
  ImagePullSecretMissing: 'an imagePullSecret could not be found or read: pulls from that registry may fail.',
  AnnotationIgnored: 'the annotation has no CreateContainerGroup field in ECI API 2018-08-08 and is ignored.',
  RescheduleIgnored:
    'eci-reschedule-enable is ignored: the bridge has one virtual node and nothing to reschedule to; with eci-fail-strategy: fail-fast the pod fails on no capacity and its controller recreates it.',
  CustomTagsOverLimit: 'ECI documents at most 3 custom tags in k8s.aliyun.com/eci-custom-tags; more were given.',
  ServiceLinksNotInjected:
    "the namespace's Services are not known here, so their <SVC>_SERVICE_HOST/PORT variables are not shown; pod-sync injects those of the Services present when the group is created (offline: add the namespace's Services to the input).",
  KubeProxyUnavailable: 'kube-proxy was asked for but cannot be added to the group: ClusterIPs stay unreachable from it.',
  KubeProxyRaisesSpec: "the kube-proxy sidecar's resources move the group to the next ECI spec.",
  KubernetesServiceUnknown:
    'KUBERNETES_SERVICE_HOST/PORT are not set: neither the kubernetes Service (reachable) nor its endpoints are known; pod-sync reads them, offline give --api-server.',
  Unresolved: 'a ConfigMap, Secret or token could not be read offline and was replaced by a placeholder.',
  PodResourcesOverridden: 'pod-level spec.resources is not used for the size: k8s.aliyun.com/eci-use-specs sets it.',
  ContainerResourcesShared: 'some containers have neither requests nor limits: they share the pod resources.',
  EnvFromKeySkipped: 'an envFrom key is not a valid environment variable name and was skipped (as the kubelet does).',
  OptionalSourceMissing: 'an optional ConfigMap, Secret or key does not exist: nothing was added for it.',
} as const;

export type WarningCode = keyof typeof WARNINGS;

export function violation(code: ViolationCode, field: string, message: string): Violation {
  return { code, field, message, alternative: VIOLATIONS[code] };
}

export function warning(code: WarningCode, field: string, message?: string): Warning {
  return { code, field, message: message ?? WARNINGS[code] };
}

/** Thrown only by the domain's explicit `...OrThrow` helpers; translation itself returns violations. */
export class PodRefusedError extends Error {
  readonly violations: Violation[];
  constructor(violations: Violation[], options?: { cause?: unknown }) {
    super(`pod refused: ${violations.map((v) => `${v.code} at ${v.field}`).join(', ')}`, options);
    this.name = 'PodRefusedError';
    this.violations = violations;
  }
}
