import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../shared/domain/k8s.js';
import {
  matchesLabelSelector,
  parseProfile,
  pickSelector,
  PROFILE_MATCHED_ANNOTATION,
  profilePatch,
  type Profile,
  type Selector,
  targetsVirtualNode,
  type VirtualNodeIdentity,
} from '../../../shared/domain/profile.js';

const vnode: VirtualNodeIdentity = {
  nodeName: 'eci-vnode',
  labels: { type: 'virtual-kubelet', 'k8s.aliyun.com/vnode': 'true' },
  taint: { key: 'virtual-kubelet.io/provider', value: 'alibabacloud', effect: 'NoSchedule' },
  exclusiveLabels: { 'k8s.aliyun.com/vnode': 'true' },
};

function pod(over: Partial<Pod['metadata']> = {}, spec: Partial<Pod['spec']> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'ns', ...over }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec } };
}

function applyPatch(doc: unknown, ops: ReturnType<typeof profilePatch>): Record<string, unknown> {
  const out = structuredClone(doc) as Record<string, unknown>;
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    let cur = out as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) cur = cur[p] as Record<string, unknown>;
    const last = parts.at(-1) as string;
    if (last === '-' && Array.isArray(cur)) (cur as unknown[]).push(op.value);
    else cur[last] = op.value;
  }
  return out;
}

describe('label selectors', () => {
  const cases: [string, Parameters<typeof matchesLabelSelector>[0], Record<string, string>, boolean][] = [
    ['empty selector matches all', {}, {}, true],
    ['matchLabels equal', { matchLabels: { a: '1' } }, { a: '1', b: '2' }, true],
    ['matchLabels differ', { matchLabels: { a: '1' } }, { a: '2' }, false],
    ['In', { matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }, true],
    ['In missing key', { matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, {}, false],
    ['NotIn missing key matches', { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}, true],
    ['NotIn present value', { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, { a: '1' }, false],
    ['Exists', { matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: '' }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: 'x' }, false],
    ['labels AND expressions', { matchLabels: { b: '1' }, matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: 'x' }, false],
  ];
  for (const [label, sel, labels, want] of cases) {
    it(label, () => assert.equal(matchesLabelSelector(sel, labels), want));
  }
});

describe('picking a selector', () => {
  const profile: Profile = {
    selectors: [
      { name: 'batch', priority: 1, objectLabels: { matchLabels: { burst: 'true' } }, policy: 'virtualNodeOnly' },
      { name: 'ns-burst', priority: 5, namespaceLabels: { matchLabels: { eci: 'true' } }, policy: 'normalNodePrefer' },
      { name: 'catch-nothing', priority: 100, policy: 'fair' },
    ],
  };
  it('takes the highest priority among matches', () => {
    const r = pickSelector(profile, { burst: 'true' }, { eci: 'true' });
    assert.equal(r.selector?.name, 'ns-burst');
  });
  it('ignores selectors that select nothing', () => {
    const r = pickSelector(profile, {}, {});
    assert.equal(r.selector, undefined);
    assert.equal('why' in r && r.why, 'no selector matches');
  });
  it('honours the opt-out label on the pod and on the namespace', () => {
    const r1 = pickSelector(profile, { burst: 'true', 'eci-bridge.io/profile': 'disabled' }, {});
    assert.equal('why' in r1 && r1.why, 'pod opted out');
    const r2 = pickSelector(profile, { burst: 'true' }, { 'eci-bridge.io/profile': 'disabled' });
    assert.equal('why' in r2 && r2.why, 'namespace opted out');
  });
});

describe('profile patch', () => {
  const sel = (policy: Selector['policy']): Selector => ({
    name: 's1',
    priority: 0,
    objectLabels: { matchLabels: { burst: 'true' } },
    effect: { annotations: { 'k8s.aliyun.com/eci-use-specs': '2-4Gi', keep: 'effect' }, labels: { team: 'a' } },
    policy,
  });

  it('virtualNodeOnly adds the toleration, the nodeSelector and the effect, never overwriting', () => {
    const p = pod({ labels: { burst: 'true', team: 'mine' }, annotations: { keep: 'pod' } }, { nodeSelector: { disk: 'ssd' } });
    const out = applyPatch(p, profilePatch(p, sel('virtualNodeOnly'), vnode)) as unknown as Pod;
    assert.deepEqual(out.spec.nodeSelector, { disk: 'ssd', 'k8s.aliyun.com/vnode': 'true' });
    assert.deepEqual(out.spec.tolerations, [
      { key: 'virtual-kubelet.io/provider', operator: 'Equal', value: 'alibabacloud', effect: 'NoSchedule' },
    ]);
    assert.equal(out.metadata.annotations?.keep, 'pod');
    assert.equal(out.metadata.annotations?.['k8s.aliyun.com/eci-use-specs'], '2-4Gi');
    assert.equal(out.metadata.annotations?.[PROFILE_MATCHED_ANNOTATION], 's1');
    assert.equal(out.metadata.labels?.team, 'mine');
    assert.ok(targetsVirtualNode(out.spec, vnode));
  });

  it('normalNodePrefer adds a preferred anti-virtual affinity and keeps existing terms', () => {
    const existing = { weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } };
    const p = pod({}, { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [existing] } } });
    const out = applyPatch(p, profilePatch(p, sel('normalNodePrefer'), vnode)) as unknown as Pod;
    const pref = (out.spec.affinity as { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: unknown[] } }).nodeAffinity
      .preferredDuringSchedulingIgnoredDuringExecution;
    assert.equal(pref.length, 2);
    assert.deepEqual(pref[1], {
      weight: 100,
      preference: { matchExpressions: [{ key: 'k8s.aliyun.com/vnode', operator: 'NotIn', values: ['true'] }] },
    });
    assert.equal(out.spec.nodeSelector, undefined);
    assert.equal(out.spec.tolerations?.length, 1);
    assert.equal(targetsVirtualNode(out.spec, vnode), false);
  });

  it('does not add a second toleration when the pod already tolerates the taint', () => {
    const p = pod({}, { tolerations: [{ operator: 'Exists' }] });
    const ops = profilePatch(p, sel('fair'), vnode);
    assert.ok(!ops.some((o) => o.path.startsWith('/spec/tolerations')));
  });

  it('normalNodeOnly changes no scheduling field', () => {
    const ops = profilePatch(pod(), sel('normalNodeOnly'), vnode);
    assert.ok(ops.every((o) => o.path.startsWith('/metadata/')));
  });

  it('escapes label keys with slashes in JSON pointer paths', () => {
    const p = pod({ labels: { x: 'y' } });
    const ops = profilePatch(p, sel('fair'), vnode);
    assert.ok(ops.some((o) => o.path === '/metadata/annotations'));
    const sel2: Selector = { ...sel('fair'), effect: { labels: { 'example.com/team': 'a' } } };
    assert.ok(profilePatch(p, sel2, vnode).some((o) => o.path === '/metadata/labels/example.com~1team'));
  });
});

