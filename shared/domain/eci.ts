/**
 * ECI OpenAPI (2018-08-08) shapes in ECI's own wire names (nested PascalCase), as the API reference and the
 * SDK request models' `toMap()` name them. The domain produces and consumes these; the ECI adapter converts
 * them to and from `@alicloud/eci20180808` models. Only the fields the bridge uses are typed; see
 * the ECI API reference (docs/architecture.md#sources) for the full lists.
 */

export interface EciNameValue {
  Name: string;
  Value: string;
}
export interface EciKeyValue {
  Key: string;
  Value: string;
}

export interface EciProbe {
  Exec?: { Command: string[] };
  HttpGet?: { Path?: string; Port: number; Scheme?: string };
  TcpSocket?: { Port: number };
  InitialDelaySeconds?: number;
  PeriodSeconds?: number;
  TimeoutSeconds?: number;
  SuccessThreshold?: number;
  FailureThreshold?: number;
}

export interface EciEnvironmentVar {
  Key: string;
  Value?: string;
  FieldRef?: { FieldPath: string };
}

export interface EciVolumeMount {
  Name: string;
  MountPath: string;
  ReadOnly?: boolean;
  SubPath?: string;
  MountPropagation?: string;
}

export interface EciContainer {
  Name: string;
  Image: string;
  Command?: string[];
  Arg?: string[];
  WorkingDir?: string;
  EnvironmentVar?: EciEnvironmentVar[];
  Port?: { Port: number; Protocol?: string }[];
  Cpu?: number;
  Memory?: number;
  Gpu?: number;
  ImagePullPolicy?: string;
  VolumeMount?: EciVolumeMount[];
  LivenessProbe?: EciProbe;
  ReadinessProbe?: EciProbe;
  SecurityContext?: {
    Capability?: { Add: string[] };
    ReadOnlyRootFilesystem?: boolean;
    RunAsUser?: number;
  };
  SecurityContextRunAsGroup?: number;
  SecurityContextRunAsNonRoot?: boolean;
  Stdin?: boolean;
  StdinOnce?: boolean;
  Tty?: boolean;
  TerminationMessagePath?: string;
  TerminationMessagePolicy?: string;
  LifecyclePostStartHandlerExec?: string[];
  LifecyclePostStartHandlerHttpGetHost?: string;
  LifecyclePostStartHandlerHttpGetPath?: string;
  LifecyclePostStartHandlerHttpGetPort?: number;
  LifecyclePostStartHandlerHttpGetScheme?: string;
  LifecyclePostStartHandlerHttpGetHttpHeader?: EciNameValue[];
  LifecyclePostStartHandlerTcpSocketHost?: string;
  LifecyclePostStartHandlerTcpSocketPort?: number;
  LifecyclePreStopHandlerExec?: string[];
  LifecyclePreStopHandlerHttpGetHost?: string;
  LifecyclePreStopHandlerHttpGetPath?: string;
  LifecyclePreStopHandlerHttpGetPort?: number;
  LifecyclePreStopHandlerHttpGetScheme?: string;
  LifecyclePreStopHandlerHttpGetHttpHeader?: EciNameValue[];
  LifecyclePreStopHandlerTcpSocketHost?: string;
  LifecyclePreStopHandlerTcpSocketPort?: number;
}

export interface EciVolume {
  Name: string;
  Type: 'EmptyDirVolume' | 'NFSVolume' | 'ConfigFileVolume' | 'DiskVolume' | 'FlexVolume' | 'HostPathVolume';
  EmptyDirVolume?: { Medium?: string; SizeLimit?: string };
  NFSVolume?: { Server: string; Path: string; ReadOnly?: boolean };
  ConfigFileVolume?: {
    ConfigFileToPath: { Path: string; Content: string; Mode?: number }[];
    DefaultMode?: number;
  };
  DiskVolume?: { DiskId: string; DiskSize?: number; FsType?: string };
  FlexVolume?: { Driver: string; FsType?: string; Options?: string };
  HostPathVolume?: { Path: string; Type?: string };
}

