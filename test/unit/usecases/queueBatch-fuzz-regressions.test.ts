/**
 * Regressions found by the fuzz driver (test/fuzz): a malformed message whose body grows past 64 KiB when encoded
 * (CJK text, control characters escaped six-fold by JSON) made the dead letter too large for the queue, so the whole
 * dead-letter send failed and every malformed message of the batch was dropped. And the pod-sync handler rejected an
 * event that could not be parsed for any reason other than FcEventError, so EventBridge retried it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createHandler } from '../../../functions/pod-sync/index.js';
import { EmbeddedQueue } from '../../../shared/adapters/queue/embedded.js';
import { bridgeFactory } from '../../../shared/compose.js';
import { parseConfig } from '../../../shared/domain/config.js';
import { decodeBody } from '../../../shared/domain/messages-codec.js';
import { MAX_MESSAGE_BYTES } from '../../../shared/domain/messages.js';
import { PodSync } from '../../../shared/usecases/podSync.js';
import { type BatchReport, type DeadLetterBody, fittedDeadLetter, processQueueBatch, type QueueItem } from '../../../shared/usecases/queueBatch.js';
import { StatusSync } from '../../../shared/usecases/statusSync.js';
import { FakeClock, FakeCluster, FakeEci, FakeQueue, silentLogger, world } from './fakes.js';

const hostileBodies = [
  { name: '60,000 CJK characters', body: '界'.repeat(60_000) },
  { name: '60,000 control characters', body: '\u0001'.repeat(60_000) },
  { name: '3 MB of ASCII', body: 'x'.repeat(3 << 20) },
  { name: 'quotes and backslashes', body: '"\\'.repeat(40_000) },
];

describe('dead letters fit the queue (fuzz regressions)', () => {
  for (const c of hostileBodies) {
    it(`a malformed message of ${c.name} is dead-lettered within 64 KiB, with its reason and the start of its body`, async () => {
      const w = world();
      const dlq = new EmbeddedQueue({ name: 'dlq' }); // refuses a message over 64 KiB, as MNS does
      const items: QueueItem[] = [
        { ok: false, messageId: 'BAD', reason: 'not-base64', detail: 'message body is neither JSON nor base64', body: c.body },
        { ok: false, messageId: 'SMALL', reason: 'not-json', detail: 'message body is not JSON', body: 'e30x' },
      ];
      const report = await processQueueBatch(items, {
        podSync: new PodSync(w.deps),
        statusSync: new StatusSync(w.deps),
        deadLetter: dlq,
        logger: silentLogger,
        now: () => 0,
      });
      assert.equal(report.deadLettered, 2);
      const stored = dlq.messages();
      assert.equal(stored.length, 2);
      for (const m of stored) assert.ok(Buffer.byteLength(m.body) <= MAX_MESSAGE_BYTES);
      const bad = stored.map((m) => decodeBody(m.body) as DeadLetterBody).find((d) => d.deadLetter.messageId === 'BAD');
      assert.equal(bad?.deadLetter.reason, 'not-base64');
      assert.ok(bad?.body.startsWith(c.body.slice(0, 100)));
      assert.ok(bad?.body.endsWith('…(truncated)'));
      dlq.close();
    });
  }

  it('a small body is kept whole', () => {
    const enc = fittedDeadLetter({ deadLetter: { reason: 'schema', detail: 'd', messageId: 'm', at: 't', source: 'pod-sync' }, body: '{"v":9}' });
    assert.equal((decodeBody(enc) as DeadLetterBody).body, '{"v":9}');
  });
});

describe('the pod-sync handler on unparsable events (fuzz regressions)', () => {
  it('dead-letters an event nested 200,000 deep as one envelope message and resolves', async () => {
    const clock = new FakeClock();
    const dlq = new EmbeddedQueue({ name: 'dlq' });
    const config = parseConfig({ QUEUE_KIND: 'embedded', LOG_LEVEL: 'silent' });
    const bridges = bridgeFactory(config, { cluster: new FakeCluster(), eci: new FakeEci(clock), queue: new FakeQueue(), deadLetter: dlq, clock, logger: silentLogger });
    const handler = createHandler(bridges, () => silentLogger);
    const ctx = { requestId: randomUUID(), credentials: { accessKeyId: '', accessKeySecret: '', securityToken: '' }, function: { name: 'pod-sync' }, region: 'cn-hangzhou', accountId: '1' };
    const deep = Buffer.from(`[${'{"a":'.repeat(200_000)}{}${'}'.repeat(200_000)}]`);
    const report = (await handler(deep, ctx)) as BatchReport;
    assert.equal(report.deadLettered, 1);
    const [dl] = dlq.messages().map((m) => decodeBody(m.body) as DeadLetterBody);
    assert.equal(dl?.deadLetter.reason, 'envelope');
    assert.equal(dl?.deadLetter.messageId, ctx.requestId);
    dlq.close();
  });
});
