/**
 * Pod campaign: arbitrary and hostile pod specs through podReferences, validatePod, translatePod and redactRequest.
 * Every case must end in one of two typed outcomes:
 * - `translated`: a request within ECI's documented limits, checked here independently of the translator
 *   (eciLimitProblems), with no secret left after redaction;
 * - `refused`: violations, each with a non-empty code, field, message and alternative, none quoting a secret.
 * Anything else — a throw, a third shape, a request out of limits, a leaked secret, a polluted Object.prototype — is a
 * crash. `refused` is split in the details into refusals with reasons and `InvalidPod at spec` (the translator's
 * catch-all for an exception it swallowed), so a hidden exception stays visible.
 */
import fc from 'fast-check';
import type { EciCreateRequest } from '../../shared/domain/eci.js';
import type { Pod, Secret } from '../../shared/domain/k8s.js';
import { podReferences } from '../../shared/domain/references.js';
import { redactRequest, type TranslateContext, type TranslateResult, translatePod } from '../../shared/domain/translate.js';
import { validatePod } from '../../shared/domain/validate.js';
import { podArb } from '../unit/domain/arbitraries.js';
import { baseCtx } from '../unit/domain/helpers.js';
import { hostileString, mutations, mutate, oddStrings, prototypePolluted } from './hostile.js';
import { type CampaignResult, count, crash, describe, guarded, newResult } from './report.js';

/** The secret value planted in the resolved Secrets: it must never appear in a violation, warning or redacted request. */
export const SECRET_MARKER = 'FUZZ-S3CRET-7f1c2e';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const SECRET_FORMS = [SECRET_MARKER, b64(SECRET_MARKER)];

const secrets = new Map<string, Secret>([
  ['fuzz-secret', { metadata: { name: 'fuzz-secret', namespace: 'default' }, data: { password: b64(SECRET_MARKER) } }],
  [
    'fuzz-pull',
    {
      metadata: { name: 'fuzz-pull', namespace: 'default' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'reg.example.com': { username: 'u', password: SECRET_MARKER } } })) },
    },
  ],
]);

/** The unit tests' translation context (test/unit/domain/helpers.ts) with the fuzz names and the secrets above. */
export const FUZZ_CONTEXT: TranslateContext = baseCtx({ clusterName: 'fuzz-cluster', vnodeName: 'fuzz-vnode', secrets });

const NAME_LENGTHS = [1, 2, 63, 64, 128, 129, 253, 254];

/** Pods at ECI's edges: 18-23 containers, volumes and tags, names at every length boundary. */
const edgePod: fc.Arbitrary<unknown> = fc
  .record({
    containers: fc.integer({ min: 1, max: 23 }),
    inits: fc.integer({ min: 0, max: 22 }),
    volumes: fc.integer({ min: 0, max: 23 }),
    tags: fc.integer({ min: 0, max: 25 }),
    nameLen: fc.constantFrom(...NAME_LENGTHS),
    nsLen: fc.constantFrom(1, 2, 63, 64),
    name: fc.oneof(fc.constant(''), fc.constantFrom('a', 'b-', '-b', 'a.b', 'A')),
    uid: fc.oneof(fc.uuid(), oddStrings),
    cpu: fc.constantFrom('100m', '1', '64', '65', '1e309', '999999999Ei', '-1', '0'),
    memory: fc.constantFrom('512Mi', '4Gi', '1Ei', '999999999Ei', '-1', '0', '1e309'),
  })
  .map((p) => {
    const name = p.name === '' ? '' : `${p.name[0] ?? 'a'}${'a'.repeat(Math.max(0, p.nameLen - 1))}`;
    const tagList = Array.from({ length: p.tags }, (_, i) => `team${i}:v${i}`).join(',');
    return {
      metadata: {
        name,
        namespace: 'n'.repeat(p.nsLen),
        uid: p.uid,
        ...(p.tags ? { annotations: { 'k8s.aliyun.com/eci-custom-tags': tagList } } : {}),
      },
      spec: {
        containers: Array.from({ length: p.containers }, (_, i) => ({
          name: `c${i}`,
          image: 'nginx',
          ...(i === 0 ? { resources: { limits: { cpu: p.cpu, memory: p.memory } } } : {}),
        })),
        ...(p.inits ? { initContainers: Array.from({ length: p.inits }, (_, i) => ({ name: `i${i}`, image: 'busybox' })) } : {}),
        volumes: Array.from({ length: p.volumes }, (_, i) => ({ name: `v${i}`, emptyDir: {} })),
      },
    };
  });

