/**
 * ECI events → Kubernetes Events through the code the functions run: two pod-sync "instances" (two bridges, each
 * with its own lite Kubernetes client, as two FC instances have) handle a status tick for the same pod at the
 * same moment, so both mirror the same ECI events before either moves the pod's events-seen watermark. The real
 * apiserver must end with exactly one Event per ECI event, named deterministically, with ECI's count; when ECI
 * counts an event again, the same Event's count moves.
 *
 * The ECI emulator's clock is held still while the two invocations run, so both describe the same group state
 * (its events and counts) and the expected counts are what ECI shows at that moment.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { createHandler as createPodSync } from '../../../functions/pod-sync/index.js';
import { bridgeFactory } from '../../../shared/compose.js';
import { type Config, parseConfig } from '../../../shared/domain/config.js';
import type { FcEventHandler } from '../../../shared/sim/fc.js';
import { encodeMessage } from '../../../shared/domain/messages.js';
import { TAG_POD_UID } from '../../../shared/domain/names.js';
import { clusterCaPem, createTestNamespace, loadKubeConfig, NO_KUBECONFIG, podManifest, type TestNamespace, testKubeconfig, uniqueName, waitUntil } from '../../helpers/kube.js';
import { fcContext, queueEvent, RecordingQueue, silentLogger as silent } from '../../helpers/fc.js';

const kubeconfig = testKubeconfig();

interface EciEventWire {
  Reason?: string;
  Message?: string;
  Count?: number;
  FirstTimestamp?: string;
  LastTimestamp?: string;
}

describe('ECI events mirrored by two concurrent pod-sync invocations (real apiserver, ECI emulator)', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  let ns: TestNamespace;
  let emu: EciEmulator;
  let core: CoreV1Api;
  let frozenAt: number | undefined;
  const instances: FcEventHandler[] = [];
  const vnode = uniqueName('vnode');

  before(async () => {
    const kcPath = kubeconfig ?? '';
    ns = await createTestNamespace(kcPath, 'evmirror');
    const kc = loadKubeConfig(kcPath);
    core = kc.makeApiClient((await import('@kubernetes/client-node')).CoreV1Api);
    emu = await startEciEmulator({
      timeScale: 0.02,
      clock: { now: () => frozenAt ?? Date.now() },
      scenario: { seed: 13, backoffBaseSeconds: 1, backoffMaxSeconds: 2 },
    });
    const env = {
      CLUSTER_NAME: uniqueName('cluster'),
      VNODE_NAME: vnode,
      BRIDGE_NAMESPACE: ns.name,
      ECI_ENDPOINT: emu.endpoint,
      ECI_PROTOCOL: 'http',
      ECI_VSWITCH_IDS: 'vsw-test-a',
      ECI_SECURITY_GROUP_ID: 'sg-test',
      KUBE_API_SERVER: kc.getCurrentCluster()?.server,
      KUBE_TOKEN: kc.getCurrentUser()?.token,
      KUBE_CA: Buffer.from(clusterCaPem(kc)).toString('base64'),
      QUEUE_KIND: 'embedded',
      LOG_LEVEL: 'silent',
    };
    // two FC instances: each its own config, so its own Kubernetes client, ECI client and caches
    for (let i = 0; i < 2; i++) {
      const config: Config = parseConfig(env);
      instances.push(createPodSync(bridgeFactory(config, { queue: new RecordingQueue(), deadLetter: new RecordingQueue(), logger: silent }), () => silent));
    }
  });

  after(async () => {
    await emu?.close();
    await ns?.cleanup();
  });

  function tick(uid: string, name: string): string {
    return encodeMessage({ v: 1, kind: 'status-tick', at: new Date().toISOString(), pods: [{ namespace: ns.name, name, uid }] });
  }

  function eciEvents(uid: string): EciEventWire[] {
    const group = emu.groups().find((g) => ((g.Tags as { Key: string; Value: string }[] | undefined) ?? []).some((t) => t.Key === TAG_POD_UID && t.Value === uid));
    return (group?.Events as EciEventWire[] | undefined) ?? [];
  }

  async function podEvents(uid: string): Promise<CoreV1Event[]> {
    const list = await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.uid=${uid}` });
    return list.items.filter((e) => e.source?.component === 'eci');
  }

  /** Both instances handle the same tick at once, the emulator's clock held still. */
  async function concurrentTicks(uid: string, name: string): Promise<EciEventWire[]> {
    frozenAt = Date.now();
    try {
      await Promise.all(instances.map((handler) => handler(queueEvent([tick(uid, name)]), fcContext('pod-sync'))));
      return eciEvents(uid);
    } finally {
      frozenAt = undefined;
    }
  }

  function assertMirrored(seen: EciEventWire[], events: CoreV1Event[]): void {
    assert.ok(seen.length >= 3, `ECI shows several events (${seen.length})`);
    assert.equal(events.length, seen.length, `one Event per ECI event: ${events.map((e) => `${e.reason} x${e.count}`).join(', ')}`);
    for (const e of seen) {
      const mine = events.filter((k) => k.reason === e.Reason && k.message === e.Message);
      assert.equal(mine.length, 1, `${e.Reason}: exactly one Event`);
      assert.equal(mine[0]?.count, e.Count, `${e.Reason}: ECI's count`);
      assert.equal(mine[0]?.lastTimestamp?.toISOString(), new Date(e.LastTimestamp ?? '').toISOString(), `${e.Reason}: ECI's last time`);
    }
  }

  it('leaves one Event per ECI event with ECI count, and moves that count when ECI counts again', async () => {
    // Prepare: a crash-looping container, so ECI counts its BackOff and Started events up
    const created = await core.createNamespacedPod({
      namespace: ns.name,
      body: podManifest('crashloop', vnode, {
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1', command: ['eci-sim: crash-after 1'] }] },
      }),
    });
    const uid = created.metadata?.uid as string;
    const nudge = encodeMessage({ v: 1, kind: 'pod', namespace: ns.name, name: 'crashloop', uid, reason: 'bound' });
    await instances[0]?.(queueEvent([nudge]), fcContext('pod-sync'));
    const backOffCount = () => eciEvents(uid).find((e) => e.Reason === 'BackOff')?.Count ?? 0;
    await waitUntil('ECI counted BackOff twice', () => backOffCount() >= 2);

    // Act: both instances mirror the same events at once
    const first = await concurrentTicks(uid, 'crashloop');
    // Assess
    assertMirrored(first, await podEvents(uid));
    const names = new Map((await podEvents(uid)).map((e) => [e.reason, e.metadata?.name]));

    // ECI counts BackOff again: the next concurrent pair moves the same Event's count
    const before = first.find((e) => e.Reason === 'BackOff')?.Count ?? 0;
    await waitUntil('ECI counted BackOff again', () => backOffCount() > before);
    const second = await concurrentTicks(uid, 'crashloop');
    const events = await podEvents(uid);
    assertMirrored(second, events);
    for (const e of events) assert.equal(e.metadata?.name, names.get(e.reason) ?? e.metadata?.name, `${e.reason} kept its name`);
    assert.ok((events.find((e) => e.reason === 'BackOff')?.count ?? 0) > before);
  });
});
