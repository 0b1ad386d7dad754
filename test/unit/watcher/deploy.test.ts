/**
 * deploy/ against the watcher: RBAC grants exactly what the watcher calls, the Deployment runs 2 replicas with
 * probes on the paths the watcher serves, and every env name exists in the config schema.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { imagePlaceholders, placeholdersIn, renderPlaceholders } from '../../../scripts/lib/placeholders.js';
import { ConfigError, ConfigSchema, parseConfig } from '../../../shared/domain/config.js';
import { buildNode } from '../../../watcher/node.js';
import { HEALTH_PATHS } from '../../../watcher/http.js';
import { NODE_LEASE_NAMESPACE } from '../../../watcher/nodeLease.js';
import { WATCHER_PERMISSIONS } from '../../../watcher/permissions.js';

const root = join(import.meta.dirname, '..', '..', '..');
const deployDir = join(root, 'deploy');
type Doc = { kind?: string; metadata?: { name?: string; namespace?: string }; [k: string]: unknown };
type Rule = { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs?: string[] };

function docsOf(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(deployDir, file), 'utf8')).map((d) => d.toJSON() as Doc);
}
const all = readdirSync(deployDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => docsOf(f).map((d) => ({ file: f, doc: d })));
const SA = 'eci-bridge-watcher';
const cmData = (all.find((x) => x.doc.kind === 'ConfigMap' && x.doc.metadata?.name === SA)?.doc.data ?? {}) as Record<string, string>;
const SAMPLE = { REGION: 'cn-hangzhou', ACCOUNT_ID: '1234567890' };
const config = parseConfig(Object.fromEntries(Object.entries(cmData).map(([k, v]) => [k, renderPlaceholders(v, SAMPLE)])));
type Expr = { key: string; operator: string; values?: string[] };
const deployment = all.find((x) => x.doc.kind === 'Deployment' && x.doc.metadata?.name === SA)?.doc as {
  spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
};
const podSpec = deployment.spec.template.spec;
/** Whether the Deployment's required node affinity lets the watcher onto a node with these labels (terms OR, expressions AND). */
function schedulableOn(labels: Record<string, string>): boolean {
  const terms = (podSpec as unknown as { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchExpressions: Expr[] }[] } } } })
    .affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
  const holds = (e: Expr): boolean => {
    const v = labels[e.key];
    if (e.operator === 'NotIn') return v === undefined || !(e.values ?? []).includes(v);
    if (e.operator === 'In') return v !== undefined && (e.values ?? []).includes(v);
    if (e.operator === 'DoesNotExist') return v === undefined;
    if (e.operator === 'Exists') return v !== undefined;
    throw new Error(`operator ${e.operator}`);
  };
  return terms.some((t) => t.matchExpressions.every(holds));
}

/** All (scope, apiGroup, resource, verb) grants bound to the watcher's ServiceAccount. */
function watcherGrants(): Set<string> {
  const grants = new Set<string>();
  const bindings = all
    .map((x) => x.doc)
    .filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding')
    .filter((d) => (d.subjects as { kind: string; name: string }[]).some((s) => s.kind === 'ServiceAccount' && s.name === SA));
  for (const b of bindings) {
    const ref = b.roleRef as { kind: string; name: string };
    const role = all.map((x) => x.doc).find((d) => d.kind === ref.kind && d.metadata?.name === ref.name && (ref.kind === 'ClusterRole' || d.metadata?.namespace === b.metadata?.namespace));
    assert.ok(role, `role ${ref.kind}/${ref.name} exists`);
    const scope = b.kind === 'ClusterRoleBinding' ? 'cluster' : b.metadata?.namespace === NODE_LEASE_NAMESPACE ? 'kube-node-lease' : b.metadata?.namespace === config.BRIDGE_NAMESPACE ? 'bridge' : b.metadata?.namespace === config.KUBELET_LOG_ARCHIVE_NAMESPACE ? 'log-archive' : `ns:${b.metadata?.namespace}`;
    for (const r of role.rules as Rule[]) {
      for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs ?? []) grants.add(`${scope} ${g}/${res} ${v}`);
    }
  }
  return grants;
}

