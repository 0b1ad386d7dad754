/**
 * The EventBridge → FC delivery simulator consuming the MNS emulator over HTTP, fed by MnsQueue (the real SDK).
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { type EventBridgeDelivery, startEventBridgeDelivery } from '../../../emulators/eventbridge/index.js';
import { type MnsEmulator, startMnsEmulator } from '../../../emulators/mns/index.js';
import { MnsQueue } from '../../../shared/adapters/queue/mns.js';
import type { MnsCloudEvent } from '../../../shared/sim/eventbridge.js';
import type { FcContextLike } from '../../../shared/sim/fc.js';
import { decodeBody, encodeBody } from '../../../shared/domain/messages-codec.js';

const ACCOUNT = '1234567890123456';
const creds = { accessKeyId: 'LTAIeventbridge', accessKeySecret: 'eb-secret' };
let emu: MnsEmulator;
let sim: EventBridgeDelivery | undefined;

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function producer(queueName: string): MnsQueue {
  return new MnsQueue({ accountId: ACCOUNT, endpoint: emu.endpoint, queueName, credentials: creds });
}

before(async () => {
  emu = await startMnsEmulator({
    accountId: ACCOUNT,
    region: 'cn-shanghai',
    credentials: [creds],
    queues: [{ name: 'pods' }, { name: 'fail' }, { name: 'fail-dlq' }, { name: 'drain' }],
  });
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});
after(async () => {
  await emu.close();
});

describe('EventBridge delivery simulator', () => {
  it('delivers batches as a CloudEvents array Buffer with base64-decoded bodies, then deletes them', async () => {
    // Prepare
    const values = Array.from({ length: 30 }, (_, i) => ({ v: 1, i, note: `<&> ${i} 中` }));
    await producer('pods').send(values.map((v) => ({ body: encodeBody(v) })));
    const batches: MnsCloudEvent[][] = [];
    const contexts: FcContextLike[] = [];
    // Act
    sim = startEventBridgeDelivery({
      mns: { endpoint: emu.endpoint, ...creds },
      queueName: 'pods',
      accountId: ACCOUNT,
      region: 'cn-shanghai',
      functionName: 'pod-sync',
      triggerName: 'queue',
      batchSize: 8,
      batchWindowSeconds: 2,
      timeScale: 0.01,
      handler: async (event, context) => {
        assert.ok(Buffer.isBuffer(event));
        batches.push(JSON.parse(event.toString('utf8')) as MnsCloudEvent[]);
        contexts.push(context);
      },
    });
    await until(() => batches.flat().length >= 30, 'all deliveries');
    await until(() => (emu.stats().queues.pods?.messages ?? -1) === 0, 'deletion');
    // Assess
    assert.ok(batches.every((b) => Array.isArray(b) && b.length >= 1 && b.length <= 8));
    const events = batches.flat();
    const got = events.map((e) => JSON.parse(e.data.messageBody) as { i: number }).sort((a, b) => a.i - b.i);
    assert.deepEqual(got, values);
    const e = events[0] as MnsCloudEvent;
    assert.equal(e.source, 'MNS-pod-sync-queue');
    assert.equal(e.type, 'mns:Queue:SendMessage');
    assert.equal(e.subject, `acs:mns:cn-shanghai:${ACCOUNT}:queues/pods`);
    assert.match(e.data.messageId, /^[0-9A-F]{32}$/);
    assert.ok(e.data.requestId.length > 0);
    assert.equal(new Set(events.map((x) => x.id)).size, 30);
    assert.equal(contexts[0]?.function.name, 'pod-sync');
    assert.equal(contexts[0]?.accountId, ACCOUNT);
    assert.equal(contexts[0]?.credentials.accessKeyId, creds.accessKeyId);
    assert.ok((emu.stats().operations.BatchReceiveMessage ?? 0) > 0);
  });

  it('retries a failing batch per BACKOFF_RETRY, then dead-letters it to an MNS queue', async () => {
    const bodies = [encodeBody({ bad: 1 }), encodeBody({ bad: 2 })];
    await producer('fail').send(bodies.map((body) => ({ body })));
    const attempts: string[][] = [];
    sim = startEventBridgeDelivery({
      mns: { endpoint: emu.endpoint, ...creds },
      queueName: 'fail',
      accountId: ACCOUNT,
      deadLetterQueue: 'fail-dlq',
      batchSize: 2,
      batchWindowSeconds: 5,
      timeScale: 0.001,
      handler: async (event) => {
        attempts.push((JSON.parse(event.toString()) as MnsCloudEvent[]).map((e) => e.data.messageId));
        throw new Error('handler failed');
      },
    });
    await until(() => sim?.stats().deadLettered === 2, 'dead-lettering');
    assert.equal(attempts.length, 4, 'one attempt and three retries');
    assert.ok(attempts.every((a) => JSON.stringify(a) === JSON.stringify(attempts[0])), 'the whole batch each time');
    const dead = emu.messages('fail-dlq').map((m) => m.body);
    assert.deepEqual([...dead].sort(), [...bodies].sort());
    assert.deepEqual(dead.map((b) => decodeBody(b)).length, 2);
    await until(() => (emu.stats().queues.fail?.messages ?? -1) === 0, 'the source queue to empty');
  });

  it('stops cleanly: aborts the long poll, leaves undelivered messages on the queue', async () => {
    sim = startEventBridgeDelivery({
      mns: { endpoint: emu.endpoint, ...creds },
      queueName: 'drain',
      accountId: ACCOUNT,
      pollWaitSeconds: 30,
      handler: async () => undefined,
    });
    await until(() => (emu.stats().operations.BatchReceiveMessage ?? 0) > 0, 'a long poll');
    await sim.stop();
    sim = undefined;
    await producer('drain').send([{ body: encodeBody({ later: true }) }]);
    const left = await producer('drain').receive(1, 0);
    assert.equal(left.length, 1);
  });
});
