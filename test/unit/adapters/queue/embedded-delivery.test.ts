import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { startEmbeddedDelivery } from '../../../../shared/adapters/queue/embedded-delivery.js';
import { EmbeddedQueue } from '../../../../shared/adapters/queue/embedded.js';
import {
  buildMnsCloudEvents,
  type MnsCloudEvent,
  maxRetries,
  retryDelayMs,
  type StreamHandle,
} from '../../../../shared/sim/eventbridge.js';
import type { FcContextLike } from '../../../../shared/sim/fc.js';
import { decodeBody, encodeBody } from '../../../../shared/domain/messages-codec.js';
import { encodeMessage, priorityOf, type StatusTick } from '../../../../shared/domain/messages.js';

async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

describe('CloudEvents for an MNS queue trigger', () => {
  const info = { region: 'cn-hangzhou', accountId: '1234', queueName: 'pods', source: 'MNS-pod-sync-t' };

  it('builds one event per message with the EventBridge fields and base64-decoded bodies', () => {
    let n = 0;
    const events = buildMnsCloudEvents(
      [
        { messageId: 'M1', body: encodeBody({ a: '&<中' }), enqueueTime: 0, requestId: 'R1' },
        { messageId: 'M2', body: 'not base64!', enqueueTime: 1000 },
      ],
      info,
      { base64Decode: true, now: 5000, newId: () => `id-${++n}` },
    );
    assert.equal(events.length, 2);
    const [e1, e2] = events as [MnsCloudEvent, MnsCloudEvent];
    assert.equal(e1.id, 'id-1');
    assert.equal(e1.specversion, '1.0');
    assert.equal(e1.type, 'mns:Queue:SendMessage');
    assert.equal(e1.source, 'MNS-pod-sync-t');
    assert.equal(e1.subject, 'acs:mns:cn-hangzhou:1234:queues/pods');
    assert.equal(e1.datacontenttype, 'application/json; charset=utf-8');
    assert.equal(e1.aliyunaccountid, '1234');
    assert.equal(e1.aliyunregionid, 'cn-hangzhou');
    assert.equal(e1.time, new Date(0).toISOString());
    assert.equal(e1.aliyunpublishtime, new Date(5000).toISOString());
    assert.deepEqual(e1.data, { requestId: 'R1', messageId: 'M1', messageBody: '{"a":"&<中"}' });
    assert.equal(e2.data.messageBody, 'not base64!');
  });

  it('leaves bodies alone when IsBase64Decode is off', () => {
    const body = encodeBody({ x: 1 });
    const [e] = buildMnsCloudEvents([{ messageId: 'M', body, enqueueTime: 0 }], info, {
      base64Decode: false,
      now: 0,
      newId: () => 'i',
    });
    assert.equal(e?.data.messageBody, body);
  });

  it('spaces retries as EventBridge does', () => {
    assert.equal(maxRetries('BACKOFF_RETRY'), 3);
    assert.equal(maxRetries('EXPONENTIAL_DECAY_RETRY'), 176);
    assert.equal(retryDelayMs('BACKOFF_RETRY', 1, () => 0), 10_000);
    assert.equal(retryDelayMs('BACKOFF_RETRY', 2, () => 0.999999), 19_999);
    const exp = [1, 2, 3, 10, 11, 176].map((r) => retryDelayMs('EXPONENTIAL_DECAY_RETRY', r, Math.random));
    assert.deepEqual(exp, [1000, 2000, 4000, 512_000, 512_000, 512_000]);
  });
});

