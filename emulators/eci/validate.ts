/**
 * CreateContainerGroup's request checks, with ECI's limits and name rules (eci-api.md §4, §5): names, volumes and
 * mounts, containers, tags, instance types, cpu/memory sums, spot strategy, vSwitches. `validateCreate` answers the
 * request as a typed value or throws the cloud's InvalidParameter / MissingParameter error. Also the ClientToken
 * fingerprint (which parameters make two creates "the same request").
 */
import { invalidParameter, missingParameter } from './errors.js';
import type { ContainerSpec, GroupInit } from './lifecycle.js';
import { bool, int, num, objects, requireStr, str, strings, sub, type Wire } from './params.js';

/** Parameters that belong to the signature, not to the request (excluded from ClientToken fingerprints). */
export const SIGNATURE_PARAMS = new Set([
  'Action',
  'Format',
  'Version',
  'Timestamp',
  'SignatureNonce',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureType',
  'AccessKeyId',
  'SecurityToken',
  'Signature',
  'ClientToken',
  'DryRun',
]);

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,126}[a-z0-9])$/;
const CONTAINER_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const VOLUME_TYPES = new Set([
  'EmptyDirVolume',
  'NFSVolume',
  'ConfigFileVolume',
  'DiskVolume',
  'FlexVolume',
  'HostPathVolume',
]);
export const INSTANCE_TYPES: Record<string, { cpu: number; memory: number }> = {
  'ecs.c6.large': { cpu: 2, memory: 4 },
  'ecs.c6.xlarge': { cpu: 4, memory: 8 },
  'ecs.c6.2xlarge': { cpu: 8, memory: 16 },
  'ecs.g6.large': { cpu: 2, memory: 8 },
  'ecs.g6.xlarge': { cpu: 4, memory: 16 },
  'ecs.r6.large': { cpu: 2, memory: 16 },
  'ecs.gn6i-c4g1.xlarge': { cpu: 4, memory: 15 },
};
/** A CreateContainerGroup request that passed every check: the new group's settings, and how to create it. */
export type CreateRequest = Pick<
  GroupInit,
  | 'name'
  | 'regionId'
  | 'restartPolicy'
  | 'terminationGracePeriodSeconds'
  | 'tags'
  | 'cpu'
  | 'memory'
  | 'instanceType'
  | 'spotStrategy'
  | 'spotPriceLimit'
  | 'containers'
  | 'initContainers'
> & { clientToken: string | undefined; vSwitches: string[]; dryRun: boolean };

