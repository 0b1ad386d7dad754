import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Pod } from '../../../shared/domain/k8s.js';
import type { Profile, VirtualNodeIdentity } from '../../../shared/domain/profile.js';
import {
  type AdmissionDeps,
  type AdmissionRequest,
  mutatePod,
  podFromWorkload,
  validatePodAdmission,
  WORKLOAD_TEMPLATE,
  validateServiceAdmission,
  validateWorkloadAdmission,
} from '../../../shared/usecases/admission.js';

const vnode: VirtualNodeIdentity = {
  nodeName: 'eci-vnode',
  labels: { 'k8s.aliyun.com/vnode': 'true' },
  taint: { key: 'virtual-kubelet.io/provider', value: 'alibabacloud', effect: 'NoSchedule' },
  exclusiveLabels: { 'k8s.aliyun.com/vnode': 'true' },
};

const profile: Profile = {
  selectors: [{ name: 'burst', priority: 0, objectLabels: { matchLabels: { burst: 'true' } }, policy: 'virtualNodeOnly' }],
};

// A stand-in validation with one rule, so these tests exercise the admission flow, not the rules themselves.
function fakeValidate(pod: Pod) {
  const violations = (pod.spec.volumes ?? [])
    .filter((v) => v.hostPath)
    .map((v, i) => ({
      code: 'HostPathVolume',
      field: `spec.volumes[${i}].hostPath`,
      message: `hostPath volume "${v.name}" is not supported`,
      alternative: 'use emptyDir, a disk or NAS',
    }));
  if (pod.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet')) {
    violations.push({ code: 'DaemonSetPod', field: 'metadata.ownerReferences', message: 'DaemonSet pods are not supported', alternative: 'use sidecars' });
  }
  return { violations, warnings: [] };
}

function deps(over: Partial<AdmissionDeps> = {}): AdmissionDeps {
  return {
    vnode,
    profile: () => profile,
    excludedNamespaces: new Set(['kube-system', 'eci-bridge']),
    namespaceLabels: async () => ({}),
    validatePod: fakeValidate,
    virtualPodsMatch: async () => true,
    ...over,
  };
}

const hostPathVol = { name: 'h', hostPath: { path: '/var/log' } };

function req(kind: string, object: unknown, namespace = 'team-a', operation = 'CREATE'): AdmissionRequest {
  return { uid: 'req-1', kind: { group: '', version: 'v1', kind }, namespace, operation, object: object as Record<string, unknown> };
}

describe('mutating pods', () => {
  it('patches a matching pod towards the virtual node', async () => {
    const res = await mutatePod(req('Pod', { metadata: { name: 'p', labels: { burst: 'true' } }, spec: { containers: [] } }), deps());
    assert.equal(res.allowed, true);
    assert.equal(res.patchType, 'JSONPatch');
    const ops = JSON.parse(Buffer.from(res.patch ?? '', 'base64').toString()) as { path: string }[];
    assert.ok(ops.some((o) => o.path === '/spec/nodeSelector'));
  });
  it('leaves a pod matching nothing untouched', async () => {
    const res = await mutatePod(req('Pod', { metadata: { name: 'p' }, spec: { containers: [] } }), deps());
    assert.deepEqual(res, { uid: 'req-1', allowed: true });
  });
  it('never mutates pods in excluded namespaces', async () => {
    const res = await mutatePod(req('Pod', { metadata: { name: 'p', labels: { burst: 'true' } }, spec: { containers: [] } }, 'kube-system'), deps());
    assert.equal(res.patch, undefined);
  });
});

describe('validating pods', () => {
  it('refuses a hostPath pod bound to the virtual node with message and alternative', async () => {
    const pod = { metadata: { name: 'p' }, spec: { nodeName: 'eci-vnode', containers: [], volumes: [hostPathVol] } };
    const res = await validatePodAdmission(req('Pod', pod), deps());
    assert.equal(res.allowed, false);
    assert.equal(res.status?.code, 403);
    assert.match(res.status?.message ?? '', /hostPath volume "h" is not supported .*HostPathVolume.*Instead: use emptyDir/);
  });
  it('refuses a hostPath pod that a virtualNodeOnly profile sends to the virtual node', async () => {
    const pod = { metadata: { name: 'p', labels: { burst: 'true' } }, spec: { containers: [], volumes: [hostPathVol] } };
    assert.equal((await validatePodAdmission(req('Pod', pod), deps())).allowed, false);
  });
  it('allows the same pod when it is headed for a real node', async () => {
    const pod = { metadata: { name: 'p' }, spec: { nodeName: 'worker-1', containers: [], volumes: [hostPathVol] } };
    assert.equal((await validatePodAdmission(req('Pod', pod), deps())).allowed, true);
  });
  it('applies the extra check (budget) only to virtual-node pods', async () => {
    const d = deps({ extraPodCheck: async () => ({ refuse: 'namespace team-a is over its monthly ECI budget' }) });
    const onVnode = await validatePodAdmission(req('Pod', { metadata: { name: 'p' }, spec: { nodeName: 'eci-vnode', containers: [] } }), d);
    assert.equal(onVnode.allowed, false);
    assert.match(onVnode.status?.message ?? '', /over its monthly ECI budget/);
    const elsewhere = await validatePodAdmission(req('Pod', { metadata: { name: 'p' }, spec: { containers: [] } }), d);
    assert.equal(elsewhere.allowed, true);
  });
});

