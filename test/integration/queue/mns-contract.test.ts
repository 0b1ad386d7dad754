/**
 * Contract: the real @alicloud/mns 1.2.0 SDK — directly and through MnsQueue — against the MNS emulator.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import MNS from '@alicloud/mns';
import { type MnsEmulator, startMnsEmulator } from '../../../emulators/mns/index.js';
import { contentMd5, sign } from '../../../emulators/mns/signature.js';
import {
  QueueAuthError,
  QueueError,
  QueueMessageTooLargeError,
  QueueNotFoundError,
  QueueReceiptHandleError,
} from '../../../shared/adapters/queue/errors.js';
import { MnsQueue } from '../../../shared/adapters/queue/mns.js';
import { decodeBody, encodeBody } from '../../../shared/domain/messages-codec.js';

const ACCOUNT = '1234567890123456';
const AK = 'LTAItestkey0001';
const SECRET = 'test-secret-do-not-leak';
const STS_AK = 'STS.testkey0001';
const STS_SECRET = 'sts-secret-do-not-leak';
const STS_TOKEN = 'sts-token-1';
const STS_AK2 = 'STS.testkey0002';
const STS_TOKEN2 = 'sts-token-2';

let emu: MnsEmulator;
let offset = 0; // the emulator's message clock = wall clock + offset (to expire visibility without waiting)
let sdk: MNS;

function md5Upper(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
}

function adapter(queueName: string, creds = { accessKeyId: AK, accessKeySecret: SECRET }): MnsQueue {
  return new MnsQueue({ accountId: ACCOUNT, endpoint: emu.endpoint, queueName, credentials: creds });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).name;
  }
  return 'resolved';
}

/** A raw signed request, optionally tampered, to check what the SDK cannot produce. */
function raw(
  method: string,
  path: string,
  opts: { ak?: string; secret?: string; tamper?: boolean } = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(emu.endpoint);
  const date = new Date().toUTCString();
  const headers: Record<string, string> = { date, 'x-mns-version': '2015-06-06', host: url.host };
  let sig = sign(opts.secret ?? SECRET, method, headers, path);
  if (opts.tamper) sig = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
  headers.authorization = `MNS ${opts.ak ?? AK}:${sig}`;
  return new Promise((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  emu = await startMnsEmulator({
    accountId: ACCOUNT,
    credentials: [
      { accessKeyId: AK, accessKeySecret: SECRET },
      { accessKeyId: STS_AK, accessKeySecret: STS_SECRET, securityToken: STS_TOKEN },
      { accessKeyId: STS_AK2, accessKeySecret: STS_SECRET, securityToken: STS_TOKEN2 },
    ],
    clock: { now: () => Date.now() + offset },
    queues: [
      { name: 'redeliver', visibilityTimeout: 10, maxReceiveCount: 2, deadLetterQueue: 'redeliver-dlq' },
      { name: 'redeliver-dlq' },
    ],
  });
  sdk = new MNS(ACCOUNT, { endpoint: emu.endpoint, accessKeyId: AK, accessKeySecret: SECRET });
});

after(async () => {
  await emu.close();
});

describe('@alicloud/mns 1.2.0 directly against the emulator', () => {
  it('creates, inspects and deletes queues with MNS statuses', async () => {
    const created = await sdk.createQueue('direct-q', { VisibilityTimeout: 5 });
    assert.equal(created.code, 201);
    assert.equal(created.headers.location, `${emu.endpoint}/queues/direct-q`);
    assert.equal((await sdk.createQueue('direct-q', { VisibilityTimeout: 5 })).code, 204);
    assert.equal(await codeOf(sdk.createQueue('direct-q', { VisibilityTimeout: 6 })), 'MNSQueueAlreadyExistError');
    const attrs = await sdk.getQueueAttributes('direct-q');
    assert.equal(attrs.body.QueueName, 'direct-q');
    assert.equal(attrs.body.VisibilityTimeout, '5');
    assert.equal(attrs.body.MaximumMessageSize, '65536');
    const list = await sdk.listQueue();
    assert.ok(list.body.some((q) => q.QueueURL.endsWith('/queues/direct-q')));
    assert.equal((await sdk.deleteQueue('direct-q')).code, 204);
    assert.equal(await codeOf(sdk.getQueueAttributes('direct-q')), 'MNSQueueNotExistError');
  });

  it('sends, peeks, receives, changes visibility and deletes, one and in batches', async () => {
    await sdk.createQueue('ops', { VisibilityTimeout: 30 });
    const sent = await sdk.sendMessage('ops', { MessageBody: 'aGVsbG8=', Priority: 2 });
    assert.equal(sent.code, 201);
    assert.match(sent.body.MessageId, /^[0-9A-F]{32}$/);
    assert.equal(sent.body.MessageBodyMD5, md5Upper('aGVsbG8='));
    const batch = await sdk.batchSendMessage('ops', [{ MessageBody: 'b1' }, { MessageBody: 'b2' }, { MessageBody: 'b3', DelaySeconds: 60 }]);
    assert.equal(batch.body.length, 3);
    assert.ok(batch.body[2]?.ReceiptHandle, 'a delayed message comes with a receipt handle');

    const peek = await sdk.peekMessage('ops');
    assert.equal(peek.body.MessageBody, 'aGVsbG8=');
    assert.equal(peek.body.DequeueCount, '0');
    assert.equal((peek.body as unknown as Record<string, unknown>).ReceiptHandle, undefined);
    const peeked = await sdk.batchPeekMessage('ops', 16);
    assert.equal(peeked.body.length, 3);

    const one = await sdk.receiveMessage('ops', 1);
    assert.equal(one.body.MessageBody, 'aGVsbG8=', 'priority 2 comes before priority 8');
    assert.equal(one.body.DequeueCount, '1');
    assert.ok(Number(one.body.FirstDequeueTime) >= Number(one.body.EnqueueTime));
    assert.ok(Number(one.body.NextVisibleTime) > Number(one.body.FirstDequeueTime));
    const changed = await sdk.changeMessageVisibility('ops', one.body.ReceiptHandle, 100);
    assert.notEqual(changed.body.ReceiptHandle, one.body.ReceiptHandle);
    assert.equal(await codeOf(sdk.deleteMessage('ops', one.body.ReceiptHandle)), 'MNSReceiptHandleErrorError');
    assert.equal((await sdk.deleteMessage('ops', changed.body.ReceiptHandle)).code, 204);

    const two = await sdk.batchReceiveMessage('ops', 16, 1);
    assert.deepEqual(two.body.map((m) => m.MessageBody).sort(), ['b1', 'b2']);
    const partial = await sdk.batchDeleteMessage('ops', [two.body[0]?.ReceiptHandle ?? '', 'bogus-handle']);
    assert.deepEqual(partial.body?.map((e) => [e.ErrorCode, e.ReceiptHandle]), [['ReceiptHandleError', 'bogus-handle']]);
    const rest = await sdk.batchDeleteMessage('ops', [two.body[1]?.ReceiptHandle ?? '']);
    assert.equal(rest.code, 204);
    assert.equal(rest.body, undefined);
    const attrs = await sdk.getQueueAttributes('ops');
    assert.deepEqual([attrs.body.ActiveMessages, attrs.body.InactiveMessages, attrs.body.DelayMessages], ['0', '0', '1']);
  });

  it('answers an empty queue with 404 MessageNotExist, after long polling', async () => {
    await sdk.createQueue('empty');
    assert.equal(await codeOf(sdk.receiveMessage('empty', 1)), 'MNSMessageNotExistError');
    assert.equal(await codeOf(sdk.batchReceiveMessage('empty', 4)), 'MNSMessageNotExistError');
    assert.equal(await codeOf(sdk.peekMessage('empty')), 'MNSMessageNotExistError');
  });

  it('wakes a long poll when a message arrives', async () => {
    await sdk.createQueue('longpoll');
    const pending = sdk.batchReceiveMessage('longpoll', 16, 10);
    await new Promise((r) => setTimeout(r, 100));
    await sdk.sendMessage('longpoll', { MessageBody: 'wake' });
    const got = await pending;
    assert.equal(got.body[0]?.MessageBody, 'wake');
  });

  it('fails on an unescaped & (what @alicloud/mns sends for raw JSON) and on a body over 64 KiB', async () => {
    await sdk.createQueue('limits');
    assert.equal(await codeOf(sdk.sendMessage('limits', { MessageBody: '{"a":"x & y"}' })), 'MNSMalformedXMLError');
    assert.equal(await codeOf(sdk.sendMessage('limits', { MessageBody: 'z'.repeat(65 * 1024) })), 'MNSInvalidArgumentError');
    assert.equal(await codeOf(sdk.sendMessage('limits', { MessageBody: 'p', Priority: 17 })), 'MNSInvalidArgumentError');
    const many = Array.from({ length: 17 }, () => ({ MessageBody: 'm' }));
    assert.equal(await codeOf(sdk.batchSendMessage('limits', many)), 'MNSInvalidArgumentError');
  });
});

describe('authentication', () => {
  it('refuses a tampered signature, an unknown key and a wrong secret with the MNS error XML', async () => {
    const ok = await raw('GET', '/queues');
    assert.equal(ok.status, 200);
    const tampered = await raw('GET', '/queues', { tamper: true });
    assert.equal(tampered.status, 403);
    assert.match(tampered.body, /<Error xmlns="http:\/\/mns\.aliyuncs\.com\/doc\/v1\/"><Code>SignatureDoesNotMatch<\/Code>/);
    assert.match(tampered.body, /<RequestId>[0-9A-F]+<\/RequestId><HostId>/);
    const unknown = await raw('GET', '/queues', { ak: 'LTAInobody' });
    assert.equal(unknown.status, 403);
    assert.match(unknown.body, /<Code>InvalidAccessKeyId<\/Code>/);

    const wrong = new MNS(ACCOUNT, { endpoint: emu.endpoint, accessKeyId: AK, accessKeySecret: 'wrong' });
    assert.equal(await codeOf(wrong.getQueueAttributes('ops')), 'MNSSignatureDoesNotMatchError');
    const nobody = new MNS(ACCOUNT, { endpoint: emu.endpoint, accessKeyId: 'LTAInobody', accessKeySecret: SECRET });
    assert.equal(await codeOf(nobody.getQueueAttributes('ops')), 'MNSInvalidAccessKeyIdError');
  });

  it('checks Content-MD5 in the base64(hex(md5)) form', async () => {
    const good = contentMd5('<x/>');
    assert.equal(Buffer.from(good, 'base64').toString(), createHash('md5').update('<x/>').digest('hex'));
    // the SDK computes it for every write; a successful send proves the emulator accepts that form
    assert.equal((await sdk.sendMessage('ops', { MessageBody: 'md5' })).code, 201);
  });

  it('maps refused credentials to QueueAuthError without leaking the secret', async () => {
    const q = adapter('ops', { accessKeyId: AK, accessKeySecret: 'wrong-secret-value' });
    const err = await q.receive(1, 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof QueueAuthError);
    assert.equal(err.code, 'SignatureDoesNotMatch');
    let text = '';
    for (let e: unknown = err; e instanceof Error; e = e.cause) text += `${e.message}\n${e.stack ?? ''}\n`;
    assert.ok(!text.includes('wrong-secret-value'));
    assert.ok(!text.includes(SECRET));
  });

  it('accepts STS credentials (security-token header) and uses refreshed ones', async () => {
    const noToken = new MNS(ACCOUNT, { endpoint: emu.endpoint, accessKeyId: STS_AK, accessKeySecret: STS_SECRET });
    assert.equal(await codeOf(noToken.getQueueAttributes('ops')), 'MNSAccessDeniedError');
    let refreshed = 0;
    const q = new MnsQueue({
      accountId: ACCOUNT,
      endpoint: emu.endpoint,
      queueName: 'ops',
      credentials: { accessKeyId: STS_AK, accessKeySecret: STS_SECRET, securityToken: STS_TOKEN },
      refreshIntervalMs: 1,
      refreshCredentials: async () => {
        refreshed++;
        return { accessKeyId: STS_AK2, accessKeySecret: STS_SECRET, securityToken: STS_TOKEN2 };
      },
    });
    await q.attributes();
    await new Promise((r) => setTimeout(r, 5));
    await q.attributes();
    assert.ok(refreshed >= 1);
    assert.ok((emu.stats().accessKeys[STS_AK2] ?? 0) >= 1, 'the refreshed key signed a request');
  });
});

describe('MnsQueue against the emulator', () => {
  it('round-trips &, <, unicode (escaped by the adapter), base64 JSON and a 60 KB body; refuses 65 KB', async () => {
    await sdk.createQueue('bodies');
    const q = adapter('bodies');
    const rawBody = 'a & b < c > d ]]> \r\n "q" 中文 🚀';
    const json = { text: '<&>', u: 'ü中' };
    const big = 'x'.repeat(60 * 1024);
    await q.send([{ body: rawBody }, { body: encodeBody(json) }]);
    await q.send([{ body: big }]);
    const got = await q.receive(16, 1);
    assert.equal(got.length, 3);
    const bodies = got.map((m) => m.body);
    assert.ok(bodies.includes(rawBody));
    assert.ok(bodies.includes(big));
    const b64 = bodies.find((b) => b !== rawBody && b !== big) ?? '';
    assert.deepEqual(decodeBody(b64), json);
    await assert.rejects(q.send([{ body: 'y'.repeat(65 * 1024) }]), QueueMessageTooLargeError);
    for (const m of got) await q.delete(m.receiptHandle);
  });

  it('sends more than 16 in several batches and receives them all; empty is []', async () => {
    await sdk.createQueue('many');
    const q = adapter('many');
    const before = emu.stats().operations.BatchSendMessage ?? 0;
    await q.send(Array.from({ length: 40 }, (_, i) => ({ body: `m${i}` })));
    assert.equal((emu.stats().operations.BatchSendMessage ?? 0) - before, 3);
    const seen = new Set<string>();
    for (;;) {
      const got = await q.receive(16, 0);
      if (got.length === 0) break;
      assert.ok(got.length <= 16);
      for (const m of got) seen.add(m.body);
      const refused = await q.deleteMany(got.map((m) => m.receiptHandle));
      assert.deepEqual(refused, []);
    }
    assert.equal(seen.size, 40);
    assert.deepEqual(await q.receive(16, 1), []);
  });

  it('changes visibility and reports stale handles as QueueReceiptHandleError', async () => {
    await sdk.createQueue('vis');
    const q = adapter('vis');
    await q.send([{ body: 'v' }]);
    const [m] = await q.receive(1, 0);
    assert.ok(m);
    const h2 = await q.changeVisibility(m.receiptHandle, 60);
    await assert.rejects(q.delete(m.receiptHandle), QueueReceiptHandleError);
    await assert.rejects(q.changeVisibility(m.receiptHandle, 60), QueueReceiptHandleError);
    await q.delete(h2);
    assert.deepEqual(await q.peek(16), []);
  });

  it('reports a missing queue as QueueNotFoundError and an unreachable service as retryable', async () => {
    await assert.rejects(adapter('no-such-queue').send([{ body: 'x' }]), QueueNotFoundError);
    const down = new MnsQueue({
      accountId: ACCOUNT,
      endpoint: 'http://127.0.0.1:9',
      queueName: 'x',
      credentials: { accessKeyId: AK, accessKeySecret: SECRET },
      connectTimeoutMs: 2000,
    });
    const err = await down.receive(1, 0).catch((e: unknown) => e);
    assert.ok(err instanceof QueueError);
    assert.equal(err.retryable, true);
  });

  it('redelivers after the visibility timeout with DequeueCount + 1 and a new handle, then dead-letters', async () => {
    const q = adapter('redeliver');
    await q.send([{ body: 'poison' }]);
    const [first] = await q.receive(1, 0);
    assert.ok(first);
    assert.equal(first.dequeueCount, 1);
    assert.deepEqual(await q.receive(1, 0), []);
    offset += 10_000;
    const [second] = await q.receive(1, 0);
    assert.ok(second);
    assert.equal(second.messageId, first.messageId);
    assert.equal(second.dequeueCount, 2);
    assert.notEqual(second.receiptHandle, first.receiptHandle);
    await assert.rejects(q.delete(first.receiptHandle), QueueReceiptHandleError);
    offset += 10_000;
    assert.deepEqual(await q.receive(1, 0), [], 'received twice (maxReceiveCount 2): now in the dead letter');
    const dead = emu.messages('redeliver-dlq');
    assert.deepEqual(
      dead.map((m) => [m.messageId, m.body]),
      [[first.messageId, 'poison']],
    );
    assert.equal(emu.stats().deadLettered.redeliver, 1);
  });
});
