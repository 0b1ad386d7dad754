/**
 * The log budget, the shared pollers and the archive, over in-memory ports: one poller per container whatever
 * the number of followers, stopped with the last follower or when the container ends (after a final poll), the
 * group's disappearance ends the followers; a spent budget answers 429 with the reason and slows pollers down;
 * archives are bounded per container and in total (oldest evicted), kept once per pod, swept with their pods.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { ContainerGroups, KubeletSupport, LogArchiveRecord } from '../../../../shared/ports/index.js';
import { compressTail, LogArchive } from '../../../../watcher/kubelet/archive.js';
import type { LogLine } from '../../../../watcher/kubelet/logLines.js';
import { LogBudget, LogFollowers } from '../../../../watcher/kubelet/logs.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, Math.min(ms, 5));
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });
const stamp = (ms: number) => new Date(ms).toISOString();

/** A container log that grows by one line per call; `gone` makes the group disappear. */
function growingLog() {
  const lines: string[] = [];
  const state = { calls: 0, gone: false, starts: [] as (string | undefined)[] };
  const eci: Pick<ContainerGroups, 'logs'> = {
    async logs(_id, _c, opts) {
      state.calls++;
      state.starts.push(opts?.startTime);
      if (state.gone) throw Object.assign(new Error('The specified ContainerGroupId is not found.'), { kind: 'notFound' });
      lines.push(`${stamp(Date.now())} line ${lines.length + 1}`);
      const from = opts?.startTime ? Date.parse(opts.startTime) : 0;
      return lines.filter((l) => Date.parse(l.split(' ')[0] ?? '') >= from).map((l) => `${l}\n`).join('');
    },
  };
  return { eci, state };
}

