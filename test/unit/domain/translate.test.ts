/**
 * Over 400 lines: one suite for shared/domain/translate.ts, field by field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap, Pod, Secret } from '../../../shared/domain/k8s.js';
import { MAX_TAGS, MAX_TEAM_LABELS } from '../../../shared/domain/names.js';
import { tokenKey, UNRESOLVED } from '../../../shared/domain/references.js';
import { translatePod } from '../../../shared/domain/translate.js';
import { validatePod } from '../../../shared/domain/validate.js';
import { b64, baseCtx, basePod, ok, withPod } from './helpers.js';

const c0 = (p: Pod) => p.spec.containers[0] as NonNullable<Pod['spec']['containers'][0]>;

describe('translatePod refusals', () => {
  const cases: [string, (p: Pod) => void, string, string][] = [
    ['hostPath volume', (p) => { p.spec.volumes = [{ name: 'h', hostPath: { path: '/var' } }]; }, 'HostPathVolume', 'spec.volumes[0].hostPath'],
    ['hostNetwork', (p) => { p.spec.hostNetwork = true; }, 'HostNetwork', 'spec.hostNetwork'],
    ['hostPort', (p) => { c0(p).ports = [{ containerPort: 80, hostPort: 80 }]; }, 'HostPort', 'spec.containers[0].ports[0].hostPort'],
    ['hostPID', (p) => { p.spec.hostPID = true; }, 'HostPID', 'spec.hostPID'],
    ['hostIPC', (p) => { p.spec.hostIPC = true; }, 'HostIPC', 'spec.hostIPC'],
    ['DaemonSet owner', (p) => { p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'x', controller: true }]; }, 'DaemonSetPod', 'metadata.ownerReferences[0]'],
    ['privileged', (p) => { c0(p).securityContext = { privileged: true }; }, 'Privileged', 'spec.containers[0].securityContext.privileged'],
    ['PVC', (p) => { p.spec.volumes = [{ name: 'd', persistentVolumeClaim: { claimName: 'd' } }]; }, 'PersistentVolumeClaim', 'spec.volumes[0].persistentVolumeClaim'],
    ['csi volume', (p) => { p.spec.volumes = [{ name: 'x', csi: { driver: 'd' } }]; }, 'UnsupportedVolume', 'spec.volumes[0].csi'],
    ['gitRepo volume', (p) => { p.spec.volumes = [{ name: 'x', gitRepo: { repository: 'r' } }]; }, 'UnsupportedVolume', 'spec.volumes[0].gitRepo'],
    ['21 containers', (p) => { p.spec.containers = Array.from({ length: 21 }, (_, i) => ({ name: `c${i}`, image: 'i' })); }, 'TooManyContainers', 'spec.containers'],
    ['21 volumes', (p) => { p.spec.volumes = Array.from({ length: 21 }, (_, i) => ({ name: `v${i}`, emptyDir: {} })); }, 'TooManyVolumes', 'spec.volumes'],
    ['too many tags', (p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-custom-tags': Array.from({ length: 16 }, (_, i) => `k${i}:v`).join(',') }; }, 'TooManyTags', "metadata.annotations['k8s.aliyun.com/eci-custom-tags']"],
    ['bad annotation value', (p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-spot-strategy': 'Cheap' }; }, 'InvalidAnnotation', "metadata.annotations['k8s.aliyun.com/eci-spot-strategy']"],
    ['price limit missing', (p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-spot-strategy': 'SpotWithPriceLimit' }; }, 'InvalidAnnotation', "metadata.annotations['k8s.aliyun.com/eci-spot-price-limit']"],
    ['missing image', (p) => { c0(p).image = ''; }, 'MissingImage', 'spec.containers[0].image'],
    ['init restartPolicy other than Always', (p) => { p.spec.initContainers = [{ name: 's', image: 'i', restartPolicy: 'Never' }]; }, 'SidecarInitContainer', 'spec.initContainers[0].restartPolicy'],
    ['extended resource', (p) => { c0(p).resources = { limits: { 'example.com/fpga': 1 } }; }, 'UnsupportedResource', 'spec.containers[0].resources.limits.example.com/fpga'],
    ['bad quantity', (p) => { c0(p).resources = { requests: { cpu: 'lots' } }; }, 'InvalidResource', 'spec.containers[0].resources.requests.cpu'],
    ['gpu without specs', (p) => { c0(p).resources = { limits: { 'nvidia.com/gpu': 1 } }; }, 'GpuRequiresInstanceType', "metadata.annotations['k8s.aliyun.com/eci-use-specs']"],
    ['65 vCPU', (p) => { c0(p).resources = { requests: { cpu: '65' } }; }, 'ResourceLimitExceeded', 'spec.containers'],
    ['unknown fieldRef', (p) => { c0(p).env = [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.priority' } } }]; }, 'UnsupportedFieldRef', 'spec.containers[0].env[0].valueFrom.fieldRef'],
    ['probe named port unknown', (p) => { c0(p).readinessProbe = { httpGet: { port: 'web' } }; }, 'UnsupportedProbe', 'spec.containers[0].readinessProbe.httpGet.port'],
    ['sleep lifecycle with negative seconds', (p) => { c0(p).lifecycle = { preStop: { sleep: { seconds: -1 } } }; }, 'UnsupportedLifecycleHandler', 'spec.containers[0].lifecycle.preStop.sleep.seconds'],
    ['windows', (p) => { p.spec.os = { name: 'windows' }; }, 'UnsupportedOS', 'spec.os.name'],
    ['dnsPolicy None without servers', (p) => { p.spec.dnsPolicy = 'None'; }, 'InvalidDnsConfig', 'spec.dnsConfig'],
    ['mount of undeclared volume', (p) => { c0(p).volumeMounts = [{ name: 'nope', mountPath: '/x' }]; }, 'UnknownVolume', 'spec.containers[0].volumeMounts[0].name'],
    ['block device', (p) => { c0(p).volumeDevices = [{ name: 'd', devicePath: '/dev/x' }]; }, 'VolumeDevices', 'spec.containers[0].volumeDevices'],
    ['no name', (p) => { p.metadata.name = undefined; }, 'InvalidName', 'metadata.name'],
    ['uid too long', (p) => { p.metadata.uid = 'x'.repeat(65); }, 'InvalidUid', 'metadata.uid'],
    ['no containers', (p) => { p.spec.containers = []; }, 'InvalidPod', 'spec.containers'],
    ['required missing secret', (p) => { c0(p).env = [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]; }, 'MissingSecret', 'spec.containers[0].env[0].valueFrom.secretKeyRef'],
    ['required missing configmap volume', (p) => { p.spec.volumes = [{ name: 'v', configMap: { name: 'cm' } }]; }, 'MissingConfigMap', 'spec.volumes[0].configMap'],
    ['token not minted', (p) => { p.spec.volumes = [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }]; }, 'MissingServiceAccountToken', 'spec.volumes[0].projected.sources[0].serviceAccountToken'],
  ];
  for (const [name, mut, code, field] of cases) {
    it(`${name} → ${code}`, () => {
      const r = translatePod(withPod(mut), baseCtx());
      assert.equal(r.ok, false);
      const v = !r.ok ? r.violations.find((x) => x.code === code) : undefined;
      assert.ok(v, `no ${code} in ${JSON.stringify(!r.ok && r.violations)}`);
      assert.equal(v.field, field);
      assert.ok(v.message.length > 0 && v.alternative.length > 0);
    });
  }

  it('validatePod reports the same refusals and never a missing-object one', () => {
    const p = withPod((x) => {
      x.spec.hostNetwork = true;
      c0(x).env = [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
    });
    const r = validatePod(p);
    assert.deepEqual(r.violations.map((v) => v.code), ['HostNetwork']);
    assert.ok(!r.warnings.some((w) => w.code === 'Unresolved'));
  });
});

describe('translatePod mapping', () => {
  it('keeps command and args apart (args alone keep the image entrypoint)', () => {
    const req = ok(withPod((p) => { c0(p).args = ['--port', '80']; }));
    assert.equal(req.Container[0]?.Command, undefined);
    assert.deepEqual(req.Container[0]?.Arg, ['--port', '80']);
    const req2 = ok(withPod((p) => { c0(p).command = ['/bin/app']; c0(p).args = ['-v']; }));
    assert.deepEqual(req2.Container[0]?.Command, ['/bin/app']);
    assert.deepEqual(req2.Container[0]?.Arg, ['-v']);
  });

  it('identity: name, ClientToken, tags, placement', () => {
    const req = ok(withPod((p) => {
      p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u', controller: true }];
      p.metadata.annotations = { 'k8s.aliyun.com/eci-custom-tags': 'team:a' };
    }), baseCtx({ zoneId: 'cn-hangzhou-h' }));
    assert.equal(req.ContainerGroupName, 'default-web');
    assert.equal(req.ClientToken, '11111111-2222-3333-4444-555555555555');
    assert.equal(req.VSwitchId, 'vsw-a,vsw-b');
    assert.equal(req.SecurityGroupId, 'sg-1');
    assert.equal(req.ZoneId, 'cn-hangzhou-h');
    const tags = Object.fromEntries((req.Tag ?? []).map((t) => [t.Key, t.Value]));
    assert.deepEqual(tags, {
      'eci-bridge.io/cluster': 'c1',
      'eci-bridge.io/vnode': 'vnode-1',
      'eci-bridge.io/namespace': 'default',
      'eci-bridge.io/pod-name': 'web',
      'eci-bridge.io/pod-uid': '11111111-2222-3333-4444-555555555555',
      'eci-bridge.io/owner-kind': 'ReplicaSet',
      'eci-bridge.io/owner-name': 'web-abc',
      team: 'a',
    });
  });

  it('cost tags: a Deployment pod is tagged with its Deployment (the billing owner rule) and the configured team labels', () => {
    // Prepare
    const pod = withPod((p) => {
      p.metadata.labels = { 'pod-template-hash': '7d4b9c', team: 'payments', 'cost-center': 'cc-42', other: 'x' };
      p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c', uid: 'u', controller: true }];
      p.metadata.annotations = { 'k8s.aliyun.com/eci-custom-tags': 'team:override,env:prod' };
    });
    // Act
    const req = ok(pod, baseCtx({ teamLabels: ['team', 'cost-center', 'absent'] }));
    // Assess
    const tags = Object.fromEntries((req.Tag ?? []).map((t) => [t.Key, t.Value]));
    assert.equal(tags['eci-bridge.io/owner-kind'], 'Deployment');
    assert.equal(tags['eci-bridge.io/owner-name'], 'web');
    assert.equal(tags.team, 'payments', 'the team label wins over a custom tag of the same key');
    assert.equal(tags['cost-center'], 'cc-42');
    assert.equal(tags.env, 'prod');
    assert.equal('absent' in tags, false, 'a team label the pod lacks gives no tag');
    assert.equal('other' in tags, false, 'only configured labels become tags');
    assert.equal(new Set((req.Tag ?? []).map((t) => t.Key)).size, req.Tag?.length, 'no key twice');
  });

  it('cost tags: the bridge tags and the largest allowed team-label set fit in ECI\'s 20 tags; a custom tag more is refused', () => {
    const labels = Array.from({ length: MAX_TEAM_LABELS }, (_, i) => `l${i}`);
    const pod = withPod((p) => {
      p.metadata.labels = Object.fromEntries(labels.map((l) => [l, 'v']));
      p.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'u', controller: true }];
    });
    const req = ok(pod, baseCtx({ teamLabels: labels }));
    assert.equal(req.Tag?.length, MAX_TAGS);
    pod.metadata.annotations = { 'k8s.aliyun.com/eci-custom-tags': 'extra:1' };
    const r = translatePod(pod, baseCtx({ teamLabels: labels }));
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.violations.map((v) => v.code), ['TooManyTags']);
  });

  it('annotations override vSwitch and security group and drop the default zone', () => {
    const req = ok(withPod((p) => {
      p.metadata.annotations = { 'k8s.aliyun.com/eci-vswitch': 'vsw-x,vsw-y', 'k8s.aliyun.com/eci-security-group': 'sg-9' };
    }), baseCtx({ zoneId: 'z' }));
    assert.equal(req.VSwitchId, 'vsw-x,vsw-y');
    assert.equal(req.SecurityGroupId, 'sg-9');
    assert.equal(req.ZoneId, undefined);
  });

  it('env: configMap, secret (optional honoured), fieldRef, podIP FieldRef, resourceFieldRef, envFrom with prefix, $(VAR)', () => {
    const ctx = baseCtx({
      kubernetesService: undefined,
      configMaps: new Map([['cm', { metadata: {}, data: { A: 'a', 'bad key': 'x' } }]]),
      secrets: new Map([['s', { metadata: {}, data: { P: b64('pw') } }]]),
    });
    const r = translatePod(withPod((p) => {
      p.metadata.labels = { app: 'web' };
      p.spec.serviceAccountName = 'sa';
      c0(p).resources = { limits: { cpu: '500m', memory: '1Gi' } };
      c0(p).envFrom = [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }];
      c0(p).env = [
        { name: 'V', value: 'x-$(CM_A)-$$' },
        { name: 'P', valueFrom: { secretKeyRef: { name: 's', key: 'P' } } },
        { name: 'O', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } },
        { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'L', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HIP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      ];
      c0(p).args = ['$(P)'];
    }), ctx);
    assert.ok(r.ok);
    const env = Object.fromEntries((r.request.Container[0]?.EnvironmentVar ?? []).map((e) => [e.Key, e.Value ?? `ref:${e.FieldRef?.FieldPath}`]));
    assert.deepEqual(env, {
      CM_A: 'a',
      V: 'x-a-$',
      P: 'pw',
      N: 'web',
      L: 'web',
      NODE: 'vnode-1',
      SA: 'sa',
      IP: 'ref:status.podIP',
      HIP: 'ref:status.podIP',
      MEM: '1024',
      CPU: '500',
    });
    assert.ok(r.warnings.some((w) => w.code === 'EnvFromKeySkipped'));
    assert.ok(r.warnings.some((w) => w.code === 'OptionalSourceMissing'));
    assert.ok(r.secretPaths.includes('Container[0].EnvironmentVar[2].Value'));
    assert.ok(r.secretPaths.includes('Container[0].Arg[0]'));
  });

  it('resources: limit else request per container, pod = max(sum, largest init), use-specs wins', () => {
    const req = ok(withPod((p) => {
      p.spec.containers = [
        { name: 'a', image: 'i', resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1' } } },
        { name: 'b', image: 'i', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
        { name: 'c', image: 'i' },
      ];
      p.spec.initContainers = [{ name: 'i', image: 'i', resources: { limits: { cpu: '3', memory: '1Gi' } } }];
    }));
    assert.deepEqual(req.Container.map((c) => [c.Cpu, c.Memory]), [[1, 0.5], [0.5, 1], [undefined, undefined]]);
    assert.equal(req.Cpu, 3);
    assert.equal(req.Memory, 1.5);
    const spec = ok(withPod((p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-use-specs': '4-8Gi' }; }));
    assert.deepEqual([spec.Cpu, spec.Memory, spec.InstanceType], [4, 8, undefined]);
    const types = ok(withPod((p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-use-specs': '2-4Gi,ecs.c6.large' }; }));
    assert.equal(types.InstanceType, '2-4Gi,ecs.c6.large');
    const none = ok(basePod());
    assert.deepEqual([none.Cpu, none.Memory], [undefined, undefined]);
  });

  it('probes: exec, httpGet with named port, tcpSocket; grpc and startup degraded with warnings', () => {
    const r = translatePod(withPod((p) => {
      c0(p).ports = [{ name: 'http', containerPort: 8080 }];
      c0(p).livenessProbe = { grpc: { port: 9000 }, periodSeconds: 7 };
      c0(p).readinessProbe = { httpGet: { path: '/r', port: 'http', httpHeaders: [{ name: 'a', value: 'b' }] } };
      c0(p).startupProbe = { exec: { command: ['true'] }, periodSeconds: 5, failureThreshold: 4 };
    }), baseCtx());
    assert.ok(r.ok);
    const c = r.request.Container[0];
    assert.deepEqual(c?.LivenessProbe, { TcpSocket: { Port: 9000 }, PeriodSeconds: 7, InitialDelaySeconds: 20 });
    assert.deepEqual(c?.ReadinessProbe, { HttpGet: { Path: '/r', Port: 8080, Scheme: 'HTTP' } });
    assert.deepEqual(r.warnings.map((w) => w.code).sort(), ['ProbeDegraded', 'ProbeDegraded', 'ServiceLinksNotInjected', 'StartupProbeDegraded']);
    const e = ok(withPod((p) => { c0(p).livenessProbe = { exec: { command: ['cat', '/ok'] }, failureThreshold: 2 }; }));
    assert.deepEqual(e.Container[0]?.LivenessProbe, { Exec: { Command: ['cat', '/ok'] }, FailureThreshold: 2 });
  });

  it('lifecycle hooks are flattened', () => {
    const c = ok(withPod((p) => {
      c0(p).lifecycle = {
        postStart: { httpGet: { path: '/s', port: 80, host: 'h', httpHeaders: [{ name: 'X', value: 'y' }] } },
        preStop: { tcpSocket: { port: 81 } },
      };
    })).Container[0];
    assert.equal(c?.LifecyclePostStartHandlerHttpGetPath, '/s');
    assert.equal(c?.LifecyclePostStartHandlerHttpGetPort, 80);
    assert.equal(c?.LifecyclePostStartHandlerHttpGetHost, 'h');
    assert.deepEqual(c?.LifecyclePostStartHandlerHttpGetHttpHeader, [{ Name: 'X', Value: 'y' }]);
    assert.equal(c?.LifecyclePreStopHandlerTcpSocketPort, 81);
  });

  it('securityContext, sysctls, stdin/tty, termination message, pull policy; init containers drop what ECI lacks', () => {
    const r = translatePod(withPod((p) => {
      p.spec.securityContext = { runAsUser: 1000, runAsNonRoot: true, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }], fsGroup: 2000 };
      Object.assign(c0(p), {
        securityContext: { readOnlyRootFilesystem: true, runAsGroup: 3000, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } },
        stdin: true, tty: true, imagePullPolicy: 'Always', terminationMessagePath: '/t', terminationMessagePolicy: 'FallbackToLogsOnError',
      });
      p.spec.initContainers = [{ name: 'i', image: 'i', tty: true }];
    }), baseCtx());
    assert.ok(r.ok);
    const c = r.request.Container[0];
    assert.deepEqual(c?.SecurityContext, { RunAsUser: 1000, ReadOnlyRootFilesystem: true, Capability: { Add: ['NET_ADMIN'] } });
    assert.equal(c?.SecurityContextRunAsGroup, 3000);
    assert.equal(c?.SecurityContextRunAsNonRoot, true);
    assert.deepEqual([c?.Stdin, c?.Tty, c?.ImagePullPolicy, c?.TerminationMessagePath, c?.TerminationMessagePolicy], [true, true, 'Always', '/t', 'FallbackToLogsOnError']);
    assert.deepEqual(r.request.HostSecurityContext, { Sysctl: [{ Name: 'net.core.somaxconn', Value: '1024' }] });
    assert.equal(r.request.InitContainer?.[0]?.Tty, undefined);
    const codes = r.warnings.map((w) => w.code);
    for (const w of ['CapabilitiesDropIgnored', 'FsGroupIgnored', 'InitContainerFieldIgnored']) assert.ok(codes.includes(w as never), w);
  });

  it('volumes: configMap items/modes/binaryData, optional missing → emptyDir, secret, projected token, downwardAPI, nfs, mounts', () => {
    const ctx = baseCtx({
      configMaps: new Map<string, ConfigMap>([
        ['cm', { metadata: {}, data: { a: 'A', b: 'B' }, binaryData: { bin: b64('\u0001') } }],
        ['kube-root-ca.crt', { metadata: {}, data: { 'ca.crt': 'PEM' } }],
      ]),
      secrets: new Map([['s', { metadata: {}, data: { k: b64('secret') } }]]),
      tokens: new Map([[tokenKey({ serviceAccountName: 'default', expirationSeconds: 3607 }), 'TOKEN']]),
    });
    const r = translatePod(withPod((p) => {
      p.spec.volumes = [
        { name: 'all', configMap: { name: 'cm', defaultMode: 0o600 } },
        { name: 'some', configMap: { name: 'cm', items: [{ key: 'b', path: 'x/b.txt', mode: 0o400 }] } },
        { name: 'opt', configMap: { name: 'nope', optional: true } },
        { name: 'sec', secret: { secretName: 's' } },
        { name: 'tok', projected: { sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
        ] } },
        { name: 'nfs', nfs: { server: 'nas.example', path: '/share', readOnly: true } },
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
      ];
      c0(p).env = [{ name: 'SUB', value: 'sub' }];
      c0(p).volumeMounts = [
        { name: 'all', mountPath: '/a', readOnly: true, subPath: 'a' },
        { name: 'mem', mountPath: '/m', subPathExpr: '$(SUB)/x', mountPropagation: 'HostToContainer' },
      ];
    }), ctx);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.violations));
    const v = Object.fromEntries((r.request.Volume ?? []).map((x) => [x.Name, x]));
    assert.deepEqual(v.all?.ConfigFileVolume, {
      ConfigFileToPath: [
        { Path: 'a', Content: b64('A') },
        { Path: 'b', Content: b64('B') },
        { Path: 'bin', Content: b64('\u0001') },
      ],
      DefaultMode: 0o600,
    });
    assert.deepEqual(v.some?.ConfigFileVolume?.ConfigFileToPath, [{ Path: 'x/b.txt', Content: b64('B'), Mode: 0o400 }]);
    assert.equal(v.opt?.Type, 'EmptyDirVolume');
    assert.deepEqual(v.sec?.ConfigFileVolume?.ConfigFileToPath, [{ Path: 'k', Content: b64('secret') }]);
    assert.deepEqual(v.tok?.ConfigFileVolume?.ConfigFileToPath, [
      { Path: 'token', Content: b64('TOKEN') },
      { Path: 'ca.crt', Content: b64('PEM') },
      { Path: 'namespace', Content: b64('default') },
    ]);
    assert.deepEqual(v.nfs?.NFSVolume, { Server: 'nas.example', Path: '/share', ReadOnly: true });
    assert.deepEqual(v.mem?.EmptyDirVolume, { Medium: 'Memory', SizeLimit: '1Gi' });
    assert.deepEqual(r.request.Container[0]?.VolumeMount, [
      { Name: 'all', MountPath: '/a', ReadOnly: true, SubPath: 'a' },
      { Name: 'mem', MountPath: '/m', SubPath: 'sub/x', MountPropagation: 'HostToContainer' },
    ]);
    assert.deepEqual(r.secretPaths.filter((p) => p.startsWith('Volume')).sort(), [
      'Volume[3].ConfigFileVolume.ConfigFileToPath[0].Content',
      'Volume[4].ConfigFileVolume.ConfigFileToPath[0].Content',
    ]);
  });

  it('offline: placeholders with a warning; strict: a violation', () => {
    const p = withPod((x) => { x.spec.volumes = [{ name: 'v', configMap: { name: 'cm' } }]; });
    const loose = translatePod(p, baseCtx({ offline: 'placeholder' }));
    assert.ok(loose.ok && loose.warnings.some((w) => w.code === 'Unresolved'));
    const marked = translatePod(p, baseCtx({ configMaps: new Map([['cm', UNRESOLVED]]) }));
    assert.ok(marked.ok && marked.warnings.some((w) => w.code === 'Unresolved'));
    const strict = translatePod(p, baseCtx({ offline: 'strict' }));
    assert.ok(!strict.ok && strict.violations.some((v) => v.code === 'Unresolved'));
  });

  it('pod level: restartPolicy, grace, deadline, hostAliases, hostname, DNS policies', () => {
    const req = ok(withPod((p) => {
      Object.assign(p.spec, {
        restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 5, activeDeadlineSeconds: 60, shareProcessNamespace: true,
        hostAliases: [{ ip: '1.2.3.4', hostnames: ['a', 'b'] }], hostname: 'h1',
        dnsConfig: { searches: ['extra.local'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
      });
    }));
    assert.deepEqual([req.RestartPolicy, req.TerminationGracePeriodSeconds, req.ActiveDeadlineSeconds, req.ShareProcessNamespace], ['OnFailure', 5, 60, true]);
    assert.deepEqual(req.HostAliase, [{ Ip: '1.2.3.4', Hostname: ['a', 'b'] }]);
    assert.equal(req.HostName, 'h1');
    assert.equal(req.DnsPolicy, 'None');
    assert.deepEqual(req.DnsConfig, {
      NameServer: ['10.96.0.10'],
      Search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'extra.local'],
      Option: [{ Name: 'ndots', Value: '2' }, { Name: 'edns0' }],
    });
    const none = ok(withPod((p) => { p.spec.dnsPolicy = 'None'; p.spec.dnsConfig = { nameservers: ['8.8.8.8'] }; }));
    assert.deepEqual([none.DnsPolicy, none.DnsConfig], ['None', { NameServer: ['8.8.8.8'] }]);
    const def = ok(withPod((p) => { p.spec.dnsPolicy = 'Default'; }));
    assert.deepEqual([def.DnsPolicy, def.DnsConfig], ['Default', undefined]);
  });

  it('imagePullSecrets: dockerconfigjson with auth only, dockercfg, missing → warning', () => {
    const json = { auths: { 'https://index.docker.io/v1/': { auth: b64('bob:pw1') } } };
    const cfg = { 'reg.example.com': { username: 'al', password: 'pw2' } };
    const r = translatePod(withPod((p) => {
      p.spec.imagePullSecrets = [{ name: 'j' }, { name: 'c' }, { name: 'gone' }];
    }), baseCtx({
      secrets: new Map<string, Secret>([
        ['j', { metadata: {}, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify(json)) } }],
        ['c', { metadata: {}, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify(cfg)) } }],
      ]),
    }));
    assert.ok(r.ok);
    assert.deepEqual(r.request.ImageRegistryCredential, [
      { Server: 'index.docker.io', UserName: 'bob', Password: 'pw1' },
      { Server: 'reg.example.com', UserName: 'al', Password: 'pw2' },
    ]);
    assert.ok(r.warnings.some((w) => w.code === 'ImagePullSecretMissing'));
  });

  it('annotation fields reach the request', () => {
    const req = ok(withPod((p) => {
      p.metadata.annotations = {
        'k8s.aliyun.com/eci-ram-role-name': 'Role',
        'k8s.aliyun.com/eci-with-eip': 'true',
        'k8s.aliyun.com/eip-bandwidth': '10',
        'k8s.aliyun.com/eci-extra-ephemeral-storage': '50Gi',
        'kubernetes.io/egress-bandwidth': '20M',
        'k8s.aliyun.com/eci-custom-hosts': '[{"host":"db","ip":"10.0.0.5"}]',
        'k8s.aliyun.com/eci-custom-dnsconfig': '{"nameservers":["1.1.1.1"],"searches":["a.b"]}',
        'k8s.aliyun.com/acr-instance-ids': 'cn-beijing:cri-abc',
      };
    }));
    assert.deepEqual(
      [req.RamRoleName, req.AutoCreateEip, req.EipBandwidth, req.EphemeralStorage, req.EgressBandwidth],
      ['Role', true, 10, 50, 20_000_000],
    );
    assert.deepEqual(req.HostAliase, [{ Ip: '10.0.0.5', Hostname: ['db'] }]);
    // merged after the ClusterFirst base (dns.ts), not instead of it
    assert.deepEqual(
      [req.DnsPolicy, req.DnsConfig],
      [
        'None',
        {
          NameServer: ['10.96.0.10', '1.1.1.1'],
          Search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'a.b'],
          Option: [{ Name: 'ndots', Value: '5' }],
        },
      ],
    );
    assert.deepEqual(req.AcrRegistryInfo, [{ InstanceId: 'cri-abc', RegionId: 'cn-beijing' }]);
  });

  it('warnings for fields meaningless on ECI', () => {
    const r = translatePod(withPod((p) => {
      Object.assign(p.spec, { runtimeClassName: 'gvisor', topologySpreadConstraints: [{}], subdomain: 'svc', hostUsers: false });
    }), baseCtx());
    assert.ok(r.ok);
    assert.deepEqual(r.warnings.map((w) => w.code).sort(), ['HostUsersIgnored', 'RuntimeClassIgnored', 'ServiceLinksNotInjected', 'SubdomainIgnored', 'TopologySpreadIgnored']);
  });

  it('does not mutate the pod', () => {
    const p = withPod((x) => { x.metadata.annotations = { 'k8s.aliyun.com/eci-use-specs': '2-4Gi' }; });
    const before = JSON.stringify(p);
    translatePod(p, baseCtx());
    assert.equal(JSON.stringify(p), before);
  });
});
