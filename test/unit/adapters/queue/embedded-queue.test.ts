import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmbeddedQueue } from '../../../../shared/adapters/queue/embedded.js';
import {
  QueueError,
  QueueMessageTooLargeError,
  QueueReceiptHandleError,
} from '../../../../shared/adapters/queue/errors.js';
import { decodeBody, encodeBody } from '../../../../shared/domain/messages-codec.js';
import { FakeClock } from './fake-clock.js';

function setup(opts: { visibilityTimeout?: number; maxReceiveCount?: number } = {}) {
  const clock = new FakeClock();
  const dlq = new EmbeddedQueue({ name: 'dlq', clock });
  const q = new EmbeddedQueue({ name: 'main', clock, deadLetter: dlq, visibilityTimeout: 10, ...opts });
  return { clock, dlq, q };
}

describe('EmbeddedQueue', () => {
  it('redelivers a message not deleted within its visibility timeout with DequeueCount + 1 and a new handle', async () => {
    // Prepare
    const { clock, q } = setup({ visibilityTimeout: 10 });
    await q.send([{ body: 'b1' }]);
    // Act
    const [first] = await q.receive(16, 0);
    const hidden = await q.receive(16, 0);
    clock.advance(10_000);
    const [second] = await q.receive(16, 0);
    // Assess
    assert.ok(first && second);
    assert.equal(first.dequeueCount, 1);
    assert.deepEqual(hidden, []);
    assert.equal(second.messageId, first.messageId);
    assert.equal(second.dequeueCount, 2);
    assert.notEqual(second.receiptHandle, first.receiptHandle);
    assert.equal(second.firstDequeueTime, first.firstDequeueTime);
    await assert.rejects(q.delete(first.receiptHandle), QueueReceiptHandleError);
    await q.delete(second.receiptHandle);
    clock.advance(60_000);
    assert.deepEqual(await q.receive(16, 0), []);
  });

  it('dead-letters after maxReceiveCount receives, into a queue that can be inspected', async () => {
    const { clock, q, dlq } = setup({ visibilityTimeout: 5, maxReceiveCount: 3 });
    await q.send([{ body: 'poison' }, { body: 'fine' }]);
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const got = await q.receive(16, 0);
      const poison = got.find((m) => m.body === 'poison');
      assert.ok(poison);
      counts.push(poison.dequeueCount);
      const fine = got.find((m) => m.body === 'fine');
      if (fine) await q.delete(fine.receiptHandle);
      clock.advance(5_000);
    }
    assert.deepEqual(counts, [1, 2, 3]);
    assert.deepEqual(await q.receive(16, 0), []);
    const dead = dlq.messages();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.body, 'poison');
    assert.equal(q.stats().deadLettered, 1);
    const [again] = await dlq.receive(1, 0);
    assert.equal(again?.body, 'poison');
    assert.equal(again?.dequeueCount, 1);
  });

  it('holds delayed messages back and honours priority (1 first)', async () => {
    const { clock, q } = setup();
    await q.send([{ body: 'late', delaySeconds: 30 }, { body: 'low', priority: 16 }, { body: 'high', priority: 1 }]);
    const got = await q.receive(16, 0);
    assert.deepEqual(
      got.map((m) => m.body),
      ['high', 'low'],
    );
    assert.equal(q.stats().delayed, 1);
    for (const m of got) await q.delete(m.receiptHandle);
    clock.advance(30_000);
    assert.deepEqual(
      (await q.receive(16, 0)).map((m) => m.body),
      ['late'],
    );
  });

  it('changes visibility: the new handle works, the old one is stale', async () => {
    const { clock, q } = setup({ visibilityTimeout: 10 });
    await q.send([{ body: 'x' }]);
    const [m] = await q.receive(1, 0);
    assert.ok(m);
    const h2 = await q.changeVisibility(m.receiptHandle, 100);
    clock.advance(50_000);
    assert.deepEqual(await q.receive(1, 0), []);
    await assert.rejects(q.delete(m.receiptHandle), (e: unknown) => e instanceof QueueError && e.code === 'ReceiptHandleError');
    await q.delete(h2);
    assert.equal(q.stats().messages, 0);
  });

  it('long-polls: a waiting receive returns as soon as a message is sent', async () => {
    const q = new EmbeddedQueue({ name: 'lp' });
    const pending = q.receive(4, 20);
    await q.send([{ body: 'wake' }]);
    const got = await pending;
    assert.equal(got[0]?.body, 'wake');
    q.close();
  });

  it('round-trips bodies with &, <, unicode and 60 KB, and refuses a 65 KB body with a typed error', async () => {
    const { q } = setup();
    const value = { text: 'a & b < c > d "e" \'f\' 中文 🚀', pad: 'x'.repeat(100) };
    const big = 'y'.repeat(60 * 1024);
    await q.send([{ body: encodeBody(value) }, { body: big }]);
    const got = await q.receive(16, 0);
    assert.deepEqual(decodeBody(got[0]?.body ?? ''), value);
    assert.equal(got[1]?.body, big);
    await assert.rejects(q.send([{ body: 'z'.repeat(65 * 1024) }]), QueueMessageTooLargeError);
  });
});
