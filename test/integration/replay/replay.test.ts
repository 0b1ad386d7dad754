/**
 * `eci-bridge replay` against the MNS emulator through the real MnsQueue adapter: every dead-letter shape is
 * classified with its reason, valid messages move to the pod queue (and leave the DLQ), invalid ones stay, and a
 * dry run changes nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startMnsEmulator, type MnsEmulator } from '../../../emulators/mns/index.js';
import { parseConfig } from '../../../shared/domain/config.js';
import { decodeMessage, encodeMessage, type QueueMessage } from '../../../shared/domain/messages.js';
import { cliQueues } from '../../../scripts/commands/_factory.js';
import { classifyDeadLetter, replay } from '../../../scripts/commands/replay.js';

const root = join(import.meta.dirname, '..', '..', '..');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const KEY = { accessKeyId: 'LTAIreplayTest', accessKeySecret: 'replay-secret' };

const nudge = (name: string): QueueMessage => ({ v: 1, kind: 'pod', namespace: 'default', name, uid: `uid-${name}`, reason: 'retry' });
const tick: QueueMessage = { v: 1, kind: 'status-tick', at: '2026-01-01T00:00:00Z', pods: [{ namespace: 'ns', name: 'p', uid: 'u-p' }] };
const podSyncDeadLetter = (inner: string, reason: string) =>
  b64(JSON.stringify({ deadLetter: { reason, detail: 'bad', messageId: 'M1', at: '2026-01-01T00:00:00Z', source: 'pod-sync' }, body: inner }));

/** One of each shape the DLQ can hold: three valid, two invalid. */
const SAMPLES = {
  podSyncValid: podSyncDeadLetter(JSON.stringify(nudge('fixed')), 'schema'),
  podSyncInvalid: podSyncDeadLetter('{"v":9,"kind":"pod"}', 'schema'),
  mnsPolicy: encodeMessage(nudge('redelivered')),
  eventBridge: b64(JSON.stringify([{ id: 'e1', source: 'MNS-pod-sync-pods-queue', data: { messageId: 'X', messageBody: JSON.stringify(tick) } }])),
  garbage: 'not base64 at all!',
};

describe('classifyDeadLetter', () => {
  it('recognises each dead-letter shape, with its origin and reason', () => {
    const v = Object.fromEntries(Object.entries(SAMPLES).map(([k, body]) => [k, classifyDeadLetter(body)]));
    assert.equal(v.podSyncValid?.valid, true);
    assert.match(v.podSyncValid?.origin ?? '', /^pod-sync/);
    assert.match(v.podSyncValid?.why ?? '', /^schema/);
    assert.equal(v.podSyncInvalid?.valid, false);
    assert.equal(v.mnsPolicy?.valid, true);
    assert.equal(v.mnsPolicy?.origin, 'MNS');
    assert.equal(v.eventBridge?.valid, true);
    assert.equal(v.eventBridge?.origin, 'EventBridge');
    assert.equal(v.garbage?.valid, false);
    const eb = v.eventBridge;
    assert.ok(eb?.valid);
    assert.deepEqual(eb.message, tick);
  });
});

describe('replay against the MNS emulator', () => {
  let mns: MnsEmulator;
  let env: Record<string, string>;

  before(async () => {
    mns = await startMnsEmulator({ accountId: '1234567890', credentials: [KEY] });
    env = {
      ALIBABA_CLOUD_ACCOUNT_ID: mns.accountId,
      ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
      MNS_ENDPOINT: mns.endpoint,
      MNS_QUEUE: 'replay-main',
      MNS_DEAD_LETTER_QUEUE: 'replay-dlq',
    };
  });

  after(async () => {
    await mns.close();
  });

  beforeEach(async () => {
    // fresh queues per test
    const suffix = Math.random().toString(36).slice(2, 8);
    env.MNS_QUEUE = `replay-main-${suffix}`;
    env.MNS_DEAD_LETTER_QUEUE = `replay-dlq-${suffix}`;
    mns.createQueue({ name: env.MNS_QUEUE });
    mns.createQueue({ name: env.MNS_DEAD_LETTER_QUEUE });
    const { deadLetter } = cliQueues(parseConfig(env));
    await deadLetter.send(Object.values(SAMPLES).map((body) => ({ body })));
  });

  it('dry run: reports 3 replayable and 2 invalid, and moves nothing', async () => {
    const { queue, deadLetter } = cliQueues(parseConfig(env));
    const lines: string[] = [];
    const res = await replay(deadLetter, queue, { max: 100, dryRun: true, print: (l) => lines.push(l) });
    assert.equal(res.replayed, 3);
    assert.equal(res.kept.length, 2);
    assert.equal(mns.messages(env.MNS_DEAD_LETTER_QUEUE ?? '').length, 5);
    assert.equal(mns.messages(env.MNS_QUEUE ?? '').length, 0);
    // released: everything is receivable again (after MNS's 1 s minimum visibility), not after the full timeout
    const again = new Set<string>();
    for (let i = 0; i < 5 && again.size < 5; i++) for (const m of await deadLetter.receive(16, 2)) again.add(m.messageId);
    assert.equal(again.size, 5);
    assert.equal(lines.filter((l) => l.includes('would replay')).length, 3);
  });

  it('moves the valid messages to the pod queue and keeps the invalid ones in the DLQ', async () => {
    const { queue, deadLetter } = cliQueues(parseConfig(env));
    const res = await replay(deadLetter, queue, { max: 100, dryRun: false, print: () => {} });
    assert.equal(res.replayed, 3);
    assert.equal(res.failed, 0);
    const moved = mns.messages(env.MNS_QUEUE ?? '').map((m) => decodeMessage(m.body));
    assert.deepEqual(
      moved.map((m) => (m.kind === 'pod' ? m.name : m.kind)).sort(),
      ['fixed', 'redelivered', 'status-tick'],
    );
    const left = mns.messages(env.MNS_DEAD_LETTER_QUEUE ?? '').map((m) => m.body).sort();
    assert.deepEqual(left, [SAMPLES.garbage, SAMPLES.podSyncInvalid].sort());
  });

  it('honours --max and runs end to end through the CLI', async () => {
    // async: the emulator runs in this process and must keep answering
    const res = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(root, 'scripts', 'cli.ts'), 'replay', '--max', '2'],
        { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } },
        (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(res.status, 0, res.stderr);
    const summaryLine = res.stdout.trim().split('\n').at(-1) ?? '';
    const [, replayed, kept] = /(\d+) replayed, (\d+) kept/.exec(summaryLine) ?? [];
    assert.equal(Number(replayed) + Number(kept), 2);
    assert.equal(mns.messages(env.MNS_DEAD_LETTER_QUEUE ?? '').length, 5 - Number(replayed));
    assert.ok(!res.stdout.includes(KEY.accessKeySecret));
  });
});