export function validateCreate(p: Wire): CreateRequest {
  const regionId = requireStr(p, 'RegionId');
  const name = requireStr(p, 'ContainerGroupName');
  if (!NAME_RE.test(name)) {
    throw invalidParameter(
      'ContainerGroupName',
      'must be 2-128 characters of lowercase letters, digits and hyphens, not starting or ending with a hyphen',
    );
  }
  const clientToken = str(p, 'ClientToken');
  if (clientToken !== undefined && (clientToken.length > 64 || !/^[\x20-\x7e]*$/.test(clientToken))) {
    throw invalidParameter('ClientToken', 'must be at most 64 ASCII characters');
  }
  const restartPolicy = str(p, 'RestartPolicy') ?? 'Always';
  if (restartPolicy !== 'Always' && restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    throw invalidParameter('RestartPolicy', 'must be Always, OnFailure or Never');
  }
  const volumes = objects(p, 'Volume');
  if (volumes.length > 20) throw invalidParameter('Volume', 'at most 20 volumes');
  const volumeNames = new Set<string>();
  volumes.forEach((v, i) => {
    const vn = requireStr(v, 'Name', `Volume.${i + 1}.Name`);
    const type = requireStr(v, 'Type', `Volume.${i + 1}.Type`);
    if (!VOLUME_TYPES.has(type)) throw invalidParameter(`Volume.${i + 1}.Type`, `unknown volume type ${type}`);
    if (volumeNames.has(vn)) throw invalidParameter(`Volume.${i + 1}.Name`, `duplicate volume name ${vn}`);
    if (type === 'NFSVolume') {
      requireStr(sub(v, 'NFSVolume'), 'Server', `Volume.${i + 1}.NFSVolume.Server`);
      requireStr(sub(v, 'NFSVolume'), 'Path', `Volume.${i + 1}.NFSVolume.Path`);
    }
    volumeNames.add(vn);
  });
  const containerNames = new Set<string>();
  const containers = containerSpecs(p, 'Container', volumeNames, containerNames);
  if (containers.length === 0) throw missingParameter('Container.1.Name');
  if (containers.length > 20) throw invalidParameter('Container', 'at most 20 containers');
  const initContainers = containerSpecs(p, 'InitContainer', volumeNames, containerNames);
  const tags = objects(p, 'Tag').map((t, i) => {
    const key = requireStr(t, 'Key', `Tag.${i + 1}.Key`);
    if (key.length > 128 || /^(aliyun|acs:)/i.test(key)) {
      throw invalidParameter(`Tag.${i + 1}.Key`, 'at most 128 characters, not starting with aliyun or acs:');
    }
    const value = str(t, 'Value', `Tag.${i + 1}.Value`) ?? '';
    if (value.length > 128) throw invalidParameter(`Tag.${i + 1}.Value`, 'at most 128 characters');
    return { Key: key, Value: value };
  });
  if (tags.length > 20) throw invalidParameter('Tag', 'at most 20 tags');

  const instanceType = str(p, 'InstanceType');
  const spec = instanceType ? INSTANCE_TYPES[instanceType.split(',')[0] as string] : undefined;
  if (instanceType && !spec) throw invalidParameter('InstanceType', `unknown instance type ${instanceType}`);
  const sumCpu = containers.reduce((s, c) => s + (c.Cpu ?? 0), 0);
  const sumMem = containers.reduce((s, c) => s + (c.Memory ?? 0), 0);
  const cpu = spec?.cpu ?? num(p, 'Cpu') ?? (sumCpu || 2);
  const memory = spec?.memory ?? num(p, 'Memory') ?? (sumMem || 4);
  if (cpu <= 0 || cpu > 64) throw invalidParameter('Cpu', 'must be in (0, 64]');
  if (memory <= 0 || memory > 512) throw invalidParameter('Memory', 'must be in (0, 512]');
  if (sumCpu > cpu) throw invalidParameter('Container.N.Cpu', 'the containers ask for more vCPU than the group');
  if (sumMem > memory) throw invalidParameter('Container.N.Memory', 'the containers ask for more memory than the group');

  const spotStrategy = str(p, 'SpotStrategy') ?? 'NoSpot';
  if (!['NoSpot', 'SpotWithPriceLimit', 'SpotAsPriceGo'].includes(spotStrategy)) {
    throw invalidParameter('SpotStrategy', 'must be NoSpot, SpotWithPriceLimit or SpotAsPriceGo');
  }
  const spotPriceLimit = num(p, 'SpotPriceLimit');
  if (spotStrategy === 'SpotWithPriceLimit' && spotPriceLimit === undefined) throw missingParameter('SpotPriceLimit');
  const grace = int(p, 'TerminationGracePeriodSeconds') ?? 30;
  if (grace < 0) throw invalidParameter('TerminationGracePeriodSeconds', 'must be >= 0');
  const vSwitches = (str(p, 'VSwitchId') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (vSwitches.length > 10) throw invalidParameter('VSwitchId', 'at most 10 vSwitches');
  const dryRun = bool(p, 'DryRun') ?? false;

  return {
    regionId,
    name,
    clientToken,
    restartPolicy,
    containers,
    initContainers,
    tags,
    cpu,
    memory,
    instanceType,
    spotStrategy,
    spotPriceLimit,
    terminationGracePeriodSeconds: grace,
    vSwitches,
    dryRun,
  };
}

function containerSpecs(p: Wire, key: string, volumes: Set<string>, names: Set<string>): ContainerSpec[] {
  return objects(p, key).map((c, i) => {
    const path = `${key}.${i + 1}`;
    const name = requireStr(c, 'Name', `${path}.Name`);
    if (!CONTAINER_NAME_RE.test(name)) {
      throw invalidParameter(`${path}.Name`, 'must be 1-63 lowercase letters, digits and hyphens');
    }
    if (names.has(name)) throw invalidParameter(`${path}.Name`, `duplicate container name ${name}`);
    names.add(name);
    const image = requireStr(c, 'Image', `${path}.Image`);
    const mounts = objects(c, 'VolumeMount', `${path}.VolumeMount`);
    mounts.forEach((m, j) => {
      const vn = requireStr(m, 'Name', `${path}.VolumeMount.${j + 1}.Name`);
      requireStr(m, 'MountPath', `${path}.VolumeMount.${j + 1}.MountPath`);
      if (!volumes.has(vn)) throw invalidParameter(`${path}.VolumeMount.${j + 1}.Name`, `no volume named ${vn}`);
    });
    const cpu = num(c, 'Cpu', `${path}.Cpu`);
    const memory = num(c, 'Memory', `${path}.Memory`);
    if (cpu !== undefined && cpu < 0) throw invalidParameter(`${path}.Cpu`, 'must be >= 0');
    if (memory !== undefined && memory < 0) throw invalidParameter(`${path}.Memory`, 'must be >= 0');
    return {
      Name: name,
      Image: image,
      Command: strings(c, 'Command', `${path}.Command`),
      Arg: strings(c, 'Arg', `${path}.Arg`),
      Cpu: cpu,
      Memory: memory,
      Gpu: int(c, 'Gpu', `${path}.Gpu`),
      ImagePullPolicy: str(c, 'ImagePullPolicy', `${path}.ImagePullPolicy`),
      WorkingDir: str(c, 'WorkingDir', `${path}.WorkingDir`),
      extra: c,
    };
  });
}

/** The request's identity for ClientToken idempotency: every parameter but the signature's, sorted. */
export function fingerprintOf(p: Wire): string {
  const keys = Object.keys(p)
    .filter((k) => !SIGNATURE_PARAMS.has(k))
    .sort();
  return JSON.stringify(keys.map((k) => [k, p[k]]));
}

