import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAnnotations } from '../../../shared/domain/annotations.js';
import { BRIDGE_TAG_KEYS, containerGroupName, costTags, isValidGroupName, MAX_TEAM_LABELS, tagProblem, tagValue, teamLabelsProblem } from '../../../shared/domain/names.js';
import { podReferences, tokenKey } from '../../../shared/domain/references.js';
import { parseQuantity, qosClass } from '../../../shared/domain/resources.js';
import { basePod } from './helpers.js';

describe('containerGroupName', () => {
  const cases: [string, string, RegExp][] = [
    ['default', 'web-1', /^default-web-1$/],
    ['kube-system', 'coredns', /^kube-system-coredns-[0-9a-f]{10}$/],
    ['default', 'web.v1', /^default-web-v1-[0-9a-f]{10}$/],
    ['ns', 'a'.repeat(253), /^ns-a+-[0-9a-f]{10}$/],
  ];
  for (const [ns, name, re] of cases) {
    it(`${ns}/${name.slice(0, 20)}`, () => {
      const n = containerGroupName(ns, name);
      assert.match(n, re);
      assert.ok(isValidGroupName(n), n);
      assert.equal(containerGroupName(ns, name), n, 'stable');
    });
  }
  it('is unique where the plain form would collide', () => {
    assert.notEqual(containerGroupName('a-b', 'c'), containerGroupName('a', 'b-c'));
    assert.notEqual(containerGroupName('a', 'b.c'), containerGroupName('a', 'b-c'));
    assert.notEqual(containerGroupName('n', `${'x'.repeat(200)}1`), containerGroupName('n', `${'x'.repeat(200)}2`));
  });
});

describe('tags', () => {
  it('shortens long values stably and flags bad user tags', () => {
    const v = tagValue('p'.repeat(200));
    assert.equal(v.length, 128);
    assert.equal(tagValue('p'.repeat(200)), v);
    assert.equal(tagProblem('aliyun-x', 'v') !== undefined, true);
    assert.equal(tagProblem('k', 'http://x') !== undefined, true);
    assert.equal(tagProblem('team', 'a'), undefined);
  });
});

describe('annotations', () => {
  const good: [string, string, string, unknown][] = [
    ['eci-schedule-strategy', 'VSwitchRandom', 'ScheduleStrategy', 'VSwitchRandom'],
    ['eci-spot-price-limit', '0.125', 'SpotPriceLimit', 0.125],
    ['eci-spot-duration', '0', 'SpotDuration', 0],
    ['eci-max-pending-minute', '30', 'MaxPendingMinute', 30],
    ['eci-compute-category', 'economy,general', 'ComputeCategory', ['economy', 'general']],
    ['eci-auto-imc', 'true', 'AutoMatchImageCache', true],
    ['eci-imc-id', 'imc-123', 'ImageSnapshotId', 'imc-123'],
    ['eip-isp', 'BGP_PRO', 'EipISP', 'BGP_PRO'],
    ['eci-enable-ipv6', 'true', 'Ipv6AddressCount', 1],
    ['eci-fixed-ip', 'true', 'FixedIp', 'true'],
    ['eci-private-ip-address', '172.16.0.1', 'PrivateIpAddress', '172.16.0.1'],
    ['eci-ntp-server', '100.100.3.1,100.100.3.2', 'NtpServer', ['100.100.3.1', '100.100.3.2']],
    ['kubernetes.io/ingress-bandwidth', '40M', 'IngressBandwidth', 40_000_000],
    ['eci-resource-group-id', 'rg-abc', 'ResourceGroupId', 'rg-abc'],
  ];
  for (const [k, v, field, want] of good) {
    it(`${k}=${v} → ${field}`, () => {
      const key = k.includes('/') ? k : `k8s.aliyun.com/${k}`;
      const r = parseAnnotations({ [key]: v });
      assert.deepEqual(r.violations, []);
      assert.deepEqual(r.fields[field], want);
    });
  }
  const bad: [string, string][] = [
    ['eci-spot-price-limit', '-1'],
    ['eci-spot-duration', 'one'],
    ['eci-max-pending-minute', '5'],
    ['eci-vswitch', 'subnet-1'],
    ['eci-use-specs', '2cpu'],
    ['eci-custom-hosts', 'db=1.2.3.4'],
    ['eci-custom-dnsconfig', '{"nameservers":"x"}'],
    ['eci-ipv6-count', '2'],
    ['eci-with-eip', 'yes'],
    ['eci-fail-strategy', 'retry'],
    ['eci-custom-tags', 'aliyun-team:x'],
  ];
  for (const [k, v] of bad) {
    it(`${k}=${v} → InvalidAnnotation`, () => {
      const r = parseAnnotations({ [`k8s.aliyun.com/${k}`]: v });
      assert.equal(r.violations[0]?.code, 'InvalidAnnotation');
      assert.match(r.violations[0]?.field ?? '', new RegExp(k.replace(/-/g, '\\-')));
    });
  }
  it('policy annotations and ignored ones', () => {
    const r = parseAnnotations({
      'k8s.aliyun.com/eci-spot-fallback': 'true',
      'k8s.aliyun.com/eci-fail-strategy': 'fail-fast',
      'k8s.aliyun.com/eci-instance-family': 'ecs.c6',
      'k8s.aliyun.com/eci-made-up': 'x',
      'k8s.aliyun.com/eci-instance-id': 'eci-1',
    });
    assert.deepEqual(r.policy, { spotFallback: true, failStrategy: 'fail-fast' });
    assert.equal(r.warnings.filter((w) => w.code === 'AnnotationIgnored').length, 2);
  });
});

