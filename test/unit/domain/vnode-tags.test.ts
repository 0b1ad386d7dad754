/**
 * VNODE_TAGS: parsed once with the config (zod), put on every container group through the composition the
 * functions use (compose.translateDefaults → createSyncDomain), after the bridge's identity tags; refused with
 * every bad entry named.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateCommand } from '../../../scripts/commands/translate.js';
import { translateDefaults } from '../../../shared/compose.js';
import { ConfigError, parseConfig } from '../../../shared/domain/config.js';
import { TAG_CLUSTER, TAG_POD_UID } from '../../../shared/domain/names.js';
import { createSyncDomain } from '../../../shared/usecases/domain.js';
import { basePod } from './helpers.js';

const NO_REFS = { configMaps: new Map(), secrets: new Map(), tokens: new Map() };

describe('VNODE_TAGS', () => {
  it('parses key=value pairs into ECI tags (default: none)', () => {
    assert.deepEqual(parseConfig({}).VNODE_TAGS, []);
    assert.deepEqual(parseConfig({ VNODE_TAGS: ' cost-center=cc-42, env=prod ,,team=a=b' }).VNODE_TAGS, [
      { Key: 'cost-center', Value: 'cc-42' },
      { Key: 'env', Value: 'prod' },
      { Key: 'team', Value: 'a=b' },
    ]);
  });

  it('refuses entries ECI or the bridge would not accept, naming each', () => {
    assert.throws(
      () => parseConfig({ VNODE_TAGS: 'ok=1,novalue,aliyun-x=1,eci-bridge.io/cluster=x,ok=2' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /VNODE_TAGS/);
        assert.match(err.message, /"novalue": is not key=value/);
        assert.match(err.message, /"aliyun-x=1": tag key must not start/);
        assert.match(err.message, /"eci-bridge.io\/cluster=x": the eci-bridge.io\/ prefix is reserved/);
        assert.match(err.message, /"ok=2": repeats a key/);
        return true;
      },
    );
  });

  it('tags every group the bridge creates, after its identity tags; a custom tag cannot override them', () => {
    const domain = createSyncDomain(translateDefaults(parseConfig({ VNODE_TAGS: 'cost-center=cc-42,env=prod' })));
    const pod = basePod();
    pod.metadata.annotations = { 'k8s.aliyun.com/eci-custom-tags': 'env:dev,owner:alice' };
    const r = domain.translate(pod, NO_REFS);
    assert.ok(r.ok);
    const tags = r.request.Tag ?? [];
    assert.ok(tags.findIndex((t) => t.Key === TAG_CLUSTER) < tags.findIndex((t) => t.Key === 'cost-center'));
    assert.ok(tags.some((t) => t.Key === TAG_POD_UID));
    assert.deepEqual(
      tags.filter((t) => !t.Key.startsWith('eci-bridge.io/')),
      [
        { Key: 'cost-center', Value: 'cc-42' },
        { Key: 'env', Value: 'prod' },
        { Key: 'owner', Value: 'alice' },
      ],
    );
  });

  it('translate (the CLI) shows them as pod-sync sends them, from the same variable', () => {
    const yaml = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default, uid: 5f0e0d0c-0b0a-4909-8807-060504030201}\nspec: {containers: [{name: a, image: nginx}]}\n';
    const out = translateCommand(['-f', 'p.yaml'], { readFile: () => yaml, env: { VNODE_TAGS: 'cost-center=cc-42' } });
    assert.equal(out.code, 0, out.stderr);
    const req = JSON.parse(out.stdout) as { Tag: { Key: string; Value: string }[] };
    assert.ok(req.Tag.some((t) => t.Key === 'cost-center' && t.Value === 'cc-42'));
  });
});
