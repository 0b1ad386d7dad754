/**
 * Admission decisions for the webhooks the watcher serves (eci-profile):
 * - mutate pods: a pod matching a profile selector gets the policy's scheduling fields and the effect;
 * - validate pods: a pod that will run on the virtual node and uses an unsupported feature is refused with the
 *   domain validation's messages and alternatives (so `kubectl apply` fails at once, dry-run included);
 * - validate workloads: the same answer for Deployment / StatefulSet / ReplicaSet / ReplicationController / Job /
 *   CronJob / DaemonSet whose pod template would go to the virtual node;
 * - validate services: a NodePort Service selecting virtual-node pods gets a warning (a node port on the
 *   virtual node reaches nothing) with the LoadBalancer alternative.
 * Written against small injected lookups so it is tested without a server; the HTTPS server is in watcher/.
 */
import type { Pod, PodSpec } from '../domain/k8s.js';
import {
  type JsonPatchOp,
  type Profile,
  pickSelector,
  profilePatch,
  targetsVirtualNode,
  type VirtualNodeIdentity,
} from '../domain/profile.js';

export interface Violation {
  code: string;
  field: string;
  message: string;
  alternative: string;
}

export interface AdmissionDeps {
  vnode: VirtualNodeIdentity;
  /** the current (last good) profile */
  profile(): Profile;
  /** namespaces never touched: kube-system and the bridge's own */
  excludedNamespaces: ReadonlySet<string>;
  namespaceLabels(namespace: string): Promise<Record<string, string>>;
  validatePod(pod: Pod): { violations: Violation[]; warnings: { field: string; message: string }[] };
  /** does any pod on the virtual node in `namespace` match this Service selector? */
  virtualPodsMatch(namespace: string, selector: Record<string, string>): Promise<boolean>;
  /** optional extra admission check for pods headed to the virtual node (e.g. a namespace over its budget) */
  extraPodCheck?(pod: Pod): Promise<{ refuse?: string; warn?: string } | undefined>;
}

/** The subset of AdmissionReview v1 the bridge reads. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  namespace?: string;
  operation: string;
  dryRun?: boolean;
  object?: Record<string, unknown>;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  /** base64 JSON patch */
  patch?: string;
  warnings?: string[];
}

const allow = (uid: string, warnings?: string[]): AdmissionResponse =>
  warnings && warnings.length > 0 ? { uid, allowed: true, warnings } : { uid, allowed: true };

export function formatViolations(subject: string, violations: readonly Violation[]): string {
  const lines = violations.map((v) => `- ${v.field}: ${v.message} (${v.code}). Instead: ${v.alternative}`);
  return `${subject} cannot run on the ECI virtual node:\n${lines.join('\n')}`;
}

/** Would this pod go to the virtual node, and which patch (if any) sends it there? */
async function placement(
  pod: Pod,
  deps: AdmissionDeps,
): Promise<{ virtual: boolean; patch: JsonPatchOp[]; selector?: string }> {
  const ns = pod.metadata.namespace ?? '';
  if (targetsVirtualNode(pod.spec, deps.vnode)) return { virtual: true, patch: [] };
  if (deps.excludedNamespaces.has(ns)) return { virtual: false, patch: [] };
  const picked = pickSelector(deps.profile(), pod.metadata.labels, await deps.namespaceLabels(ns));
  if (!picked.selector) return { virtual: false, patch: [] };
  const patch = profilePatch(pod, picked.selector, deps.vnode);
  // Only virtualNodeOnly guarantees the virtual node; the others let the scheduler choose.
  return { virtual: picked.selector.policy === 'virtualNodeOnly', patch, selector: picked.selector.name };
}

export async function mutatePod(req: AdmissionRequest, deps: AdmissionDeps): Promise<AdmissionResponse> {
  const pod = req.object as unknown as Pod | undefined;
  if (!pod?.spec || req.operation !== 'CREATE') return allow(req.uid);
  pod.metadata = { ...pod.metadata, namespace: pod.metadata?.namespace ?? req.namespace };
  if (deps.excludedNamespaces.has(pod.metadata.namespace ?? '')) return allow(req.uid);
  const { patch } = await placement(pod, deps);
  if (patch.length === 0) return allow(req.uid);
  return {
    uid: req.uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
  };
}