/** CreateContainerGroup request in wire names. */
export interface EciCreateRequest {
  RegionId: string;
  ContainerGroupName: string;
  ClientToken?: string;
  Container: EciContainer[];
  InitContainer?: EciContainer[];
  Volume?: EciVolume[];
  Tag?: EciKeyValue[];
  SecurityGroupId?: string;
  VSwitchId?: string;
  ZoneId?: string;
  RestartPolicy?: 'Always' | 'OnFailure' | 'Never';
  Cpu?: number;
  Memory?: number;
  InstanceType?: string;
  DnsPolicy?: string;
  DnsConfig?: { NameServer?: string[]; Search?: string[]; Option?: { Name: string; Value?: string }[] };
  HostAliase?: { Ip: string; Hostname: string[] }[];
  HostName?: string;
  ImageRegistryCredential?: { Server: string; UserName: string; Password: string }[];
  TerminationGracePeriodSeconds?: number;
  ActiveDeadlineSeconds?: number;
  ShareProcessNamespace?: boolean;
  SecurityContext?: { Sysctl: EciNameValue[] };
  HostSecurityContext?: { Sysctl: EciNameValue[] };
  SpotStrategy?: 'NoSpot' | 'SpotWithPriceLimit' | 'SpotAsPriceGo';
  SpotPriceLimit?: number;
  SpotDuration?: number;
  DryRun?: boolean;
  /** Any other documented field set from an annotation (AutoCreateEip, RamRoleName, ...). */
  [field: string]: unknown;
}

export interface EciContainerState {
  State?: string; // Waiting | Running | Terminated
  DetailStatus?: string;
  ExitCode?: number;
  Signal?: number;
  Reason?: string;
  Message?: string;
  StartTime?: string;
  FinishTime?: string;
}

export interface EciEvent {
  Count?: number;
  Type?: string;
  Name?: string;
  Message?: string;
  Reason?: string;
  FirstTimestamp?: string;
  LastTimestamp?: string;
}

export interface EciGroupContainer {
  Name: string;
  Image?: string;
  Cpu?: number;
  Memory?: number;
  Gpu?: number;
  Ready?: boolean;
  RestartCount?: number;
  CurrentState?: EciContainerState;
  PreviousState?: EciContainerState;
}

/** One item of DescribeContainerGroups' `ContainerGroups`, in wire names. */
export interface EciContainerGroup {
  ContainerGroupId: string;
  ContainerGroupName?: string;
  Status: string;
  RegionId?: string;
  ZoneId?: string;
  VSwitchId?: string;
  SecurityGroupId?: string;
  CreationTime?: string;
  SucceededTime?: string;
  FailedTime?: string;
  ExpiredTime?: string;
  IntranetIp?: string;
  InternetIp?: string;
  Ipv6Address?: string;
  Cpu?: number;
  Memory?: number;
  InstanceType?: string;
  SpotStrategy?: string;
  SpotPriceLimit?: number;
  Discount?: number;
  RestartPolicy?: string;
  Tags?: EciKeyValue[];
  Events?: EciEvent[];
  Containers?: EciGroupContainer[];
  InitContainers?: EciGroupContainer[];
  [field: string]: unknown;
}

/** ECI's container group statuses (ECI lifecycle, docs/architecture.md#sources), legacy ones included. */
export const ECI_GROUP_STATUSES = [
  'Scheduling',
  'Pending',
  'Running',
  'Succeeded',
  'Failed',
  'ScheduleFailed',
  'Restarting',
  'Updating',
  'Terminating',
  'Expired',
  'StartingFailed',
  'WatingForDel',
] as const;

/** A Kubernetes-shaped container state in DescribeContainerGroupStatus (ECI API reference, docs/architecture.md#sources). */
export interface EciPodContainerState {
  /** The SDK's wire name is literally `StartedAtstartedAt` (the 2.0.3 SDK's model); `StartedAt` is accepted too. */
  Running?: { StartedAtstartedAt?: string; StartedAt?: string };
  Terminated?: {
    ContainerID?: string;
    ExitCode?: number;
    FinishedAt?: string;
    Message?: string;
    Reason?: string;
    Signal?: number;
    StartedAt?: string;
  };
  Waiting?: { Message?: string; Reason?: string };
}

/** One `Data[]` item of DescribeContainerGroupStatus, in wire names (note the lower-case keys ECI uses). */
export interface EciGroupStatusItem {
  ContainerGroupId: string;
  Name?: string;
  Namespace?: string;
  uuid?: string;
  Annotations?: string;
  Status: string;
  PodStatus?: {
    Phase?: string;
    HostIp?: string;
    PodIp?: string;
    PodIps?: { Ip: string }[];
    QosClass?: string;
    StartTime?: string;
    Conditions?: { type?: string; status?: string; lastTransitionTime?: string; Message?: string; Reason?: string }[];
    ContainerStatuses?: {
      Name: string;
      Image?: string;
      ImageID?: string;
      Ready?: boolean;
      RestartCount?: number;
      Started?: boolean;
      State?: EciPodContainerState;
      LastState?: EciPodContainerState;
    }[];
  };
}
