/**
 * deploy/ as `kubectl apply -k deploy/` sends it (the kustomization's resources, its image set to a real name, the
 * placeholders filled), validated by the real API server with a server-side dry run: schema, defaulting and admission,
 * nothing stored. deploy/ targets Kubernetes >= 1.21; the 1.20 test plane serves every API it uses except policy/v1,
 * so the PodDisruptionBudget is checked as policy/v1beta1 there (same spec) and as policy/v1 where it is served.
 * The bridge namespace is renamed to a fresh one so the shared test plane is never touched.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { renderPlaceholders } from '../../../scripts/lib/placeholders.js';
import { createKubeClient } from '../../../shared/adapters/kube/index.js';
import { applyManifests, type Manifest, readObject } from '../../../shared/adapters/kube/provision.js';

const kubeconfig = process.env.KUBE_TEST_KUBECONFIG;
const deployDir = join(import.meta.dirname, '..', '..', '..', 'deploy');

describe('deploy/ on a real API server (server-side dry run)', { skip: kubeconfig ? false : 'KUBE_TEST_KUBECONFIG not set' }, () => {
  const ns = `ecib-manifests-${randomBytes(3).toString('hex')}`;
  const client = () => createKubeClient({ kubeconfigPath: kubeconfig ?? '' });
  let manifests: Manifest[] = [];

  before(async () => {
    const k = parse(readFileSync(join(deployDir, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
      images: { name: string; newName: string; newTag: string }[];
    };
    const image = k.images[0];
    assert.ok(image);
    manifests = k.resources.flatMap((f) =>
      parseAllDocuments(renderPlaceholders(readFileSync(join(deployDir, f), 'utf8'), { REGION: 'cn-hangzhou', ACCOUNT_ID: '1234567890' }))
        .map((d) => d.toJS() as Manifest | null)
        .filter((m): m is Manifest => m !== null),
    );
    // what kustomize's images transformer and a rename of the namespace do
    const text = JSON.stringify(manifests)
      .replaceAll(`"${image.name}:VERSION"`, '"registry.example.com/acme/eci-bridge-watcher:1.2.3"')
      .replaceAll('"eci-bridge"', `"${ns}"`)
      .replaceAll('"eci-bridge-logs"', `"${ns}-logs"`);
    manifests = (JSON.parse(text) as Manifest[]).filter((m) => m.kind !== 'Namespace');
    // the namespaces deploy/ creates (the bridge's, and the kubelet API's log archives), renamed
    for (const name of [ns, `${ns}-logs`]) await client().core.createNamespace({ body: { metadata: { name } } });
  });

  after(async () => {
    for (const name of [ns, `${ns}-logs`]) await client().core.deleteNamespace({ name }).catch(() => undefined);
  });

  it('is accepted object by object, the PodDisruptionBudget in the policy version the server serves', async () => {
    const c = client();
    const pdb = manifests.filter((m) => m.kind === 'PodDisruptionBudget');
    assert.deepEqual(pdb.map((m) => m.apiVersion), ['policy/v1']);
    const rest = manifests.filter((m) => m.kind !== 'PodDisruptionBudget');
    const applied = await applyManifests(c, rest, 'eci-bridge-test', { dryRun: true });
    assert.equal(applied.length, rest.length);
    for (const kind of ['Deployment', 'PriorityClass', 'ServiceAccount', 'ClusterRole', 'MutatingWebhookConfiguration', 'ConfigMap']) {
      assert.ok(applied.some((a) => a.kind === kind), kind);
    }
    const served = await applyManifests(c, pdb, 'eci-bridge-test', { dryRun: true }).then(
      () => 'policy/v1',
      () => undefined,
    );
    if (!served) await applyManifests(c, pdb.map((m) => ({ ...m, apiVersion: 'policy/v1beta1' })), 'eci-bridge-test', { dryRun: true });
    // a dry run stores nothing
    assert.equal(await readObject(c, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'eci-bridge-watcher' }), undefined);
  });
});