describe('deploy/', () => {
  it('grants the watcher exactly the verbs it uses, nothing more', () => {
    const want = new Set(WATCHER_PERMISSIONS.flatMap((p) => p.verbs.map((v) => `${p.scope} ${p.apiGroup}/${p.resource} ${v}`)));
    assert.deepEqual([...watcherGrants()].sort(), [...want].sort());
  });

  it('lists every Cluster method the watcher calls in its permissions', () => {
    const used = new Set<string>();
    const sources = readdirSync(join(root, 'watcher'), { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.ts'));
    for (const f of sources) {
      const src = readFileSync(join(root, 'watcher', f), 'utf8');
      for (const m of src.matchAll(/(?:cluster|support)\.(\w+)\(/g)) if (m[1]) used.add(m[1]);
    }
    assert.ok(used.size > 0);
    const mapped = new Set(WATCHER_PERMISSIONS.map((p) => p.method));
    assert.deepEqual([...used].filter((m) => !mapped.has(m)), []);
    assert.deepEqual([...mapped].filter((m) => !used.has(m)), []);
  });

  it('limits named rules to the configured node and lease names', () => {
    const names = new Set<string>();
    for (const { doc } of all) {
      if (doc.kind !== 'Role' && doc.kind !== 'ClusterRole') continue;
      if (!doc.metadata?.name?.startsWith(SA)) continue;
      for (const r of doc.rules as Rule[]) for (const n of r.resourceNames ?? []) names.add(n);
    }
    const v = config.VNODE_NAME;
    const webhook = [config.PROFILE_CONFIGMAP, 'eci-bridge-budgets', config.WEBHOOK_TLS_SECRET, config.WEBHOOK_CONFIG_NAME];
    assert.deepEqual([...names].sort(), [v, `${v}-watcher-checkpoint`, `${v}-watcher-leader`, 'eci-bridge-functions', ...webhook].sort());
  });

  it('runs 2 replicas with probes on the watcher paths, downward-API POD_IP/POD_NAME and known env names', () => {
    const dep = all.find((x) => x.doc.kind === 'Deployment' && x.doc.metadata?.name === SA)?.doc as {
      spec: { replicas: number; template: { spec: { serviceAccountName: string; containers: Record<string, unknown>[] } } };
    };
    assert.equal(dep.spec.replicas, 2);
    assert.equal(dep.spec.template.spec.serviceAccountName, SA);
    const c = dep.spec.template.spec.containers[0] as {
      livenessProbe: { httpGet: { path: string } };
      readinessProbe: { httpGet: { path: string } };
      env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
      ports: { containerPort: number }[];
      resources: { requests: { cpu: string; memory: string } };
    };
    assert.equal(c.livenessProbe.httpGet.path, HEALTH_PATHS.healthz);
    assert.equal(c.readinessProbe.httpGet.path, HEALTH_PATHS.readyz);
    assert.equal(c.ports[0]?.containerPort, config.WATCHER_HTTP_PORT);
    assert.equal(c.env.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
    assert.equal(c.env.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory);
    const known = new Set(Object.keys(ConfigSchema.shape));
    const cm = all.find((x) => x.doc.kind === 'ConfigMap' && x.doc.metadata?.name === SA)?.doc.data as Record<string, string>;
    const names = [...Object.keys(cm), ...c.env.map((e) => e.name).filter((n) => n !== 'NODE_OPTIONS')];
    assert.deepEqual(names.filter((n) => !known.has(n)), []);
  });

  it('lists every manifest in the kustomization', () => {
    const k = docsOf('kustomization.yaml')[0] as { resources: string[] };
    const files = readdirSync(deployDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    for (const f of ['namespace.yaml', 'rbac.yaml', 'configmap.yaml', 'watcher.yaml']) assert.ok(k.resources.includes(f), f);
    for (const r of k.resources) assert.ok(files.includes(r), `${r} exists`);
  });

  it('keeps the watcher off its own virtual node whatever VNODE_LABELS and VNODE_TAINT say, but lets it on a real node', () => {
    const healthy = { healthy: true, reason: 'Ok', message: '' };
    const hostile = [
      '',
      'type=worker,k8s.aliyun.com/vnode=false,kubernetes.io/hostname=node-1,kubernetes.io/role=worker',
      'type=,k8s.aliyun.com/vnode=',
    ];
    for (const labels of hostile) {
      for (const taint of ['none', config.VNODE_TAINT]) {
        const node = buildNode({ ...config, VNODE_LABELS: labels, VNODE_TAINT: taint }, healthy, 0);
        assert.equal(schedulableOn(node.metadata.labels ?? {}), false, `VNODE_LABELS=${labels} VNODE_TAINT=${taint}`);
        if (taint === 'none') assert.deepEqual(node.spec?.taints ?? [], []);
      }
    }
    assert.equal(schedulableOn({ 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux' }), true);
    // a renamed virtual node is still excluded by its other labels; the hostname term must follow VNODE_NAME
    const exprs = JSON.stringify(podSpec.affinity);
    assert.ok(exprs.includes(`"${config.VNODE_NAME}"`), 'the hostname term names VNODE_NAME of configmap.yaml');
  });

  it('makes the watcher hard to lose: PriorityClass, PodDisruptionBudget minAvailable 1, requests that cover the measured peak', () => {
    const pc = all.find((x) => x.doc.kind === 'PriorityClass')?.doc as { metadata: { name: string }; value: number; globalDefault?: boolean };
    assert.equal(podSpec.priorityClassName, pc.metadata.name);
    assert.ok(pc.value >= 1_000_000 && pc.value <= 1_000_000_000, 'above ordinary workloads, below system-* classes');
    assert.notEqual(pc.globalDefault, true);
    const pdb = all.find((x) => x.doc.kind === 'PodDisruptionBudget')?.doc as {
      apiVersion: string;
      metadata: { namespace: string };
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.equal(pdb.metadata.namespace, config.BRIDGE_NAMESPACE);
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, (deployment.spec as unknown as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
    const c = podSpec.containers[0] as { resources: { requests: { memory: string }; limits: { memory: string } } };
    const mib = (q: string): number => Number(/^(\d+)Mi$/.exec(q)?.[1]);
    // measured (docs/performance.md, npm run bench -- watcher): 170 MB peak with 10,000 pods before a full GC
    assert.ok(mib(c.resources.requests.memory) * 1.048576 >= 170, `request ${c.resources.requests.memory} below the measured 170 MB peak`);
    assert.ok(mib(c.resources.limits.memory) >= mib(c.resources.requests.memory) * 1.5);
  });

  it('ships placeholders that cannot be mistaken for values, and the config refuses them', () => {
    const c = podSpec.containers[0] as { image: string };
    assert.deepEqual(imagePlaceholders(c.image), ['REGISTRY', 'VERSION']);
    const k = docsOf('kustomization.yaml')[0] as { images: { name: string; newName: string; newTag: string }[] };
    assert.ok(k.images.some((i) => i.name === c.image.split(':')[0] && imagePlaceholders(`${i.newName}:${i.newTag}`).length === 2));
    assert.deepEqual(placeholdersIn(JSON.stringify(cmData)), ['ACCOUNT_ID', 'REGION']);
    assert.throws(() => parseConfig(cmData), (e: unknown) => e instanceof ConfigError && /ALIBABA_CLOUD_ACCOUNT_ID=\{\{ACCOUNT_ID\}\}/.test(e.message));
  });
});
