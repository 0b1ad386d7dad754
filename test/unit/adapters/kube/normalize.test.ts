import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { V1ObjectMeta, V1Pod, V1PodCondition, V1PodSpec, V1PodStatus } from '@kubernetes/client-node';
import { formatMicroTime, formatTime, toPlain } from '../../../../shared/adapters/kube/normalize.js';

describe('formatTime (metav1.Time)', () => {
  it('writes whole seconds without a fraction, as the API server does', () => {
    assert.equal(formatTime(new Date('2026-11-27T20:14:23.000Z')), '2026-11-27T20:14:23Z');
  });
  it('keeps milliseconds when there are any', () => {
    assert.equal(formatTime(new Date('2026-11-27T20:14:23.250Z')), '2026-11-27T20:14:23.250Z');
  });
});

describe('formatMicroTime (metav1.MicroTime)', () => {
  const cases: [Date | number | string, string][] = [
    [new Date('2026-11-27T20:14:23.123Z'), '2026-11-27T20:14:23.123000Z'],
    [Date.UTC(2026, 10, 27, 20, 14, 23, 5), '2026-11-27T20:14:23.005000Z'],
    ['2026-11-27T20:14:23.123Z', '2026-11-27T20:14:23.123000Z'],
    ['2026-11-27T20:14:23Z', '2026-11-27T20:14:23.000000Z'],
    ['2026-11-27T20:14:23.123456Z', '2026-11-27T20:14:23.123456Z'],
    ['2026-11-27T20:14:23.123456789Z', '2026-11-27T20:14:23.123456Z'],
    ['2026-11-27T22:14:23.5+02:00', '2026-11-27T20:14:23.500000Z'],
  ];
  for (const [input, want] of cases) {
    it(`${String(input instanceof Date ? input.toISOString() : input)} → ${want}`, () => {
      const got = formatMicroTime(input);
      assert.equal(got, want);
      assert.match(got, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    });
  }
  it('rejects what is not a time', () => {
    assert.throws(() => formatMicroTime('yesterday'), RangeError);
  });
});

describe('toPlain', () => {
  it('turns a deserialised V1Pod (class instances, Dates) into the JSON the watch delivers', () => {
    // Prepare: the same pod as client-node's typed list returns it and as a watch event carries it.
    const raw = {
      metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-11-27T20:14:23Z' },
      spec: { containers: [{ name: 'c', image: 'i' }], nodeName: 'vn' },
      status: {
        phase: 'Running',
        startTime: '2026-11-27T20:14:25Z',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-27T20:14:30Z' }],
      },
    };
    const typed = new V1Pod();
    typed.metadata = Object.assign(new V1ObjectMeta(), { ...raw.metadata, creationTimestamp: new Date(raw.metadata.creationTimestamp) });
    typed.spec = Object.assign(new V1PodSpec(), raw.spec);
    typed.status = Object.assign(new V1PodStatus(), {
      phase: 'Running',
      startTime: new Date(raw.status.startTime),
      conditions: [Object.assign(new V1PodCondition(), { ...raw.status.conditions[0], lastTransitionTime: new Date('2026-11-27T20:14:30Z') })],
    });
    // Act
    const plain = toPlain<unknown>(typed);
    // Assess
    assert.deepStrictEqual(plain, raw);
    assert.equal(Object.getPrototypeOf(plain), Object.prototype);
  });

  it('drops undefined members, keeps null, copies (no aliasing)', () => {
    const src = { a: undefined, b: null, c: { d: [1, { e: 'x' }] } };
    const out = toPlain<{ b: null; c: { d: [number, { e: string }] } }>(src);
    assert.deepStrictEqual(out, { b: null, c: { d: [1, { e: 'x' }] } });
    assert.ok(!('a' in out));
    out.c.d[1].e = 'changed';
    assert.equal((src.c.d[1] as { e: string }).e, 'x');
  });

  it('leaves map keys alone (a ConfigMap key may be `_continue`)', () => {
    assert.deepStrictEqual(toPlain({ data: { _continue: 'v' } }), { data: { _continue: 'v' } });
  });
});
