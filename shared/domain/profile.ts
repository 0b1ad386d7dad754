/**
 * eci-profile: which pods go to the virtual node automatically, and what they get. The self-managed flavour
 * (aliyuneci/eci-profile's Selector: namespaceLabels, objectLabels, effect, policy, priority) read from a
 * ConfigMap key `selectors` (YAML or JSON list) and hot-reloaded by the watcher. Pure: matching and the
 * JSON patch the mutating webhook returns.
 */
import { z } from 'zod';
import type { Pod, PodSpec, Toleration } from './k8s.js';

const LabelSelectorRequirement = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});

export const LabelSelectorSchema = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(LabelSelectorRequirement).optional(),
  })
  .superRefine((sel, ctx) => {
    for (const [i, e] of (sel.matchExpressions ?? []).entries()) {
      const needsValues = e.operator === 'In' || e.operator === 'NotIn';
      if (needsValues && !(e.values && e.values.length > 0)) {
        ctx.addIssue({ code: 'custom', path: ['matchExpressions', i, 'values'], message: `${e.operator} needs values` });
      }
      if (!needsValues && e.values && e.values.length > 0) {
        ctx.addIssue({ code: 'custom', path: ['matchExpressions', i, 'values'], message: `${e.operator} takes no values` });
      }
    }
  });
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

export const ProfilePolicySchema = z.enum(['virtualNodeOnly', 'normalNodePrefer', 'fair', 'normalNodeOnly']);
export type ProfilePolicy = z.infer<typeof ProfilePolicySchema>;