describe('kubelet logs: budget and pollers', () => {
  it('a spent budget refuses with 429 and says what, how much and when to retry', () => {
    let now = 0;
    const budget = new LogBudget({ callsPerMinute: 60, now: () => now });
    for (let i = 0; i < 10; i++) budget.take();
    assert.throws(
      () => budget.take(),
      (e: Error & { status?: number; retryAfterSeconds?: number }) =>
        e.status === 429 && e.retryAfterSeconds === 1 && /DescribeContainerLog quota \(60 calls\/min of ECI's 500\/min per account, KUBELET_LOG_CALLS_PER_MINUTE\) is spent; retry in 1s/.test(e.message),
    );
    now = 1000;
    budget.take();
  });

  it('two followers share one poller; it stops with the last one', async () => {
    const { eci, state } = growingLog();
    const f = new LogFollowers({ eci, budget: new LogBudget({ callsPerMinute: 500, now: Date.now }), log: silent, now: Date.now, sleep, minIntervalMs: 1, maxIntervalMs: 2 });
    const got: [LogLine[], LogLine[]] = [[], []];
    const stopA = f.follow({ groupId: 'g', container: 'c' }, { lines: (l) => got[0].push(...l), end: () => {} }, async () => false);
    const stopB = f.follow({ groupId: 'g', container: 'c' }, { lines: (l) => got[1].push(...l), end: () => {} }, async () => false);
    assert.equal(f.active, 1);
    while (got[1].length < 5) await sleep(2);
    stopA();
    assert.equal(f.active, 1);
    stopB();
    assert.equal(f.active, 0);
    const calls = state.calls;
    await sleep(20);
    assert.equal(state.calls, calls, 'no poll after the last follower left');
    assert.deepEqual(got[0].map((l) => l.text), got[0].map((_, i) => `line ${i + 1}`));
    assert.ok(state.starts.slice(1).every((s) => s !== undefined && /Z$/.test(s)), 'each poll asks from the cursor second');
  });

  it('ends followers after a final poll once the container terminated, and when the group is gone', async () => {
    const { eci, state } = growingLog();
    const f = new LogFollowers({ eci, budget: new LogBudget({ callsPerMinute: 500, now: Date.now }), log: silent, now: Date.now, sleep, minIntervalMs: 1, maxIntervalMs: 2 });
    let terminated = false;
    const ends: string[] = [];
    const lines: LogLine[] = [];
    f.follow({ groupId: 'g', container: 'c' }, { lines: (l) => lines.push(...l), end: (r) => ends.push(r) }, async () => terminated);
    while (lines.length < 2) await sleep(2);
    terminated = true;
    while (ends.length === 0) await sleep(2);
    assert.deepEqual(ends, ['the container terminated']);
    assert.equal(lines.length, state.calls, 'the final poll delivered its line');

    const other = growingLog();
    const g = new LogFollowers({ eci: other.eci, budget: new LogBudget({ callsPerMinute: 500, now: Date.now }), log: silent, now: Date.now, sleep, minIntervalMs: 1, maxIntervalMs: 2 });
    const goneEnds: string[] = [];
    g.follow({ groupId: 'g', container: 'c' }, { lines: () => {}, end: (r) => goneEnds.push(r) }, async () => false);
    other.state.gone = true;
    while (goneEnds.length === 0) await sleep(2);
    assert.deepEqual(goneEnds, ['the container group is gone']);
    assert.equal(g.active, 0);
  });

  it('a poller whose budget is spent keeps the follower and counts the throttling', async () => {
    const { eci } = growingLog();
    const now = 0;
    const budget = new LogBudget({ callsPerMinute: 6, now: () => now });
    const f = new LogFollowers({ eci, budget, log: silent, now: () => now, sleep: (_ms, s) => sleep(1, s), minIntervalMs: 1, maxIntervalMs: 2 });
    const ends: string[] = [];
    const stop = f.follow({ groupId: 'g', container: 'c' }, { lines: () => {}, end: (r) => ends.push(r) }, async () => false);
    while (f.stats.throttled === 0) await sleep(2);
    assert.deepEqual(ends, []);
    stop();
  });
});

function memorySupport() {
  const store = new Map<string, LogArchiveRecord>();
  const support: Pick<KubeletSupport, 'listLogArchives' | 'getLogArchive' | 'putLogArchive' | 'deleteLogArchive'> = {
    async listLogArchives() {
      return [...store.values()];
    },
    async getLogArchive(_ns, _node, uid) {
      return store.get(uid);
    },
    async putLogArchive(_ns, _node, a) {
      store.set(a.podUid, a);
    },
    async deleteLogArchive(_ns, _node, uid) {
      store.delete(uid);
    },
  };
  return { support: support as KubeletSupport, store };
}

describe('kubelet logs: the archive', () => {
  it('keeps the newest lines that fit the per-container bound', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `${stamp(i)} line ${i} ${Math.random().toString(36)}`).join('\n');
    const gz = compressTail(text, 16 * 1024);
    assert.ok(gz.length <= 16 * 1024);
    const kept = gunzipSync(gz).toString().trimEnd().split('\n');
    assert.ok(kept.length > 100 && kept.length < 20_000);
    assert.match(kept.at(-1) ?? '', / line 19999 /);
  });

  it('archives once per pod, evicts the oldest over the total, reads back, sweeps pods that are gone', async () => {
    const { support, store } = memorySupport();
    let now = 1000;
    let calls = 0;
    const eci: Pick<ContainerGroups, 'logs'> = {
      async logs(id, c) {
        calls++;
        return Array.from({ length: 300 }, (_, i) => `${stamp(i)} ${id}/${c} ${i} ${Math.random().toString(36)}`).join('\n');
      },
    };
    const archive = new LogArchive({
      support,
      eci,
      budget: new LogBudget({ callsPerMinute: 500, now: () => now }),
      namespace: 'logs',
      node: 'vn',
      perContainerBytes: 4096,
      totalBytes: 20_000,
      now: () => now,
      log: silent,
    });
    for (let i = 0; i < 8; i++) {
      now += 1000;
      await archive.archive({ uid: `u${i}`, namespace: 'ns', name: `p${i}`, groupId: `g${i}`, containers: ['a', 'b'] });
    }
    await archive.archive({ uid: 'u7', namespace: 'ns', name: 'p7', groupId: 'g7', containers: ['a', 'b'] });
    assert.equal(calls, 16, 'each pod archived once');
    for (const a of store.values()) for (const gz of Object.values(a.containers)) assert.ok(gz.length <= 4096);
    assert.ok(archive.totalBytes <= 20_000);
    const kept = [...store.keys()];
    assert.ok(kept.length < 8 && kept.includes('u7'), `kept ${kept}`);
    assert.ok(!kept.includes('u0'), 'the oldest went first');
    const lines = await archive.read('u7', 'b');
    assert.match(lines?.at(-1)?.text ?? '', /^g7\/b 299 /);
    assert.equal(await archive.read('u7', 'nope'), undefined);
    assert.equal(await archive.sweep(new Set(['u7'])), kept.length - 1);
    assert.deepEqual([...store.keys()], ['u7']);
  });
});
