import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LeaderElector } from '../../../watcher/leader.js';
import { newClock, newFakeCluster, newLogger, until } from './fakes.js';

describe('LeaderElector', () => {
  const electors: LeaderElector[] = [];
  after(async () => {
    for (const e of electors) await e.stop({ release: false });
  });

  function elector(fc: ReturnType<typeof newFakeCluster>, identity: string, events: string[], leaseSeconds = 1) {
    const e = new LeaderElector({
      cluster: fc.cluster,
      clock: newClock().clock,
      log: newLogger(),
      namespace: 'eci-bridge',
      name: 'lead',
      identity,
      leaseSeconds,
      retrySeconds: 0.05,
      onStartedLeading: async () => void events.push(`${identity}+`),
      onStoppedLeading: async () => void events.push(`${identity}-`),
    });
    electors.push(e);
    return e;
  }

  it('elects exactly one of two replicas', async () => {
    const fc = newFakeCluster();
    const events: string[] = [];
    const a = elector(fc, 'a', events);
    const b = elector(fc, 'b', events);
    a.start();
    b.start();
    await until(() => a.isLeader || b.isLeader);
    await new Promise((r) => setTimeout(r, 200));
    assert.notEqual(a.isLeader, b.isLeader);
    assert.equal(events.length, 1);
    const holder = fc.leases.get('eci-bridge/lead')?.spec?.holderIdentity;
    assert.equal(holder, a.isLeader ? 'a' : 'b');
  });

  it('the leader renews without reading the lease; a lease someone else wrote since is read, and the leader steps down', async () => {
    const fc = newFakeCluster();
    const events: string[] = [];
    const a = elector(fc, 'a', events, 30);
    assert.equal(await a.tryAcquireOrRenew(), true); // acquires: one read (NotFound), one create
    const reads = () => fc.calls.filter((c) => c === 'getLease lead').length;
    assert.equal(reads(), 1);
    for (let i = 0; i < 5; i++) assert.equal(await a.tryAcquireOrRenew(), true);
    assert.equal(reads(), 1, 'renewals read nothing');
    // another replica takes the lease over (as after an expiry): the leader's next renewal conflicts and reads
    const cur = fc.leases.get('eci-bridge/lead');
    assert.ok(cur?.spec);
    fc.leases.set('eci-bridge/lead', { ...cur, metadata: { ...cur.metadata, resourceVersion: '999' }, spec: { ...cur.spec, holderIdentity: 'b' } });
    assert.equal(await a.tryAcquireOrRenew(), false);
    assert.equal(reads(), 2);
    assert.equal(fc.leases.get('eci-bridge/lead')?.spec?.holderIdentity, 'b');
  });

  it('hands over after the lease expires when the leader dies without releasing', async () => {
    const fc = newFakeCluster();
    const events: string[] = [];
    const a = elector(fc, 'a', events);
    a.start();
    await until(() => a.isLeader);
    const b = elector(fc, 'b', events);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.isLeader, false);
    await a.stop({ release: false }); // crash: no release
    await until(() => b.isLeader, 5000, 'takeover');
    const lease = fc.leases.get('eci-bridge/lead');
    assert.equal(lease?.spec?.holderIdentity, 'b');
    assert.equal(lease?.spec?.leaseTransitions, 1);
    assert.match(lease?.spec?.renewTime ?? '', /\.\d{6}Z$/);
  });

  it('hands over at once when the leader releases', async () => {
    const fc = newFakeCluster();
    const events: string[] = [];
    const a = elector(fc, 'a', events, 3600);
    a.start();
    await until(() => a.isLeader);
    const b = elector(fc, 'b', events, 3600);
    b.start();
    await new Promise((r) => setTimeout(r, 150));
    await a.stop({ release: true });
    assert.deepEqual(events, ['a+', 'a-']);
    await until(() => b.isLeader, 3000, 'takeover after release');
  });

  it('steps down when it cannot renew within the deadline', async () => {
    const fc = newFakeCluster();
    const events: string[] = [];
    const a = elector(fc, 'a', events, 0.3);
    a.start();
    await until(() => a.isLeader);
    fc.failLeases = true;
    await until(() => !a.isLeader, 3000, 'step down');
    assert.deepEqual(events, ['a+', 'a-']);
    assert.equal(a.healthy, false);
  });
});