describe('validating workloads', () => {
  const template = (spec: Record<string, unknown>) => ({ metadata: { labels: { burst: 'true' } }, spec });
  it('refuses a Deployment whose template would run on the virtual node with a hostPath volume', async () => {
    const dep = { metadata: { name: 'web' }, spec: { template: template({ containers: [], volumes: [hostPathVol] }) } };
    const res = await validateWorkloadAdmission(req('Deployment', dep), deps());
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /^Deployment team-a\/web \(pod template\) cannot run/);
  });
  it('refuses a ReplicationController whose template would run on the virtual node with a hostPath volume', async () => {
    const rc = { metadata: { name: 'legacy' }, spec: { template: template({ containers: [], volumes: [hostPathVol] }) } };
    const res = await validateWorkloadAdmission(req('ReplicationController', rc), deps());
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /^ReplicationController team-a\/legacy \(pod template\) cannot run/);
    assert.deepEqual(podFromWorkload('ReplicationController', rc, 'ns')?.metadata.ownerReferences?.[0]?.kind, 'ReplicationController');
  });
  it('deploy/webhook.yaml sends every workload kind the code reads a template of (and no other)', () => {
    const plural: Record<string, string> = {
      Deployment: 'apps/deployments',
      StatefulSet: 'apps/statefulsets',
      ReplicaSet: 'apps/replicasets',
      ReplicationController: '/replicationcontrollers',
      DaemonSet: 'apps/daemonsets',
      Job: 'batch/jobs',
      CronJob: 'batch/cronjobs',
    };
    const file = join(import.meta.dirname, '..', '..', '..', 'deploy', 'webhook.yaml');
    type Rule = { apiGroups: string[]; resources: string[] };
    const hooks = parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJSON() as { webhooks?: { name: string; rules: Rule[] }[] })
      .flatMap((d) => d.webhooks ?? []);
    const rules = hooks.find((h) => h.name === 'validate-workloads.eci-bridge.io')?.rules ?? [];
    const served = rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((x) => `${g}/${x}`))).sort();
    assert.deepEqual(served, Object.keys(WORKLOAD_TEMPLATE).map((k) => plural[k] ?? `?${k}`).sort());
  });
  it('reaches a CronJob template two levels down', () => {
    const cj = { metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: template({ containers: [{ name: 'x' }] }) } } } };
    assert.equal(podFromWorkload('CronJob', cj, 'ns')?.spec.containers[0]?.name, 'x');
  });
  it('refuses a DaemonSet aimed at the virtual node', async () => {
    const ds = { metadata: { name: 'agent' }, spec: { template: { spec: { nodeSelector: { 'k8s.aliyun.com/vnode': 'true' }, containers: [] } } } };
    const res = await validateWorkloadAdmission(req('DaemonSet', ds), deps());
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /DaemonSetPod/);
  });
});

describe('validating services', () => {
  it('warns about a NodePort Service selecting virtual-node pods', async () => {
    const svc = { metadata: { name: 's' }, spec: { type: 'NodePort', selector: { app: 'web' } } };
    const res = await validateServiceAdmission(req('Service', svc), deps());
    assert.equal(res.allowed, true);
    assert.match(res.warnings?.[0] ?? '', /LoadBalancer/);
  });
  it('says nothing when no virtual-node pod matches', async () => {
    const svc = { metadata: { name: 's' }, spec: { type: 'NodePort', selector: { app: 'web' } } };
    const res = await validateServiceAdmission(req('Service', svc), deps({ virtualPodsMatch: async () => false }));
    assert.equal(res.warnings, undefined);
  });
});
