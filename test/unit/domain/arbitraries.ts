/**
 * fast-check generators of pod specs, shared by the translate property test and the fuzz driver (test/fuzz/pods.ts,
 * which extends them with hostile values). Mostly plausible pods, so a good share translates.
 */
import fc from 'fast-check';

/** Mostly absent, sometimes the (often invalid) value: keeps a good share of pods translatable. */
export function rarely<T>(x: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: x });
}
export function mostly<T>(good: fc.Arbitrary<T>, wild: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ weight: 8, arbitrary: good }, { weight: 1, arbitrary: wild });
}
export const dns = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,70}[a-z0-9])?$/);
export const quantity = mostly<string | number>(fc.constantFrom('100m', '1', '2.5', '512Mi', '4Gi'), fc.oneof(fc.constantFrom('70', 'bad', '-1'), fc.nat(100)));
export const resources = fc.record(
  { limits: fc.dictionary(mostly(fc.constantFrom('cpu', 'memory', 'ephemeral-storage'), fc.constantFrom('nvidia.com/gpu', 'x.io/y')), quantity), requests: fc.dictionary(fc.constantFrom('cpu', 'memory'), quantity) },
  { requiredKeys: [] },
);
export const probe = rarely(fc.oneof(
  fc.record({ exec: fc.record({ command: fc.array(fc.string(), { maxLength: 3 }) }) }),
  fc.record({ httpGet: fc.record({ port: fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.string()), path: fc.string() }) }),
  fc.record({ tcpSocket: fc.record({ port: fc.oneof(fc.integer(), fc.string()) }) }),
  fc.record({ grpc: fc.record({ port: fc.integer() }) }),
  fc.constant({}),
));
export const container = fc.record(
  {
    name: dns,
    image: mostly(fc.constant('nginx'), fc.string()),
    command: fc.array(fc.string(), { maxLength: 3 }),
    args: fc.array(fc.string(), { maxLength: 3 }),
    env: rarely(fc.array(
      fc.record({
        name: mostly(fc.stringMatching(/^[A-Z_]{1,8}$/), fc.string()),
        value: fc.string(),
        valueFrom: rarely(fc.oneof(
          fc.record({ fieldRef: fc.record({ fieldPath: fc.constantFrom('metadata.name', 'status.podIP', 'spec.x', "metadata.labels['a']") }) }),
          fc.record({ secretKeyRef: fc.record({ name: fc.string(), key: fc.string(), optional: fc.boolean() }) }),
          fc.record({ resourceFieldRef: fc.record({ resource: fc.constantFrom('limits.cpu', 'requests.memory', 'x'), divisor: quantity }) }),
        )),
      }, { requiredKeys: ['name'] }),
      { maxLength: 4 },
    )),
    ports: rarely(fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }), hostPort: rarely(fc.integer({ min: 1, max: 65535 })), name: fc.string() }, { requiredKeys: ['containerPort'] }), { maxLength: 2 })),
    resources: rarely(resources),
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
    securityContext: rarely(fc.record({ privileged: rarely(fc.boolean()), runAsUser: fc.nat(), capabilities: fc.record({ add: fc.array(fc.string()), drop: fc.array(fc.string()) }) }, { requiredKeys: [] })),
    volumeMounts: rarely(fc.array(fc.record({ name: mostly(fc.constantFrom('v0', 'v1'), fc.constant('nope')), mountPath: fc.string(), subPathExpr: rarely(fc.string()) }, { requiredKeys: ['name', 'mountPath'] }), { maxLength: 3 })),
    restartPolicy: rarely(fc.constant('Always')),
  },
  { requiredKeys: ['name', 'image'] },
);
export const volume = fc.oneof(
  { weight: 5, arbitrary: fc.record({ name: fc.constantFrom('v0', 'v1', 'v2'), emptyDir: fc.record({ medium: fc.constantFrom('Memory', '') }) }) },
  fc.record({ name: fc.constantFrom('v0', 'v1', 'v2'), emptyDir: fc.record({ medium: fc.constantFrom('Memory', ''), sizeLimit: quantity }, { requiredKeys: [] }) }),
  fc.record({ name: fc.constantFrom('v0', 'v1'), configMap: fc.record({ name: fc.string(), optional: fc.boolean(), items: fc.array(fc.record({ key: fc.string(), path: fc.string() })) }, { requiredKeys: [] }) }),
  fc.record({ name: fc.constantFrom('v0', 'v1'), projected: fc.record({ sources: fc.array(fc.record({ serviceAccountToken: fc.record({ path: fc.string() }) })) }) }),
  fc.record({ name: fc.string(), hostPath: fc.record({ path: fc.string() }) }),
  fc.record({ name: fc.string(), nfs: fc.record({ server: fc.string(), path: fc.string() }) }),
  fc.record({ name: fc.string(), [`x${'y'}`]: fc.anything() }),
);
export const annotations = fc.dictionary(
  fc.constantFrom(
    'k8s.aliyun.com/eci-use-specs', 'k8s.aliyun.com/eci-custom-tags', 'k8s.aliyun.com/eci-spot-strategy', 'k8s.aliyun.com/eci-vswitch',
    'k8s.aliyun.com/eci-custom-dnsconfig', 'k8s.aliyun.com/eci-custom-hosts', 'k8s.aliyun.com/eci-extra-ephemeral-storage', 'other',
  ),
  fc.oneof(fc.string(), fc.constantFrom('2-4Gi', 'ecs.g6.large', 'a:b,c:d', 'SpotAsPriceGo', '[{"host":"a","ip":"1.1.1.1"}]')),
);
export const podArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 9, arbitrary: fc.record({
    metadata: fc.record({ name: mostly(dns, fc.string()), namespace: mostly(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/), fc.string()), uid: mostly(fc.uuid(), fc.string()), annotations: rarely(annotations), ownerReferences: fc.array(fc.record({ kind: mostly(fc.constantFrom('ReplicaSet', 'Job'), fc.constant('DaemonSet')), name: fc.string(), apiVersion: fc.constant('v1'), uid: fc.string() }), { maxLength: 1 }) }, { requiredKeys: ['name', 'namespace', 'uid'] }),
    spec: fc.record({
      containers: mostly(fc.array(container, { minLength: 1, maxLength: 3 }), fc.array(container, { maxLength: 22 })),
      initContainers: rarely(fc.array(container, { maxLength: 3 })),
      volumes: mostly(fc.array(volume, { maxLength: 3 }), fc.array(volume, { maxLength: 22 })),
      hostNetwork: rarely(fc.boolean()),
      dnsPolicy: mostly(fc.constantFrom('ClusterFirst', 'Default', 'ClusterFirstWithHostNet'), fc.constantFrom('None', 'odd')),
      dnsConfig: fc.record({ nameservers: fc.array(fc.string(), { maxLength: 4 }), searches: fc.array(fc.string()) }, { requiredKeys: [] }),
      restartPolicy: fc.constantFrom('Always', 'Never', 'OnFailure', 'x'),
      imagePullSecrets: fc.array(fc.record({ name: fc.string() })),
      securityContext: rarely(fc.record({ sysctls: fc.array(fc.record({ name: fc.string(), value: fc.string() })) }, { requiredKeys: [] })),
    }, { requiredKeys: ['containers'] }),
  }) },
  { weight: 1, arbitrary: fc.anything() },
);
