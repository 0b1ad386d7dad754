/**
 * Volumes and mounts. emptyDir → EmptyDirVolume; configMap, secret, projected (serviceAccountToken, configMap,
 * secret, downwardAPI) and downwardAPI → ConfigFileVolume (base64 contents, items, defaultMode, per-item mode,
 * binaryData, optional); nfs → NFSVolume; hostPath, persistentVolumeClaim and every other kind → refused.
 * ConfigFile volumes are held to ECI's limits (help.aliyun.com/en/eci/user-guide/mount-a-configfile-volume:
 * "a single configuration file cannot exceed 32 KB, all configuration files cannot exceed 60 KB"), counted on the
 * decoded file bytes with KB = 1024: a larger file or volume is refused where its content is known (pod-sync
 * after reading the ConfigMap/Secret, the CLI with the object in its input, admission for downwardAPI files).
 */
import type { Collector } from './collector.js';
import { toBase64 } from './collector.js';
import type { EciVolume, EciVolumeMount } from './eci.js';
import { expand, type ResourceValue, resourceString } from './env.js';
import type { ConfigMapProjection, Container, DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from './k8s.js';
import { DEFAULT_TOKEN_EXPIRATION, type Sources, serviceAccountOf, tokenKey } from './references.js';

export interface VolumeContext {
  pod: Pod;
  sources: Sources;
  col: Collector;
  resourceValue: ResourceValue;
}

interface File {
  Path: string;
  Content: string;
  Mode?: number;
  secret: boolean;
  /** the Kubernetes field the file comes from (with its key), for a size refusal; none for an offline placeholder */
  from?: string;
}

/** ECI's ConfigFile limits in bytes (see the top of this file). */
export const CONFIG_FILE_MAX_BYTES = 32 * 1024;
export const CONFIG_FILE_VOLUME_MAX_BYTES = 60 * 1024;

/** Bytes a base64 string decodes to. */
export function base64Bytes(b64: string): number {
  const t = b64.replace(/\s/g, '');
  const pad = t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((t.length * 3) / 4) - pad);
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB (${n} bytes)`;

/** Refuses files and volumes over ECI's ConfigFile limits, naming the field, the size and the limit. */
function checkSizes(col: Collector, volumeName: string, field: string, files: File[]): void {
  let total = 0;
  for (const f of files) {
    if (f.from === undefined) continue;
    const n = base64Bytes(f.Content);
    total += n;
    if (n > CONFIG_FILE_MAX_BYTES) {
      col.refuse('ConfigFileTooLarge', f.from, `volume ${volumeName}: file ${f.Path} is ${kib(n)}; ECI allows ${kib(CONFIG_FILE_MAX_BYTES)} per file`);
    }
  }
  if (total > CONFIG_FILE_VOLUME_MAX_BYTES) {
    col.refuse('ConfigFileTooLarge', field, `volume ${volumeName}: its files total ${kib(total)}; ECI allows ${kib(CONFIG_FILE_VOLUME_MAX_BYTES)} per volume`);
  }
}

const SOURCE_KINDS = [
  'emptyDir',
  'configMap',
  'secret',
  'projected',
  'downwardAPI',
  'nfs',
  'hostPath',
  'persistentVolumeClaim',
] as const;

/** The volume source kind of a Kubernetes volume (first key other than name). */
export function volumeKind(v: Volume): string {
  for (const k of SOURCE_KINDS) if (v[k] !== undefined && v[k] !== null) return k;
  return Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
}

const ALTERNATIVES: Record<string, string> = {
  gitRepo: 'gitRepo is deprecated: clone the repository in an init container into an emptyDir volume',
  ephemeral: 'generic ephemeral volumes need PersistentVolumeClaims',
  csi: 'CSI inline volumes need a CSI node plugin, which ECI pods do not run',
};

/** Files of a ConfigMap-like source: all keys (data, then binaryData) or the listed items. */
function sourceFiles(
  col: Collector,
  data: Record<string, string>,
  binary: Record<string, string>,
  items: KeyToPath[] | undefined,
  secret: boolean,
  field: string,
  what: string,
  optional: boolean | undefined,
): File[] {
  // For secrets `data` is already base64; for ConfigMaps data is text and binaryData base64.
  const content = (k: string): string | undefined => {
    if (data[k] !== undefined) return secret ? data[k] : toBase64(data[k]);
    return binary[k];
  };
  if (!items?.length) {
    return [...new Set([...Object.keys(data), ...Object.keys(binary)])].map((k) => ({
      Path: k,
      Content: content(k) ?? '',
      secret,
      from: `${field} (key ${k})`,
    }));
  }
  const out: File[] = [];
  items.forEach((it, i) => {
    const c = it?.key !== undefined ? content(it.key) : undefined;
    if (c === undefined) {
      if (optional) col.warn('OptionalSourceMissing', `${field}.items[${i}]`, `key ${it?.key} not found in ${what} (optional: skipped)`);
      else col.refuse('MissingKey', `${field}.items[${i}]`, `key ${it?.key} not found in ${what}`);
      return;
    }
    out.push({ Path: it.path, Content: c, ...(it.mode !== undefined ? { Mode: it.mode } : {}), secret, from: `${field}.items[${i}]` });
  });
  return out;
}

function placeholderFiles(col: Collector, what: string, field: string, items: KeyToPath[] | undefined): File[] {
  const text = col.unresolved(what, field);
  if (items?.length) return items.map((it) => ({ Path: it.path, Content: text, secret: false }));
  return [{ Path: `<keys of ${what}>`, Content: text, secret: false }];
}

function configMapFiles(ctx: VolumeContext, src: ConfigMapProjection, field: string): File[] {
  const name = src.name ?? '';
  const what = `ConfigMap ${name}`;
  const r = ctx.sources.configMap(name);
  if (r.kind === 'unresolved') return placeholderFiles(ctx.col, what, field, src.items);
  if (r.kind === 'missing') {
    if (src.optional) ctx.col.warn('OptionalSourceMissing', field, `${what} not found (optional: empty)`);
    else ctx.col.refuse('MissingConfigMap', field, `${what} not found`);
    return [];
  }
  return sourceFiles(ctx.col, r.value.data ?? {}, r.value.binaryData ?? {}, src.items, false, field, what, src.optional);
}

function secretFiles(ctx: VolumeContext, name: string, items: KeyToPath[] | undefined, optional: boolean | undefined, field: string): File[] {
  const what = `Secret ${name}`;
  const r = ctx.sources.secret(name);
  if (r.kind === 'unresolved') return placeholderFiles(ctx.col, what, field, items);
  if (r.kind === 'missing') {
    if (optional) ctx.col.warn('OptionalSourceMissing', field, `${what} not found (optional: empty)`);
    else ctx.col.refuse('MissingSecret', field, `${what} not found`);
    return [];
  }
  return sourceFiles(ctx.col, r.value.data ?? {}, {}, items, true, field, what, optional);
}

function quoteValue(v: string): string {
  return JSON.stringify(v);
}
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${quoteValue(m?.[k] ?? '')}`)
    .join('\n');
}

