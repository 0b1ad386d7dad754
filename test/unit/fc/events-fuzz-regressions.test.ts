/**
 * Regressions found by the fuzz driver (test/fuzz): FC events that made parseQueueEvent throw a RangeError (a value
 * nested deeper than JSON.stringify recurses) or work for minutes (millions of elements). Either failed or timed out
 * the whole batch, which EventBridge then retried with its good messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FcEventError, MAX_EVENTS_PER_BATCH, parseQueueEvent } from '../../../shared/adapters/fc/events.js';
import { encodeMessage, type PodNudge } from '../../../shared/domain/messages.js';

const nudge: PodNudge = { v: 1, kind: 'pod', namespace: 'default', name: 'web', uid: 'u-1', reason: 'bound' };
const good = JSON.stringify({ id: 'e1', data: { messageId: 'GOOD', messageBody: encodeMessage(nudge) } });
const deepArray = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('parseQueueEvent on hostile events (fuzz regressions)', () => {
  it('an element nested 50,000 deep is reported as not a CloudEvent; the good message is kept', () => {
    const records = parseQueueEvent(Buffer.from(`[${deepArray(50_000)},${good}]`));
    assert.equal(records.length, 2);
    const [bad, ok] = records;
    assert.equal(bad?.ok, false);
    if (bad && !bad.ok) {
      assert.equal(bad.reason, 'envelope');
      assert.ok(bad.body.length > 0);
    }
    assert.equal(ok?.ok, true);
  });

  it('a parsed message body nested 50,000 deep is a schema failure, not a throw', () => {
    const deepBody = `{"id":"d","data":{"messageId":"DEEP","messageBody":{"v":1,"kind":"pod","x":${deepArray(50_000)}}}}`;
    const records = parseQueueEvent(Buffer.from(`[${deepBody},${good}]`));
    const [bad, ok] = records;
    assert.equal(bad?.ok, false);
    if (bad && !bad.ok) {
      assert.equal(bad.reason, 'schema');
      assert.equal(bad.messageId, 'DEEP');
    }
    assert.equal(ok?.ok, true);
  });

  it(`an array of more than ${MAX_EVENTS_PER_BATCH} elements is refused as a whole, at once`, () => {
    const many = Buffer.from(`[${'1,'.repeat(MAX_EVENTS_PER_BATCH)}1]`);
    assert.throws(() => parseQueueEvent(many), (e: unknown) => e instanceof FcEventError && e.reason === 'not-cloudevents');
    const atLimit = Buffer.from(`[${Array.from({ length: MAX_EVENTS_PER_BATCH }, () => good).join(',')}]`);
    assert.equal(parseQueueEvent(atLimit).length, MAX_EVENTS_PER_BATCH);
  });
});
