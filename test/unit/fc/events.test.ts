import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FcEventError, parseQueueEvent, parseTimerEvent } from '../../../shared/adapters/fc/events.js';
import { encodeMessage, type PodNudge } from '../../../shared/domain/messages.js';

const nudge: PodNudge = { v: 1, kind: 'pod', namespace: 'default', name: 'web', uid: 'u-1', reason: 'bound' };
const ce = (messageBody: unknown, messageId = 'M1') => ({ id: 'e1', source: 'MNS-pod-sync-t', type: 'mns:Queue:SendMessage', data: { requestId: 'r', messageId, messageBody } });

describe('parseQueueEvent', () => {
  const good = [
    { name: 'array, base64 body', event: [ce(encodeMessage(nudge))] },
    { name: 'array, body decoded by EventBridge', event: [ce(JSON.stringify(nudge))] },
    { name: 'array, body already parsed', event: [ce(nudge)] },
    { name: 'single CloudEvent (event mode)', event: ce(encodeMessage(nudge)) },
  ];
  for (const c of good) {
    it(`accepts ${c.name}`, () => {
      const [r] = parseQueueEvent(Buffer.from(JSON.stringify(c.event)));
      assert.ok(r?.ok);
      assert.deepEqual(r.message, nudge);
      assert.equal(r.messageId, 'M1');
    });
  }

  const bad = [
    { name: 'not base64', body: '%%%', reason: 'not-base64' },
    { name: 'base64 of non-JSON', body: Buffer.from('hello').toString('base64'), reason: 'not-json' },
    { name: 'wrong schema', body: JSON.stringify({ ...nudge, reason: 'because' }), reason: 'schema' },
    { name: 'unknown field', body: JSON.stringify({ ...nudge, extra: 1 }), reason: 'schema' },
  ];
  for (const c of bad) {
    it(`isolates a malformed message (${c.name}) with reason ${c.reason}`, () => {
      const records = parseQueueEvent(Buffer.from(JSON.stringify([ce(c.body, 'BAD'), ce(encodeMessage(nudge), 'GOOD')])));
      assert.equal(records.length, 2);
      const [b, g] = records;
      assert.equal(b?.ok, false);
      if (b && !b.ok) {
        assert.equal(b.reason, c.reason);
        assert.equal(b.body, c.body);
        assert.equal(b.messageId, 'BAD');
      }
      assert.equal(g?.ok, true);
    });
  }

  it('an element that is not a CloudEvent is reported, the others kept', () => {
    const records = parseQueueEvent(Buffer.from(JSON.stringify([{ nope: 1 }, ce(encodeMessage(nudge))])));
    assert.equal(records[0]?.ok, false);
    assert.equal(records[1]?.ok, true);
  });

  it('a Buffer that is not JSON, or holds no CloudEvent, throws FcEventError', () => {
    assert.throws(() => parseQueueEvent(Buffer.from('garbage')), FcEventError);
    assert.throws(() => parseQueueEvent(Buffer.from('[{"a":1}]')), FcEventError);
    assert.deepEqual(parseQueueEvent(Buffer.from('[]')), []);
  });
});

describe('parseTimerEvent', () => {
  it('parses FC timer events and treats an empty Buffer as a manual run', () => {
    const t = parseTimerEvent(Buffer.from('{"triggerTime":"2023-12-26T07:49:00Z","triggerName":"every-minute","payload":"{}"}'));
    assert.equal(t.triggerName, 'every-minute');
    assert.equal(parseTimerEvent(Buffer.alloc(0), () => 0).triggerName, 'manual');
    assert.throws(() => parseTimerEvent(Buffer.from('{"x":1}')), FcEventError);
  });
});
