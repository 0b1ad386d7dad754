/** deploy/webhook.yaml and deploy/profile.yaml agree with the code and the config defaults. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderPlaceholders } from '../../../scripts/lib/placeholders.js';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../../shared/domain/config.js';
import { parseProfile } from '../../../shared/domain/profile.js';
import { WEBHOOK_PATHS } from '../../../watcher/webhook/server.js';

const deployDir = join(import.meta.dirname, '..', '..', '..', 'deploy');
type Doc = { kind?: string; metadata?: { name?: string; namespace?: string }; [k: string]: unknown };
const docs = parseAllDocuments(readFileSync(join(deployDir, 'webhook.yaml'), 'utf8')).map((d) => d.toJSON() as Doc);
const watcherCm = parse(readFileSync(join(deployDir, 'configmap.yaml'), 'utf8')) as { data: Record<string, string> };
const config = parseConfig(Object.fromEntries(Object.entries(watcherCm.data).map(([k, v]) => [k, renderPlaceholders(v, { REGION: 'cn-hangzhou', ACCOUNT_ID: '1234567890' })])));

interface Webhook {
  name: string;
  failurePolicy: string;
  sideEffects: string;
  timeoutSeconds: number;
  clientConfig: { service: { name: string; namespace: string; path: string }; caBundle?: string };
  namespaceSelector?: { matchExpressions?: { key: string; operator: string; values: string[] }[] };
}
const webhooks = docs
  .filter((d) => d.kind === 'MutatingWebhookConfiguration' || d.kind === 'ValidatingWebhookConfiguration')
  .flatMap((d) => (d.webhooks as Webhook[]).map((w) => ({ config: d.metadata?.name, ...w })));

describe('deploy/webhook.yaml', () => {
  it('is enabled in the watcher ConfigMap and names the configurations the watcher keeps the caBundle of', () => {
    assert.equal(config.WEBHOOK_ENABLED, true);
    assert.ok(webhooks.length >= 4);
    for (const w of webhooks) assert.equal(w.config, config.WEBHOOK_CONFIG_NAME);
  });

  it('never blocks the cluster when the bridge is down, and supports server-side dry-run', () => {
    for (const w of webhooks) {
      assert.equal(w.failurePolicy, 'Ignore', w.name);
      assert.equal(w.sideEffects, 'None', w.name);
      assert.ok(w.timeoutSeconds <= 10, w.name);
      assert.equal(w.clientConfig.caBundle, undefined, 'the watcher writes the caBundle');
    }
  });

  it('points every webhook at a path the server serves, through the configured Service', () => {
    const svc = docs.find((d) => d.kind === 'Service');
    assert.equal(svc?.metadata?.name, config.WEBHOOK_SERVICE);
    for (const w of webhooks) {
      assert.ok(WEBHOOK_PATHS.includes(w.clientConfig.service.path), w.clientConfig.service.path);
      assert.equal(w.clientConfig.service.name, config.WEBHOOK_SERVICE);
      assert.equal(w.clientConfig.service.namespace, config.BRIDGE_NAMESPACE);
    }
    assert.deepEqual(new Set(webhooks.map((w) => w.clientConfig.service.path)), new Set(WEBHOOK_PATHS));
  });

  it('excludes kube-system and the bridge namespace', () => {
    for (const w of webhooks) {
      const ex = w.namespaceSelector?.matchExpressions?.find((e) => e.key === 'kubernetes.io/metadata.name');
      assert.deepEqual(ex?.values.sort(), ['kube-system', config.BRIDGE_NAMESPACE].sort(), w.name);
    }
  });

  it('ships an example profile that parses', () => {
    const cm = parse(readFileSync(join(deployDir, 'profile.yaml'), 'utf8')) as { metadata: { name: string }; data: { selectors: string } };
    assert.equal(cm.metadata.name, config.PROFILE_CONFIGMAP);
    const res = parseProfile(parse(cm.data.selectors));
    assert.ok(res.ok, res.ok ? '' : res.error);
    assert.ok(res.ok && res.profile.selectors.length >= 2);
  });
});