async function checkPod(pod: Pod, subject: string, uid: string, deps: AdmissionDeps): Promise<AdmissionResponse> {
  const { virtual } = await placement(pod, deps);
  if (!virtual) return allow(uid);
  const { violations, warnings } = deps.validatePod(pod);
  if (violations.length > 0) {
    return {
      uid,
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: formatViolations(subject, violations) },
    };
  }
  const warns = warnings.map((w) => `${subject}: ${w.field}: ${w.message}`);
  const extra = deps.extraPodCheck ? await deps.extraPodCheck(pod) : undefined;
  if (extra?.refuse) return { uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: `${subject}: ${extra.refuse}` } };
  if (extra?.warn) warns.push(`${subject}: ${extra.warn}`);
  return allow(uid, warns);
}

export async function validatePodAdmission(req: AdmissionRequest, deps: AdmissionDeps): Promise<AdmissionResponse> {
  const pod = req.object as unknown as Pod | undefined;
  if (!pod?.spec || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return allow(req.uid);
  pod.metadata = { ...pod.metadata, namespace: pod.metadata?.namespace ?? req.namespace };
  return checkPod(pod, `pod ${pod.metadata.namespace}/${pod.metadata.name ?? pod.metadata.generateName ?? ''}`, req.uid, deps);
}

/** Where each workload kind keeps its pod template (deploy/webhook.yaml's workload rules name the same kinds). */
export const WORKLOAD_TEMPLATE: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The pod a workload would create, as the validation sees it (owner recorded so DaemonSet pods are refused). */
export function podFromWorkload(kind: string, obj: Record<string, unknown>, namespace: string): Pod | undefined {
  const path = WORKLOAD_TEMPLATE[kind];
  if (!path) return undefined;
  let cur: unknown = obj;
  for (const k of path) cur = (cur as Record<string, unknown> | undefined)?.[k];
  const tpl = cur as { metadata?: Pod['metadata']; spec?: PodSpec } | undefined;
  if (!tpl?.spec) return undefined;
  const meta = (obj.metadata ?? {}) as Pod['metadata'];
  const ownerKind = kind === 'CronJob' ? 'Job' : kind === 'Deployment' ? 'ReplicaSet' : kind;
  return {
    metadata: {
      ...(tpl.metadata ?? {}),
      name: `${meta.name ?? 'template'}-pod`,
      namespace,
      ownerReferences: [
        { apiVersion: kind === 'ReplicationController' ? 'v1' : 'apps/v1', kind: ownerKind, name: meta.name ?? '', uid: meta.uid ?? 'template' },
      ],
    },
    spec: tpl.spec,
  };
}

export async function validateWorkloadAdmission(req: AdmissionRequest, deps: AdmissionDeps): Promise<AdmissionResponse> {
  if (!req.object || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return allow(req.uid);
  const ns = req.namespace ?? ((req.object.metadata as { namespace?: string } | undefined)?.namespace ?? 'default');
  if (deps.excludedNamespaces.has(ns)) return allow(req.uid);
  const pod = podFromWorkload(req.kind.kind, req.object, ns);
  if (!pod) return allow(req.uid);
  const name = (req.object.metadata as { name?: string } | undefined)?.name ?? '';
  return checkPod(pod, `${req.kind.kind} ${ns}/${name} (pod template)`, req.uid, deps);
}

export async function validateServiceAdmission(req: AdmissionRequest, deps: AdmissionDeps): Promise<AdmissionResponse> {
  const svc = req.object as { metadata?: { name?: string }; spec?: { type?: string; selector?: Record<string, string> } } | undefined;
  if (svc?.spec?.type !== 'NodePort' || !svc.spec.selector || Object.keys(svc.spec.selector).length === 0) {
    return allow(req.uid);
  }
  const ns = req.namespace ?? 'default';
  if (!(await deps.virtualPodsMatch(ns, svc.spec.selector))) return allow(req.uid);
  return allow(req.uid, [
    `Service ${ns}/${svc.metadata?.name ?? ''} of type NodePort selects pods on the ECI virtual node: a node port on ` +
      'the virtual node reaches nothing. Use a Service of type LoadBalancer (or ClusterIP behind an Ingress) instead.',
  ]);
}