function downwardFiles(ctx: VolumeContext, items: DownwardAPIVolumeFile[], field: string): File[] {
  const md = ctx.pod.metadata ?? {};
  const out: File[] = [];
  items.forEach((it, i) => {
    const f = `${field}.items[${i}]`;
    let value: string | undefined;
    if (it.fieldRef) {
      const fp = it.fieldRef.fieldPath;
      const sel = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fp);
      if (sel?.[2] !== undefined) value = (sel[1] === 'labels' ? md.labels : md.annotations)?.[sel[2]] ?? '';
      else if (fp === 'metadata.name') value = md.name ?? '';
      else if (fp === 'metadata.namespace') value = md.namespace ?? '';
      else if (fp === 'metadata.uid') value = md.uid ?? '';
      else if (fp === 'metadata.labels') value = formatMap(md.labels);
      else if (fp === 'metadata.annotations') value = formatMap(md.annotations);
      if (fp.startsWith('metadata.labels') || fp.startsWith('metadata.annotations')) {
        ctx.col.warn('DownwardApiSnapshot', `${f}.fieldRef`);
      }
      if (value === undefined) {
        ctx.col.refuse('UnsupportedFieldRef', `${f}.fieldRef`, `fieldRef ${fp} is not supported in a downwardAPI volume`);
        return;
      }
    } else if (it.resourceFieldRef) {
      const ref = it.resourceFieldRef;
      const amount = ref.containerName ? ctx.resourceValue(ref.containerName, ref.resource) : undefined;
      if (amount === undefined) {
        ctx.col.refuse('UnsupportedFieldRef', `${f}.resourceFieldRef`, `resource ${ref.resource} of container ${ref.containerName ?? '?'} is not available`);
        return;
      }
      value = resourceString(amount, ref.resource, ref.divisor);
    } else {
      ctx.col.refuse('UnsupportedFieldRef', f, 'a downwardAPI item needs fieldRef or resourceFieldRef');
      return;
    }
    out.push({ Path: it.path, Content: toBase64(value), ...(it.mode !== undefined ? { Mode: it.mode } : {}), secret: false, from: f });
  });
  return out;
}

