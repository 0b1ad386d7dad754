/**
 * Regressions found by the fuzz driver (test/fuzz, `npm run fuzz`): hostile pod specs that made podReferences throw
 * or translatePod return a request ECI cannot take. Each case is the smallest pod that showed the problem.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../shared/domain/k8s.js';
import { podReferences } from '../../../shared/domain/references.js';
import { redactRequest, translatePod } from '../../../shared/domain/translate.js';
import { basePod, baseCtx } from './helpers.js';

type Loose = Record<string, unknown>;

/** basePod with a hostile change to its spec, first container or metadata (values a pod file or JSON could hold). */
function podWith(change: (p: { spec: Loose; c0: Loose; metadata: Loose; pod: Loose }) => void): Pod {
  const pod = basePod();
  const c0 = pod.spec.containers[0] as unknown as Loose;
  change({ spec: pod.spec as unknown as Loose, c0, metadata: pod.metadata as unknown as Loose, pod: pod as unknown as Loose });
  return pod;
}

describe('podReferences on malformed pods (fuzz regressions)', () => {
  const cases: { name: string; pod: Pod }[] = [
    { name: 'containers is a number', pod: podWith((p) => (p.spec.containers = 5)) },
    { name: 'env is an object', pod: podWith((p) => (p.c0.env = { a: 1 })) },
    { name: 'volumes is a string', pod: podWith((p) => (p.spec.volumes = 'v')) },
    { name: 'projected sources is an object', pod: podWith((p) => (p.spec.volumes = [{ name: 'v', projected: { sources: { x: 1 } } }])) },
    { name: 'imagePullSecrets is an object', pod: podWith((p) => (p.spec.imagePullSecrets = { name: 'x' })) },
    { name: 'spec is null', pod: podWith((p) => (p.pod.spec = null)) },
  ];
  for (const c of cases) {
    it(`does not throw when ${c.name}`, () => {
      const refs = podReferences(c.pod);
      assert.deepEqual(refs, { configMaps: [], secrets: [], serviceAccountTokens: [], imagePullSecrets: [] });
    });
  }

  it('keeps only non-empty string names', () => {
    const pod = podWith((p) => {
      p.c0.env = [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 7, key: 'k' } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's1', key: 'k' } } },
      ];
      p.spec.volumes = [{ name: 'v', configMap: { name: { x: 1 } } }, { name: 'w', secret: { secretName: '' } }];
      p.spec.imagePullSecrets = [{ name: 3 }, { name: 'pull' }, null];
      p.spec.serviceAccountName = 42;
    });
    const refs = podReferences(pod);
    assert.deepEqual(refs.configMaps, []);
    assert.deepEqual(refs.secrets, ['s1']);
    assert.deepEqual(refs.imagePullSecrets, ['pull']);
  });
});

describe('translatePod refuses values ECI cannot take (fuzz regressions)', () => {
  const refused: { name: string; pod: Pod; code: string }[] = [
    { name: 'an image that is an object', pod: podWith((p) => (p.c0.image = { a: 'nginx' })), code: 'MissingImage' },
    { name: 'a container with an empty name', pod: podWith((p) => (p.c0.name = '')), code: 'InvalidPod' },
    { name: 'a uid starting with acs: (the pod-uid tag value)', pod: podWith((p) => (p.metadata.uid = 'acs:x')), code: 'InvalidUid' },
    { name: 'a uid holding http://', pod: podWith((p) => (p.metadata.uid = 'http://x')), code: 'InvalidUid' },
    {
      name: 'a sysctl whose name is a number (Infinity)',
      pod: podWith((p) => (p.spec.securityContext = { sysctls: [{ name: Number.POSITIVE_INFINITY, value: '1' }] })),
      code: 'InvalidSysctl',
    },
    {
      name: 'a non-finite container port',
      pod: podWith((p) => (p.c0.ports = [{ containerPort: Number.NaN }])),
      code: 'InvalidPod',
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      const r = translatePod(c.pod, baseCtx());
      assert.equal(r.ok, false);
      if (!r.ok) assert.ok(r.violations.some((v) => v.code === c.code), JSON.stringify(r.violations.map((v) => v.code)));
    });
  }

  it('refuses a value nested thousands of levels deep (it used to overflow redactRequest) without throwing', () => {
    let deep: unknown = [];
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const pod = podWith((p) => (p.spec.volumes = [{ name: 'c', configMap: { name: 'cm', items: [{ key: 'k', path: deep }] } }]));
    const cm = { metadata: { name: 'cm', namespace: 'default' }, data: { k: 'v' } };
    const r = translatePod(pod, baseCtx({ configMaps: new Map([['cm', cm]]) }));
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok(r.violations.some((v) => v.code === 'InvalidPod' && v.message.includes('ConfigFileToPath')));
  });

  it('still translates the plain pod, and redacts it', () => {
    const r = translatePod(basePod(), baseCtx());
    assert.ok(r.ok);
    assert.doesNotThrow(() => redactRequest(r.request));
  });
});