export const SelectorSchema = z.strictObject({
  name: z.string().min(1).max(63),
  /** higher wins when several selectors match; ties keep the order of the list */
  priority: z.number().int().default(0),
  namespaceLabels: LabelSelectorSchema.optional(),
  objectLabels: LabelSelectorSchema.optional(),
  effect: z
    .strictObject({
      annotations: z.record(z.string(), z.string()).optional(),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  policy: ProfilePolicySchema.default('virtualNodeOnly'),
});
export type Selector = z.infer<typeof SelectorSchema>;

export const ProfileSchema = z.strictObject({
  selectors: z.array(SelectorSchema).max(100).default([]),
});
export type Profile = z.infer<typeof ProfileSchema>;

/** Pods or namespaces carrying this label with value "disabled" are never mutated. */
export const PROFILE_OPT_OUT_LABEL = 'eci-bridge.io/profile';
/** Set on pods the mutating webhook changed: which selector matched. */
export const PROFILE_MATCHED_ANNOTATION = 'eci-bridge.io/profile-selector';

/** How the virtual node is told apart from real nodes: the labels and taint it carries. */
export interface VirtualNodeIdentity {
  nodeName: string;
  labels: Record<string, string>;
  taint: { key: string; value: string; effect: string };
  /** labels no real node carries: a nodeSelector on any of them targets the virtual node */
  exclusiveLabels: Record<string, string>;
}

export function matchesLabelSelector(sel: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const val = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(val as string)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(val as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** The selector that applies to a pod, or why none does. */
export function pickSelector(
  profile: Profile,
  podLabels: Record<string, string> | undefined,
  nsLabels: Record<string, string> | undefined,
): { selector: Selector } | { selector: undefined; why: string } {
  if (podLabels?.[PROFILE_OPT_OUT_LABEL] === 'disabled') return { selector: undefined, why: 'pod opted out' };
  if (nsLabels?.[PROFILE_OPT_OUT_LABEL] === 'disabled') return { selector: undefined, why: 'namespace opted out' };
  let best: Selector | undefined;
  for (const s of profile.selectors) {
    if (!s.namespaceLabels && !s.objectLabels) continue; // a selector must select something
    if (!matchesLabelSelector(s.namespaceLabels, nsLabels) || !matchesLabelSelector(s.objectLabels, podLabels)) continue;
    if (!best || s.priority > best.priority) best = s;
  }
  return best ? { selector: best } : { selector: undefined, why: 'no selector matches' };
}

export type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown };

const esc = (k: string): string => k.replaceAll('~', '~0').replaceAll('/', '~1');

function tolerates(tols: Toleration[] | undefined, taint: VirtualNodeIdentity['taint']): boolean {
  return (tols ?? []).some(
    (t) =>
      (t.operator === 'Exists' && (!t.key || t.key === taint.key)) ||
      (t.key === taint.key && (t.operator ?? 'Equal') === 'Equal' && t.value === taint.value),
  );
}

/**
 * The JSON patch for a matched pod: the effect's annotations and labels (never overwriting the pod's own),
 * the matched-selector annotation, and the scheduling policy:
 * - virtualNodeOnly: toleration + nodeSelector on the virtual node's exclusive labels;
 * - normalNodePrefer: toleration + a preferred node affinity for nodes that are NOT virtual, so the scheduler
 *   spills over to the virtual node only when real nodes are full;
 * - fair: toleration only (the scheduler decides);
 * - normalNodeOnly: nothing about scheduling (the effect only).
 */
export function profilePatch(pod: Pod, selector: Selector, vnode: VirtualNodeIdentity): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  const meta = pod.metadata;
  const addMap = (field: 'annotations' | 'labels', entries: Record<string, string>): void => {
    const existing = meta[field];
    const fresh = Object.entries(entries).filter(([k]) => !existing || !Object.hasOwn(existing, k));
    if (fresh.length === 0) return;
    if (!existing) {
      ops.push({ op: 'add', path: `/metadata/${field}`, value: Object.fromEntries(fresh) });
    } else {
      for (const [k, v] of fresh) ops.push({ op: 'add', path: `/metadata/${field}/${esc(k)}`, value: v });
    }
  };
  addMap('annotations', { ...(selector.effect?.annotations ?? {}), [PROFILE_MATCHED_ANNOTATION]: selector.name });
  addMap('labels', selector.effect?.labels ?? {});

  const spec: PodSpec = pod.spec;
  if (selector.policy === 'normalNodeOnly') return ops;
  if (!tolerates(spec.tolerations, vnode.taint)) {
    const tol: Toleration = { key: vnode.taint.key, operator: 'Equal', value: vnode.taint.value, effect: vnode.taint.effect };
    if (spec.tolerations) ops.push({ op: 'add', path: '/spec/tolerations/-', value: tol });
    else ops.push({ op: 'add', path: '/spec/tolerations', value: [tol] });
  }
  if (selector.policy === 'virtualNodeOnly') {
    const ns = { ...(spec.nodeSelector ?? {}), ...vnode.exclusiveLabels };
    ops.push({ op: spec.nodeSelector ? 'replace' : 'add', path: '/spec/nodeSelector', value: ns });
  } else if (selector.policy === 'normalNodePrefer') {
    const [key, value] = Object.entries(vnode.exclusiveLabels)[0] ?? ['type', 'virtual-kubelet'];
    const term = {
      weight: 100,
      preference: { matchExpressions: [{ key, operator: 'NotIn', values: [value] }] },
    };
    const affinity = (spec.affinity ?? {}) as Record<string, unknown>;
    const nodeAff = (affinity.nodeAffinity ?? {}) as Record<string, unknown>;
    const preferred = (nodeAff.preferredDuringSchedulingIgnoredDuringExecution ?? []) as unknown[];
    ops.push({
      op: spec.affinity ? 'replace' : 'add',
      path: '/spec/affinity',
      value: { ...affinity, nodeAffinity: { ...nodeAff, preferredDuringSchedulingIgnoredDuringExecution: [...preferred, term] } },
    });
  }
  return ops;
}

interface NodeSelectorTermLike {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  matchFields?: { key: string; operator: string; values?: string[] }[];
}

/**
 * Will this pod run on the virtual node? True when nodeName names it, when the nodeSelector asks for one of its
 * exclusive labels, or when every required node-affinity term can only be met by it. (A profile match with a
 * scheduling policy is decided separately by the webhook.)
 */
export function targetsVirtualNode(spec: PodSpec, vnode: VirtualNodeIdentity): boolean {
  if (spec.nodeName) return spec.nodeName === vnode.nodeName;
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (vnode.exclusiveLabels[k] === v) return true;
  const aff = spec.affinity as
    | { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTermLike[] } } }
    | undefined;
  const terms = aff?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return false;
  return terms.every((t) =>
    [...(t.matchExpressions ?? []), ...(t.matchFields ?? [])].some(
      (e) =>
        e.operator === 'In' &&
        (e.values ?? []).length > 0 &&
        (e.values ?? []).every((v) => vnode.exclusiveLabels[e.key] === v || (e.key === 'metadata.name' && v === vnode.nodeName)),
    ),
  );
}

/** Parses the ConfigMap data (key `selectors`, YAML already parsed to a value, or JSON text) into a Profile. */
export function parseProfile(selectors: unknown): { ok: true; profile: Profile } | { ok: false; error: string } {
  let value = selectors;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { ok: false, error: 'selectors is not valid JSON' };
    }
  }
  const res = ProfileSchema.safeParse({ selectors: value });
  if (!res.success) return { ok: false, error: z.prettifyError(res.error) };
  const names = new Set<string>();
  for (const s of res.data.selectors) {
    if (names.has(s.name)) return { ok: false, error: `duplicate selector name "${s.name}"` };
    names.add(s.name);
  }
  return { ok: true, profile: res.data };
}