function projectedFiles(ctx: VolumeContext, v: NonNullable<Volume['projected']>, field: string): File[] {
  const files: File[] = [];
  (v.sources ?? []).forEach((s, i) => {
    const f = `${field}.sources[${i}]`;
    if (s?.serviceAccountToken) {
      const t = s.serviceAccountToken;
      const req = {
        serviceAccountName: serviceAccountOf(ctx.pod),
        ...(t.audience ? { audience: t.audience } : {}),
        expirationSeconds: t.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION,
      };
      const r = ctx.sources.token(tokenKey(req));
      if (r.kind === 'found') files.push({ Path: t.path, Content: toBase64(r.value), secret: true, from: `${f}.serviceAccountToken` });
      else if (r.kind === 'unresolved') {
        files.push({ Path: t.path, Content: ctx.col.unresolved(`token of ServiceAccount ${req.serviceAccountName}`, `${f}.serviceAccountToken`), secret: false });
      } else {
        ctx.col.refuse('MissingServiceAccountToken', `${f}.serviceAccountToken`, `no token was minted for ServiceAccount ${req.serviceAccountName}`);
      }
    } else if (s?.configMap) files.push(...configMapFiles(ctx, s.configMap, `${f}.configMap`));
    else if (s?.secret) files.push(...secretFiles(ctx, s.secret.name ?? '', s.secret.items, s.secret.optional, `${f}.secret`));
    else if (s?.downwardAPI) files.push(...downwardFiles(ctx, s.downwardAPI.items ?? [], `${f}.downwardAPI`));
    else ctx.col.refuse('UnsupportedVolume', f, `projected source ${Object.keys(s ?? {})[0] ?? '?'} is not supported on ECI`);
  });
  const byPath = new Map<string, File>();
  for (const x of files) byPath.set(x.Path, x);
  return [...byPath.values()];
}