/** Adds references to the planted Secrets, so redaction and secret-free messages are exercised. */
function withSecrets(pod: unknown): unknown {
  const p = pod as { spec?: { containers?: unknown; volumes?: unknown; imagePullSecrets?: unknown } };
  if (!p || typeof p !== 'object' || !p.spec || typeof p.spec !== 'object') return pod;
  const spec = p.spec;
  const c0 = Array.isArray(spec.containers) ? (spec.containers[0] as Record<string, unknown> | undefined) : undefined;
  if (c0 && typeof c0 === 'object') {
    const env = Array.isArray(c0.env) ? c0.env : [];
    c0.env = [...env, { name: 'FUZZ_SECRET', valueFrom: { secretKeyRef: { name: 'fuzz-secret', key: 'password' } } }];
    c0.command = ['sh', '-c', 'echo $(FUZZ_SECRET)'];
  }
  if (Array.isArray(spec.volumes) && spec.volumes.length < 20) spec.volumes.push({ name: 'fuzz-sv', secret: { secretName: 'fuzz-secret' } });
  spec.imagePullSecrets = [{ name: 'fuzz-pull' }];
  return pod;
}

export interface PodCase {
  pod: unknown;
  offline: 'placeholder' | 'strict' | undefined;
}

export const podCaseArb: fc.Arbitrary<PodCase> = fc
  .record({
    base: fc.oneof({ weight: 4, arbitrary: podArb }, { weight: 2, arbitrary: edgePod }),
    muts: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: mutations }),
    secretful: fc.boolean(),
    offline: fc.constantFrom<PodCase['offline']>(undefined, 'placeholder', 'strict'),
    wholeWild: fc.oneof({ weight: 20, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileString }),
  })
  .map(({ base, muts, secretful, offline, wholeWild }) => {
    // mutations go in after the secret references, so they can break those too
    const pod = wholeWild !== undefined ? wholeWild : mutate(secretful ? withSecrets(base) : base, muts);
    return { pod, offline };
  });

const GROUP_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Every number anywhere in the request is finite (JSON would silently turn NaN and Infinity into null). */
function nonFinite(v: unknown): boolean {
  const stack: unknown[] = [v];
  while (stack.length) {
    const x = stack.pop();
    if (typeof x === 'number' && !Number.isFinite(x)) return true;
    if (x && typeof x === 'object') for (const k of Object.keys(x)) stack.push((x as Record<string, unknown>)[k]);
  }
  return false;
}