describe('resources and references', () => {
  const q: [string | number, number | undefined][] = [['500m', 0.5], ['2', 2], ['1Gi', 2 ** 30], ['1G', 1e9], ['1e3', 1000], [1.5, 1.5], ['x', undefined], ['-1', undefined]];
  for (const [s, n] of q) it(`parseQuantity(${s})`, () => assert.equal(parseQuantity(s), n));
  it('qosClass', () => {
    const p = basePod();
    assert.equal(qosClass(p), 'BestEffort');
    (p.spec.containers[0] as { resources?: unknown }).resources = { limits: { cpu: '1', memory: '1Gi' } };
    assert.equal(qosClass(p), 'Guaranteed');
    (p.spec.containers[0] as { resources?: unknown }).resources = { requests: { cpu: '1' } };
    assert.equal(qosClass(p), 'Burstable');
  });
  it('podReferences lists what to fetch', () => {
    const p = basePod();
    p.spec.serviceAccountName = 'sa';
    p.spec.imagePullSecrets = [{ name: 'pull' }];
    p.spec.containers[0] = { name: 'a', image: 'i', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c1', key: 'k' } } }], envFrom: [{ secretRef: { name: 's1' } }] };
    p.spec.volumes = [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'vault' } }, { configMap: { name: 'kube-root-ca.crt' } }] } }];
    const r = podReferences(p);
    assert.deepEqual(r, {
      configMaps: ['c1', 'kube-root-ca.crt'],
      secrets: ['s1'],
      serviceAccountTokens: [{ serviceAccountName: 'sa', audience: 'vault', expirationSeconds: 3600 }],
      imagePullSecrets: ['pull'],
    });
    assert.equal(tokenKey(r.serviceAccountTokens[0] as never), 'sa|vault|3600');
  });
});

describe('team labels (BILLING_TEAM_LABELS)', () => {
  const cases: [string, string[], RegExp | undefined][] = [
    ['none', [], undefined],
    ['a few', ['team', 'app.kubernetes.io/part-of'], undefined],
    ['as many as fit', Array.from({ length: MAX_TEAM_LABELS }, (_, i) => `l${i}`), undefined],
    ['one too many', Array.from({ length: MAX_TEAM_LABELS + 1 }, (_, i) => `l${i}`), /at most/],
    ['a bridge key', [BRIDGE_TAG_KEYS[0]], /bridge's own/],
    ['a reserved prefix', ['aliyun-team'], /aliyun/],
    ['twice', ['team', 'team'], /twice/],
  ];
  for (const [what, labels, problem] of cases) {
    it(what, () => {
      const p = teamLabelsProblem(labels);
      if (problem) assert.match(p ?? '', problem);
      else assert.equal(p, undefined);
    });
  }

  it('a long label value is cut to ECI\'s limit the same way as every tag value', () => {
    const pod = basePod();
    pod.metadata.labels = { team: 't'.repeat(300) };
    const team = costTags(pod, ['team']).find((t) => t.Key === 'team');
    assert.equal(team?.Value, tagValue('t'.repeat(300)));
    assert.ok((team?.Value.length ?? 0) <= 128);
  });
});