describe('startEmbeddedDelivery', () => {
  let running: StreamHandle | undefined;
  const queues: EmbeddedQueue[] = [];
  const mk = (name: string): EmbeddedQueue => {
    const q = new EmbeddedQueue({ name, visibilityTimeout: 30 });
    queues.push(q);
    return q;
  };
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    for (const q of queues.splice(0)) q.close();
  });

  it('delivers CloudEvents array Buffers in batches, bodies decoded, and deletes what was delivered', async () => {
    // Prepare
    const q = mk('pods');
    const sent = Array.from({ length: 25 }, (_, i) => ({ i, s: `p&<${i}` }));
    await q.send(sent.map((v) => ({ body: encodeBody(v) })));
    const batches: unknown[][] = [];
    let ctx: FcContextLike | undefined;
    // Act
    running = startEmbeddedDelivery({
      queue: q,
      batchSize: 10,
      batchWindowSeconds: 1,
      timeScale: 0.01,
      functionName: 'pod-sync',
      handler: async (event, context) => {
        assert.ok(Buffer.isBuffer(event));
        const arr = JSON.parse(event.toString('utf8')) as MnsCloudEvent[];
        batches.push(arr.map((e) => decodeBody(e.data.messageBody)));
        ctx = context;
      },
    });
    await until(() => batches.flat().length >= 25, '25 delivered messages');
    // Assess
    assert.ok(batches.every((b) => b.length >= 1 && b.length <= 10));
    assert.ok(batches.length >= 3);
    assert.deepEqual(
      batches.flat().sort((a, b) => (a as { i: number }).i - (b as { i: number }).i),
      sent,
    );
    assert.equal(ctx?.function.name, 'pod-sync');
    assert.ok(ctx?.requestId);
    await until(() => q.stats().messages === 0, 'the queue to empty');
  });

  it('delivers a status tick sent behind a burst of nudges in the first batch (tick priority)', async () => {
    // Prepare: 30 create nudges queued, then one tick with the priority the watcher gives it
    const q = mk('pods');
    const nudges = Array.from({ length: 30 }, (_, i) => encodeMessage({ v: 1, kind: 'pod', namespace: 'n', name: `p${i}`, uid: `u${i}`, reason: 'bound' }));
    await q.send(nudges.map((body) => ({ body })));
    const tick: StatusTick = { v: 1, kind: 'status-tick', at: 'now', pods: [{ namespace: 'n', name: 'p0', uid: 'u0' }] };
    await q.send([{ body: encodeMessage(tick), priority: priorityOf(tick) }]);
    const batches: string[][] = [];
    // Act
    running = startEmbeddedDelivery({
      queue: q,
      batchSize: 10,
      batchWindowSeconds: 0,
      maximumTasks: 1,
      handler: async (event) => {
        const arr = JSON.parse(event.toString('utf8')) as MnsCloudEvent[];
        batches.push(arr.map((e) => (JSON.parse(e.data.messageBody) as { kind: string }).kind));
      },
    });
    await until(() => batches.flat().length >= 31, '31 delivered messages');
    // Assess
    assert.equal(batches[0]?.[0], 'status-tick');
    assert.equal(batches.flat().filter((k) => k === 'status-tick').length, 1);
  });

  it('retries a failing batch whole, then succeeds', async () => {
    const q = mk('pods');
    await q.send([{ body: encodeBody({ n: 1 }) }, { body: encodeBody({ n: 2 }) }]);
    const seen: string[][] = [];
    running = startEmbeddedDelivery({
      queue: q,
      batchSize: 2,
      batchWindowSeconds: 5,
      timeScale: 0.001,
      handler: async (event) => {
        const arr = JSON.parse(event.toString()) as MnsCloudEvent[];
        seen.push(arr.map((e) => e.data.messageId));
        if (seen.length < 3) throw new Error('boom');
      },
    });
    await until(() => running?.stats().delivered === 2, 'delivery');
    assert.equal(seen.length, 3);
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[2], seen[0]);
    assert.equal(seen[0]?.length, 2);
    assert.equal(running.stats().failures, 2);
    await until(() => q.stats().messages === 0, 'the queue to empty');
  });

  it('dead-letters the original bodies after 1 + 3 attempts (BACKOFF_RETRY)', async () => {
    const q = mk('pods');
    const dlq = mk('dlq');
    const bodies = [encodeBody({ bad: 1 }), encodeBody({ bad: 2 })];
    await q.send(bodies.map((body) => ({ body })));
    let attempts = 0;
    running = startEmbeddedDelivery({
      queue: q,
      deadLetter: dlq,
      batchSize: 2,
      batchWindowSeconds: 5,
      timeScale: 0.001,
      handler: async () => {
        attempts++;
        throw new Error('always');
      },
    });
    await until(() => running?.stats().deadLettered === 2, 'dead-lettering');
    assert.equal(attempts, 4);
    assert.deepEqual(dlq.messages().map((m) => m.body).sort(), [...bodies].sort());
    await until(() => q.stats().messages === 0, 'the source queue to empty');
  });

  it('drops without a dead-letter target, and blocks with errorsTolerance NONE', async () => {
    const q = mk('pods');
    await q.send([{ body: encodeBody({ x: 1 }) }]);
    running = startEmbeddedDelivery({
      queue: q,
      timeScale: 0.001,
      batchSize: 1,
      handler: async () => {
        throw new Error('no');
      },
    });
    await until(() => running?.stats().dropped === 1, 'the drop');
    await running.stop();

    const q2 = mk('pods2');
    await q2.send([{ body: encodeBody({ y: 1 }) }]);
    running = startEmbeddedDelivery({
      queue: q2,
      timeScale: 0.001,
      batchSize: 1,
      errorsTolerance: 'NONE',
      handler: async () => {
        throw new Error('no');
      },
    });
    await until(() => running?.stats().blocked === true, 'the block');
    assert.equal(q2.stats().messages, 1);
  });
});