/** ECI's documented limits for CreateContainerGroup (ECI API reference and limits, docs/architecture.md#sources), checked without the translator's code. */
export function eciLimitProblems(req: EciCreateRequest): string[] {
  const bad: string[] = [];
  const name = req.ContainerGroupName;
  if (typeof name !== 'string' || name.length < 2 || name.length > 128 || !GROUP_NAME.test(name)) bad.push('ContainerGroupName');
  if (typeof req.RegionId !== 'string' || req.RegionId === '') bad.push('RegionId');
  if (!Array.isArray(req.Container) || req.Container.length < 1 || req.Container.length > 20) bad.push('Container count');
  if ((req.InitContainer ?? []).length > 20) bad.push('InitContainer count');
  if ((req.Volume ?? []).length > 20) bad.push('Volume count');
  const tags = req.Tag ?? [];
  if (tags.length > 20) bad.push('Tag count');
  const keys = new Set<string>();
  for (const t of tags) {
    if (typeof t.Key !== 'string' || t.Key.length < 1 || t.Key.length > 128) bad.push('Tag key length');
    else if (/^(aliyun|acs:)/i.test(t.Key) || /https?:\/\//i.test(t.Key)) bad.push('Tag key prefix');
    if (typeof t.Value !== 'string' || t.Value.length > 128) bad.push('Tag value length');
    else if (/^acs:/i.test(t.Value) || /https?:\/\//i.test(t.Value)) bad.push('Tag value prefix');
    if (keys.has(t.Key)) bad.push('duplicate Tag key');
    keys.add(t.Key);
  }
  if (req.ClientToken !== undefined && (typeof req.ClientToken !== 'string' || req.ClientToken.length > 64 || !/^[\x21-\x7e]+$/.test(req.ClientToken))) {
    bad.push('ClientToken');
  }
  for (const c of [...(req.Container ?? []), ...(req.InitContainer ?? [])]) {
    if (!c || typeof c !== 'object') {
      bad.push('container not an object');
      continue;
    }
    if (typeof c.Name !== 'string' || c.Name === '' || typeof c.Image !== 'string' || c.Image === '') bad.push('container Name/Image');
    for (const p of c.Port ?? []) if (!Number.isInteger(p.Port) || p.Port < 1 || p.Port > 65535) bad.push('container Port');
    if (c.Cpu !== undefined && !(c.Cpu >= 0 && c.Cpu <= 64)) bad.push('container Cpu');
    if (c.Memory !== undefined && !(c.Memory >= 0)) bad.push('container Memory');
  }
  if (req.Cpu !== undefined && !(req.Cpu > 0 && req.Cpu <= 64)) bad.push('Cpu');
  if (req.Memory !== undefined && !(req.Memory > 0)) bad.push('Memory');
  if (req.EphemeralStorage !== undefined && !(typeof req.EphemeralStorage === 'number' && req.EphemeralStorage >= 0)) bad.push('EphemeralStorage');
  if (nonFinite(req)) bad.push('non-finite number');
  return [...new Set(bad)];
}

function leaksSecret(v: unknown): boolean {
  let text: string;
  try {
    text = JSON.stringify(v) ?? '';
  } catch {
    return false;
  }
  return SECRET_FORMS.some((s) => text.includes(s));
}

function isNonEmptyString(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0;
}

/** One case; returns its outcome class, or a problem description (a crash). */
function runPodCase(c: PodCase, r: CampaignResult): { outcome: 'translated' | 'refused' } | { problem: string } {
  const pod = c.pod as Pod;
  let refs: ReturnType<typeof podReferences>;
  try {
    refs = podReferences(pod);
  } catch (err) {
    return { problem: `podReferences threw ${describe(err)}` };
  }
  for (const list of [refs.configMaps, refs.secrets, refs.imagePullSecrets]) {
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) return { problem: 'podReferences returned a non-string name' };
  }
  try {
    const v = validatePod(pod);
    if (!Array.isArray(v.violations) || !Array.isArray(v.warnings)) return { problem: 'validatePod returned no arrays' };
    if (leaksSecret(v)) return { problem: 'validatePod output quotes a secret' };
  } catch (err) {
    return { problem: `validatePod threw ${describe(err)}` };
  }
  let res: TranslateResult;
  try {
    res = translatePod(pod, { ...FUZZ_CONTEXT, ...(c.offline ? { offline: c.offline } : {}) });
  } catch (err) {
    return { problem: `translatePod threw ${describe(err)}` };
  }
  if (prototypePolluted()) return { problem: 'Object.prototype was polluted' };
  if (leaksSecret(res.warnings)) return { problem: 'a warning quotes a secret' };
  if (res.ok === true) {
    const bad = eciLimitProblems(res.request);
    if (bad.length) return { problem: `translated request out of ECI limits: ${bad.join(', ')}` };
    let redacted: EciCreateRequest;
    try {
      redacted = redactRequest(res.request);
    } catch (err) {
      return { problem: `redactRequest threw ${describe(err)}` };
    }
    if (leaksSecret(redacted)) return { problem: 'the redacted request still holds a secret' };
    return { outcome: 'translated' };
  }
  if (res.ok === false && Array.isArray(res.violations) && res.violations.length > 0) {
    for (const v of res.violations) {
      if (!isNonEmptyString(v.code) || !isNonEmptyString(v.field) || !isNonEmptyString(v.message) || !isNonEmptyString(v.alternative)) {
        return { problem: `a violation lacks code/field/message/alternative (${String(v.code)})` };
      }
    }
    if (leaksSecret(res.violations)) return { problem: 'a violation quotes a secret' };
    const swallowed = res.violations.length === 1 && res.violations[0]?.code === 'InvalidPod' && res.violations[0]?.field === 'spec';
    count(r.details, swallowed ? 'refused: exception swallowed (InvalidPod at spec)' : 'refused: with reasons');
    for (const code of new Set(res.violations.map((v) => v.code))) count(r.details, `violation ${code}`);
    return { outcome: 'refused' };
  }
  return { problem: 'translatePod returned neither a request nor violations' };
}

export const POD_OUTCOMES = ['translated', 'refused'] as const;

/** Runs `runs` pod cases from `seed`, in chunks (big hostile values never pile up in memory). */
export async function podCampaign(opts: { seed: number; runs: number }): Promise<CampaignResult> {
  const r = newResult('pods', opts.seed);
  await guarded(r, async () => {
    const chunk = 100;
    for (let start = 0; start < opts.runs; start += chunk) {
      const cases = fc.sample(podCaseArb, { seed: opts.seed + start, numRuns: Math.min(chunk, opts.runs - start) });
      for (const [i, c] of cases.entries()) {
        const index = start + i;
        let out: ReturnType<typeof runPodCase>;
        try {
          out = runPodCase(c, r);
        } catch (err) {
          out = { problem: `the case itself threw ${describe(err)}` };
        }
        r.runs++;
        if ('problem' in out) {
          count(r.outcomes, 'crash');
          crash(r, index, out.problem);
        } else count(r.outcomes, out.outcome);
      }
      // let timers and rejections of this chunk surface
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
  return r;
}