describe('does a pod target the virtual node', () => {
  const cases: [string, Partial<Pod['spec']>, boolean][] = [
    ['nodeName is the vnode', { nodeName: 'eci-vnode' }, true],
    ['nodeName is another node', { nodeName: 'worker-1' }, false],
    ['nodeSelector on an exclusive label', { nodeSelector: { 'k8s.aliyun.com/vnode': 'true' } }, true],
    ['nodeSelector on a shared label', { nodeSelector: { 'kubernetes.io/os': 'linux' } }, false],
    [
      'required affinity only the vnode meets',
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'k8s.aliyun.com/vnode', operator: 'In', values: ['true'] }] }],
            },
          },
        },
      },
      true,
    ],
    [
      'required affinity with an alternative real-node term',
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'k8s.aliyun.com/vnode', operator: 'In', values: ['true'] }] },
                { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
              ],
            },
          },
        },
      },
      false,
    ],
    ['nothing', {}, false],
  ];
  for (const [label, spec, want] of cases) {
    it(label, () => assert.equal(targetsVirtualNode(pod({}, spec).spec, vnode), want));
  }
});

describe('parsing a profile', () => {
  it('accepts JSON text and applies defaults', () => {
    const r = parseProfile('[{"name":"a","objectLabels":{"matchLabels":{"x":"y"}}}]');
    assert.ok(r.ok);
    assert.equal(r.ok && r.profile.selectors[0]?.policy, 'virtualNodeOnly');
    assert.equal(r.ok && r.profile.selectors[0]?.priority, 0);
  });
  const bad: [string, unknown, RegExp][] = [
    ['not JSON', '[{', /not valid JSON/],
    ['unknown policy', [{ name: 'a', policy: 'always' }], /policy/],
    ['unknown key', [{ name: 'a', namespaceSelector: {} }], /namespaceSelector/],
    ['In without values', [{ name: 'a', objectLabels: { matchExpressions: [{ key: 'k', operator: 'In' }] } }], /needs values/],
    ['duplicate names', [{ name: 'a' }, { name: 'a' }], /duplicate/],
  ];
  for (const [label, input, re] of bad) {
    it(`refuses ${label}`, () => {
      const r = parseProfile(input);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, re);
    });
  }
});
