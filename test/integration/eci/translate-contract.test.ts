/**
 * Contract: every field the translator emits reaches ECI. Each pod of the golden manifests, plus a pod carrying
 * every annotation with a request field, goes through `translate` (what pod-sync creates) and the real ECI adapter
 * (SDK 2.0.3 plus the extra query parameters for the fields its model lacks) to the emulator, which refuses any
 * parameter name ECI does not document and keeps what it received. The received parameters, rebuilt into the
 * nested wire shape by the emulator's own parser, must equal the translated request field for field: a field the
 * adapter drops, renames or misspells fails here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EciEmulator, startEciEmulator } from '../../../emulators/eci/index.js';
import { unflatten } from '../../../emulators/eci/params.js';
import type { Io } from '../../../scripts/commands/_manifests.js';
import { translateCommand } from '../../../scripts/commands/translate.js';
import { EciContainerGroups } from '../../../shared/adapters/eci/index.js';
import type { EciCreateRequest } from '../../../shared/domain/eci.js';

const KEY = { accessKeyId: 'LTAIcontract', accessKeySecret: 'contract-secret' };
const golden = join(import.meta.dirname, '..', '..', 'fixtures', 'golden');

/** A pod with every annotation that sets a CreateContainerGroup field (shared/domain/annotations.ts). */
const EVERY_ANNOTATION = `
apiVersion: v1
kind: Pod
metadata:
  name: every-annotation
  namespace: contract
  uid: 0f0e0d0c-0b0a-4909-8807-060504030201
  annotations:
    k8s.aliyun.com/eci-vswitch: vsw-a1,vsw-b2
    k8s.aliyun.com/eci-schedule-strategy: VSwitchRandom
    k8s.aliyun.com/eci-security-group: sg-contract
    k8s.aliyun.com/eci-use-specs: 2-4Gi
    k8s.aliyun.com/eci-compute-category: economy,general
    k8s.aliyun.com/eci-gpu-driver-version: tesla=525.85.12
    k8s.aliyun.com/eci-max-pending-minute: "30"
    k8s.aliyun.com/eci-spot-strategy: SpotWithPriceLimit
    k8s.aliyun.com/eci-spot-price-limit: "0.5"
    k8s.aliyun.com/eci-spot-duration: "0"
    k8s.aliyun.com/eci-ram-role-name: AliyunECIContainerGroupRole
    k8s.aliyun.com/eci-cpu-option-core: "2"
    k8s.aliyun.com/eci-cpu-option-ht: "1"
    k8s.aliyun.com/eci-auto-imc: "true"
    k8s.aliyun.com/eci-imc-id: imc-contract
    k8s.aliyun.com/plain-http-registry: registry.local:5000
    k8s.aliyun.com/insecure-registry: registry2.local
    k8s.aliyun.com/eci-data-cache-bucket: default
    k8s.aliyun.com/eci-data-cache-pl: PL1
    k8s.aliyun.com/eci-data-cache-provisionedIops: "100"
    k8s.aliyun.com/eci-data-cache-burstingEnabled: "true"
    k8s.aliyun.com/eci-eip-instanceid: eip-contract
    k8s.aliyun.com/eip-bandwidth: "5"
    k8s.aliyun.com/eip-common-bandwidth-package-id: cbwp-contract
    k8s.aliyun.com/eip-isp: BGP
    k8s.aliyun.com/eci-enable-ipv6: "true"
    k8s.aliyun.com/eci-ipv6-bandwidth-enable: "true"
    k8s.aliyun.com/eci-ipv6-bandwidth: 100M
    k8s.aliyun.com/eci-private-ip-address: 172.16.0.1
    k8s.aliyun.com/eci-fixed-ip: "true"
    k8s.aliyun.com/eci-fixed-ip-retain-hour: "24"
    kubernetes.io/ingress-bandwidth: 40M
    kubernetes.io/egress-bandwidth: 20M
    k8s.aliyun.com/eci-extra-ephemeral-storage: 50Gi
    k8s.aliyun.com/eci-ntp-server: 100.100.5.1,100.100.5.2
    k8s.aliyun.com/eci-core-pattern: /pod/data/core
    k8s.aliyun.com/eci-resource-group-id: rg-contract
    k8s.aliyun.com/eci-custom-tags: "env:test,team:alice"
    k8s.aliyun.com/eci-custom-hosts: '[{"host":"db.local","ip":"10.0.0.9"}]'
    k8s.aliyun.com/acr-instance-ids: cri-contract
spec:
  nodeName: eci-bridge-vnode
  containers:
    - name: app
      image: registry.local:5000/app:1
      ports: [{ containerPort: 8080 }]
`;

/** The request with every scalar as the string the query carries, empty objects and lists left out. */
function asReceived(v: unknown): unknown {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) {
    const items = v.map(asReceived).filter((x) => x !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = asReceived(x);
      if (r !== undefined) out[k] = r;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return String(v);
}

function translated(file: string, yaml: string): EciCreateRequest[] {
  const io: Io = { readFile: () => yaml, env: {} };
  const out = translateCommand(['-f', file], io);
  if (out.code !== 0) return [];
  const parsed = JSON.parse(out.stdout) as EciCreateRequest | EciCreateRequest[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

describe('every translated field reaches ECI through the adapter (documented names only)', () => {
  let emu: EciEmulator;
  let eci: EciContainerGroups;

  before(async () => {
    emu = await startEciEmulator({ timeScale: 0.001, credentials: [KEY], scenario: { seed: 3 } });
    eci = new EciContainerGroups({ regionId: 'cn-hangzhou', endpoint: emu.endpoint, protocol: 'http', credentials: KEY, rateLimits: false });
  });
  after(async () => {
    await emu.close();
  });

  const cases: { name: string; yaml: () => string }[] = [
    { name: 'every annotation with a request field', yaml: () => EVERY_ANNOTATION },
    ...readdirSync(golden)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => ({ name: `golden ${f}`, yaml: () => readFileSync(join(golden, f), 'utf8') })),
  ];

  for (const c of cases) {
    it(c.name, async (t) => {
      const requests = translated(`${c.name}.yaml`, c.yaml());
      if (requests.length === 0) {
        t.skip('refused by translate: nothing to create');
        return;
      }
      for (const [i, req] of requests.entries()) {
        // unique names and tokens: the cases share one emulator
        const sent: EciCreateRequest = { ...req, ContainerGroupName: `contract-${cases.indexOf(c)}-${i}`, ClientToken: `contract-${cases.indexOf(c)}-${i}` };
        // Act
        const { containerGroupId } = await eci.create(sent);
        // Assess
        const received = emu.creates().find((r) => r.id === containerGroupId);
        assert.ok(received, 'the emulator recorded the create');
        assert.deepEqual(unflatten(received.params), asReceived(sent));
      }
    });
  }

  it('the annotation pod carries the three fields SDK 2.0.3 lacks, and they arrive', async () => {
    const [req] = translated('every.yaml', EVERY_ANNOTATION);
    assert.ok(req);
    assert.deepEqual([req.GpuDriverVersion, req.ComputeCategory, req.MaxPendingMinute], ['tesla=525.85.12', ['economy', 'general'], 30]);
    const { containerGroupId } = await eci.create({ ...req, ContainerGroupName: 'contract-newer', ClientToken: 'contract-newer' });
    const params = emu.creates().find((r) => r.id === containerGroupId)?.params ?? {};
    assert.deepEqual(
      [params.GpuDriverVersion, params['ComputeCategory.1'], params['ComputeCategory.2'], params.MaxPendingMinute],
      ['tesla=525.85.12', 'economy', 'general', '30'],
    );
  });
});
