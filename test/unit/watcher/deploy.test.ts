/**
 * deploy/ against the watcher: RBAC grants exactly what the watcher calls, the Deployment runs 2 replicas with
 * probes on the paths the watcher serves, and every env name exists in the config schema.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ConfigSchema, parseConfig } from '../../../shared/domain/config.js';
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
const config = parseConfig(Object.fromEntries(Object.entries((all.find((x) => x.doc.kind === 'ConfigMap' && x.doc.metadata?.name === SA)?.doc.data ?? {}) as Record<string, string>)));

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
});