/** Translates spec.volumes (violations go to the collector). Volume wire paths are `Volume[j]`. */
export function translateVolumes(ctx: VolumeContext): EciVolume[] {
  const out: EciVolume[] = [];
  const { col } = ctx;
  const configFile = (name: string, files: File[], defaultMode: number | undefined, field: string): EciVolume => {
    checkSizes(col, name, field, files);
    if (files.length === 0) return { Name: name, Type: 'EmptyDirVolume', EmptyDirVolume: {} };
    const j = out.length;
    files.forEach((x, k) => {
      if (x.secret) col.secretPaths.add(`Volume[${j}].ConfigFileVolume.ConfigFileToPath[${k}].Content`);
    });
    return {
      Name: name,
      Type: 'ConfigFileVolume',
      ConfigFileVolume: {
        ConfigFileToPath: files.map((x) => ({ Path: x.Path, Content: x.Content, ...(x.Mode !== undefined ? { Mode: x.Mode } : {}) })),
        ...(defaultMode !== undefined ? { DefaultMode: defaultMode } : {}),
      },
    };
  };
  (ctx.pod.spec?.volumes ?? []).forEach((v, i) => {
    if (!v || typeof v.name !== 'string') return;
    const field = `spec.volumes[${i}]`;
    const kind = volumeKind(v);
    switch (kind) {
      case 'emptyDir': {
        const e = v.emptyDir ?? {};
        const ed: { Medium?: string; SizeLimit?: string } = {};
        if (e.medium === 'Memory') ed.Medium = 'Memory';
        else if (e.medium) {
          // HugePages (and HugePages-<size>) need huge pages the sandbox does not offer: not a disk emptyDir.
          col.refuse('UnsupportedVolume', `${field}.emptyDir.medium`, `volume ${v.name}: emptyDir medium ${e.medium} is not available on ECI`);
          return;
        }
        if (e.sizeLimit !== undefined) ed.SizeLimit = String(e.sizeLimit);
        out.push({ Name: v.name, Type: 'EmptyDirVolume', EmptyDirVolume: ed });
        return;
      }
      case 'configMap': {
        const cm = v.configMap ?? {};
        out.push(configFile(v.name, configMapFiles(ctx, cm, `${field}.configMap`), cm.defaultMode, `${field}.configMap`));
        return;
      }
      case 'secret': {
        const s = v.secret ?? {};
        out.push(configFile(v.name, secretFiles(ctx, s.secretName ?? '', s.items, s.optional, `${field}.secret`), s.defaultMode, `${field}.secret`));
        return;
      }
      case 'projected': {
        const p = v.projected ?? {};
        out.push(configFile(v.name, projectedFiles(ctx, p, `${field}.projected`), p.defaultMode, `${field}.projected`));
        return;
      }
      case 'downwardAPI': {
        const d = v.downwardAPI ?? {};
        out.push(configFile(v.name, downwardFiles(ctx, d.items ?? [], `${field}.downwardAPI`), d.defaultMode, `${field}.downwardAPI`));
        return;
      }
      case 'nfs': {
        const n = v.nfs;
        if (!n?.server || !n.path) {
          col.refuse('UnsupportedVolume', `${field}.nfs`, 'an nfs volume needs server and path');
          return;
        }
        out.push({ Name: v.name, Type: 'NFSVolume', NFSVolume: { Server: n.server, Path: n.path, ...(n.readOnly ? { ReadOnly: true } : {}) } });
        return;
      }
      case 'hostPath':
        col.refuse('HostPathVolume', `${field}.hostPath`, `volume ${v.name}: hostPath volumes are not supported on ECI`);
        return;
      case 'persistentVolumeClaim':
        col.refuse('PersistentVolumeClaim', `${field}.persistentVolumeClaim`, `volume ${v.name}: PersistentVolumeClaims are not supported by the bridge`);
        return;
      default:
        col.refuse('UnsupportedVolume', `${field}.${kind}`, `volume ${v.name}: ${ALTERNATIVES[kind] ?? `${kind} volumes are not supported on ECI`}`);
    }
  });
  return out;
}

const PROPAGATION = new Set(['None', 'HostToContainer', 'Bidirectional']);

/** A container's volumeMounts; `declared` holds every volume name in spec.volumes. */
export function translateMounts(
  col: Collector,
  c: Container,
  path: string,
  declared: ReadonlySet<string>,
  literal: Map<string, string>,
): EciVolumeMount[] {
  const out: EciVolumeMount[] = [];
  if (c.volumeDevices?.length) col.refuse('VolumeDevices', `${path}.volumeDevices`, 'raw block devices are not supported on ECI');
  (c.volumeMounts ?? []).forEach((m, i) => {
    const f = `${path}.volumeMounts[${i}]`;
    if (!m || !declared.has(m.name)) {
      col.refuse('UnknownVolume', `${f}.name`, `volume ${m?.name ?? '?'} is not declared in spec.volumes`);
      return;
    }
    const vm: EciVolumeMount = { Name: m.name, MountPath: m.mountPath };
    if (m.readOnly) vm.ReadOnly = true;
    if (m.subPath) vm.SubPath = m.subPath;
    if (m.subPathExpr) {
      const x = expand(m.subPathExpr, literal).value;
      if (/\$\(/.test(x)) {
        col.refuse('InvalidSubPathExpr', `${f}.subPathExpr`, 'subPathExpr references a variable without a literal value');
        return;
      }
      vm.SubPath = x;
    }
    if (m.mountPropagation) {
      if (!PROPAGATION.has(m.mountPropagation)) {
        col.refuse('UnsupportedVolume', `${f}.mountPropagation`, `mountPropagation ${m.mountPropagation} is not valid`);
        return;
      }
      vm.MountPropagation = m.mountPropagation;
    }
    out.push(vm);
  });
  return out;
}
