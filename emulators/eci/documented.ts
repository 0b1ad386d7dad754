/**
 * The parameter names ECI documents for CreateContainerGroup (ECI API reference, docs/architecture.md#sources; the 2.0.3 SDK's
 * request model, plus the three the CreateContainerGroup API page documents beyond it: `ComputeCategory.N`,
 * `GpuDriverVersion`, `MaxPendingMinute`). The emulator refuses any other name with InvalidParameter, so a
 * misspelt or invented parameter can never count as "arrived" in a test. (Real ECI's answer to an unknown name is
 * unverified; the emulator is deliberately strict.)
 */
import { invalidParameter } from './errors.js';

/** `true` a scalar; an object its fields; a one-element array a list (`.N`, 1-based) of that element. */
export type ParamSpec = true | { readonly [name: string]: ParamSpec } | readonly [ParamSpec];

const NAME_VALUE = { Name: true, Value: true } as const;
const PROBE = {
  Exec: { Command: [true] },
  FailureThreshold: true,
  HttpGet: { Path: true, Port: true, Scheme: true },
  InitialDelaySeconds: true,
  PeriodSeconds: true,
  SuccessThreshold: true,
  TcpSocket: { Port: true },
  TimeoutSeconds: true,
} as const;

function lifecycle(hook: 'PostStart' | 'PreStop'): Record<string, ParamSpec> {
  const p = `Lifecycle${hook}Handler`;
  return {
    [`${p}Exec`]: [true],
    [`${p}HttpGetHost`]: true,
    [`${p}HttpGetHttpHeader`]: [NAME_VALUE],
    [`${p}HttpGetPath`]: true,
    [`${p}HttpGetPort`]: true,
    [`${p}HttpGetScheme`]: true,
    [`${p}TcpSocketHost`]: true,
    [`${p}TcpSocketPort`]: true,
  };
}

/** What init containers and containers share. */
const INIT_CONTAINER = {
  SecurityContext: { Capability: { Add: [true] }, ReadOnlyRootFilesystem: true, RunAsUser: true },
  Arg: [true],
  Command: [true],
  Cpu: true,
  EnvironmentVar: [{ FieldRef: { FieldPath: true }, Key: true, Value: true }],
  Gpu: true,
  Image: true,
  ImagePullPolicy: true,
  Memory: true,
  Name: true,
  Port: [{ Port: true, Protocol: true }],
  TerminationMessagePath: true,
  TerminationMessagePolicy: true,
  VolumeMount: [{ MountPath: true, MountPropagation: true, Name: true, ReadOnly: true, SubPath: true }],
  WorkingDir: true,
} as const;

const CONTAINER: ParamSpec = {
  ...INIT_CONTAINER,
  LivenessProbe: PROBE,
  ReadinessProbe: PROBE,
  EnvironmentVarHide: true,
  ...lifecycle('PostStart'),
  ...lifecycle('PreStop'),
  SecurityContextRunAsGroup: true,
  SecurityContextRunAsNonRoot: true,
  Stdin: true,
  StdinOnce: true,
  Tty: true,
};

export const CREATE_CONTAINER_GROUP_PARAMS: ParamSpec = {
  // common to every action (Appendix A's notation paragraph)
  OwnerAccount: true,
  OwnerId: true,
  ResourceOwnerAccount: true,
  ResourceOwnerId: true,
  // Appendix A
  DnsConfig: { NameServer: [true], Option: [NAME_VALUE], Search: [true] },
  HostSecurityContext: { Sysctl: [NAME_VALUE] },
  SecurityContext: { Sysctl: [NAME_VALUE] },
  AcrRegistryInfo: [{ ArnService: true, ArnUser: true, Domain: [true], InstanceId: true, InstanceName: true, RegionId: true }],
  ActiveDeadlineSeconds: true,
  AutoCreateEip: true,
  AutoMatchImageCache: true,
  ClientToken: true,
  Container: [CONTAINER],
  ContainerGroupName: true,
  ContainerResourceView: true,
  CorePattern: true,
  Cpu: true,
  CpuArchitecture: true,
  CpuOptionsCore: true,
  CpuOptionsNuma: true,
  CpuOptionsThreadsPerCore: true,
  DataCacheBucket: true,
  DataCacheBurstingEnabled: true,
  DataCachePL: true,
  DataCacheProvisionedIops: true,
  DnsPolicy: true,
  DryRun: true,
  EgressBandwidth: true,
  EipBandwidth: true,
  EipCommonBandwidthPackage: true,
  EipISP: true,
  EipInstanceId: true,
  EphemeralStorage: true,
  FixedIp: true,
  FixedIpRetainHour: true,
  HostAliase: [{ Hostname: [true], Ip: true }],
  HostName: true,
  ImageAccelerateMode: true,
  ImageRegistryCredential: [{ Password: true, Server: true, UserName: true }],
  ImageSnapshotId: true,
  IngressBandwidth: true,
  InitContainer: [INIT_CONTAINER],
  InsecureRegistry: true,
  InstanceType: true,
  Ipv6AddressCount: true,
  Ipv6GatewayBandwidth: true,
  Ipv6GatewayBandwidthEnable: true,
  Memory: true,
  NtpServer: [true],
  OsType: true,
  OverheadReservationOption: { EnableOverheadReservation: true },
  PlainHttpRegistry: true,
  PrivateIpAddress: true,
  RamRoleName: true,
  RegionId: true,
  ResourceGroupId: true,
  RestartPolicy: true,
  ScheduleStrategy: true,
  SecurityGroupId: true,
  ShareProcessNamespace: true,
  SpotDuration: true,
  SpotPriceLimit: true,
  SpotStrategy: true,
  StrictSpot: true,
  Tag: [{ Key: true, Value: true }],
  TerminationGracePeriodSeconds: true,
  VSwitchId: true,
  Volume: [
    {
      ConfigFileVolume: { ConfigFileToPath: [{ Content: true, Mode: true, Path: true }], DefaultMode: true },
      DiskVolume: { DiskId: true, DiskSize: true, FsType: true },
      EmptyDirVolume: { Medium: true, SizeLimit: true },
      FlexVolume: { Driver: true, FsType: true, Options: true },
      HostPathVolume: { Path: true, Type: true },
      NFSVolume: { Path: true, ReadOnly: true, Server: true },
      Name: true,
      Type: true,
    },
  ],
  ZoneId: true,
  // documented on the CreateContainerGroup API page, not in the 2.0.3 SDK
  ComputeCategory: [true],
  GpuDriverVersion: true,
  MaxPendingMinute: true,
};

/** The first parameter name (flattened, e.g. `Container.1.Foo`) `spec` does not document, or undefined. */
export function undocumentedParameter(names: Iterable<string>, spec: ParamSpec, ignore: ReadonlySet<string>): string | undefined {
  for (const name of names) {
    if (ignore.has(name)) continue;
    if (!documented(name.split('.'), spec)) return name;
  }
  return undefined;
}

function documented(parts: string[], spec: ParamSpec): boolean {
  let cur: ParamSpec = spec;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (cur === true) return false; // a scalar has no fields
    if (Array.isArray(cur)) {
      if (!/^[1-9][0-9]*$/.test(part)) return false;
      cur = cur[0] as ParamSpec;
      continue;
    }
    const next: ParamSpec | undefined = Object.hasOwn(cur, part) ? (cur as Record<string, ParamSpec>)[part] : undefined;
    if (next === undefined) return false;
    cur = next;
  }
  return cur === true; // a name must end at a scalar (`Container` alone, or `Container.1`, is not a value)
}

/** Refuses a CreateContainerGroup request naming a parameter ECI does not document. */
export function checkDocumented(raw: Record<string, string>, ignore: ReadonlySet<string>): void {
  const bad = undocumentedParameter(Object.keys(raw), CREATE_CONTAINER_GROUP_PARAMS, ignore);
  if (bad !== undefined) throw invalidParameter(bad, 'CreateContainerGroup documents no such parameter');
}
