/**
 * Translation gaps found with real manifests (issue 13 items 4-12): each case carries a field, degrades it with a
 * warning, or refuses it with the alternative — never drops it silently. Pods are written as a current apiserver
 * returns them (pod-level resources, preStop.sleep and native sidecars included, which the 1.20 test apiserver drops).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridgePolicy, parseAnnotations, parseBoolean } from '../../../shared/domain/annotations.js';
import type { EciCreateRequest } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { groupToPodStatus } from '../../../shared/domain/status.js';
import { translatePod } from '../../../shared/domain/translate.js';
import { validatePod } from '../../../shared/domain/validate.js';
import { baseCtx, basePod, ok, withPod } from './helpers.js';

function warnings(p: Pod, ctx = baseCtx()): { code: string; field: string; message: string }[] {
  return translatePod(p, ctx).warnings;
}
function refused(p: Pod, ctx = baseCtx()): { code: string; field: string; message: string; alternative: string }[] {
  const r = translatePod(p, ctx);
  assert.ok(!r.ok, 'expected a refusal');
  return r.violations;
}
const c0 = (p: Pod) => p.spec.containers[0] as NonNullable<Pod['spec']['containers'][0]>;
const ann = (a: Record<string, string>) => (p: Pod) => {
  p.metadata.annotations = a;
};

describe('item 8: one boolean rule for every boolean annotation', () => {
  it('parseBoolean: true/false in any case with blanks; anything else undefined', () => {
    for (const v of ['true', 'True', 'TRUE', ' true ']) assert.equal(parseBoolean(v), true, v);
    for (const v of ['false', 'False', 'FALSE']) assert.equal(parseBoolean(v), false, v);
    for (const v of ['yes', '1', '', 'tru', undefined]) assert.equal(parseBoolean(v), undefined, String(v));
  });

  const requestBooleans: [string, string][] = [
    ['eci-auto-imc', 'AutoMatchImageCache'],
    ['eci-image-cache', 'AutoMatchImageCache'],
    ['eci-data-cache-burstingEnabled', 'DataCacheBurstingEnabled'],
    ['eci-with-eip', 'AutoCreateEip'],
    ['eci-ipv6-bandwidth-enable', 'Ipv6GatewayBandwidthEnable'],
  ];
  for (const [key, field] of requestBooleans) {
    it(`${key}: "True" sets ${field}`, () => {
      assert.equal(ok(withPod(ann({ [`k8s.aliyun.com/${key}`]: 'True' })))[field], true);
    });
  }
  it('policy booleans follow the same rule (eci-spot-fallback, eci-reschedule-enable, pod-fail-on-create-err)', () => {
    const p = bridgePolicy({
      'k8s.aliyun.com/eci-spot-fallback': 'True',
      'k8s.aliyun.com/eci-reschedule-enable': 'TRUE',
      'k8s.aliyun.com/pod-fail-on-create-err': 'False',
    });
    assert.deepEqual(p, { spotFallback: true, rescheduleEnable: true, failOnCreateError: false });
    assert.equal(parseAnnotations({ 'k8s.aliyun.com/eci-spot-fallback': 'yes' }).violations[0]?.code, 'InvalidAnnotation');
  });
  it('eci-reschedule-enable "true" is a RescheduleIgnored warning naming the annotation', () => {
    const w = warnings(withPod(ann({ 'k8s.aliyun.com/eci-reschedule-enable': 'true' })));
    assert.deepEqual(
      w.filter((x) => x.code === 'RescheduleIgnored').map((x) => x.field),
      ["metadata.annotations['k8s.aliyun.com/eci-reschedule-enable']"],
    );
  });
});



describe('item 10: no silent drops', () => {
  it('emptyDir medium HugePages is refused with the alternative (not a disk emptyDir)', () => {
    for (const medium of ['HugePages', 'HugePages-2Mi']) {
      const v = refused(withPod((p) => { p.spec.volumes = [{ name: 'hp', emptyDir: { medium } }]; }));
      assert.deepEqual(v.map((x) => [x.code, x.field]), [['UnsupportedVolume', 'spec.volumes[0].emptyDir.medium']], medium);
      assert.match(v[0]?.alternative ?? '', /huge pages/);
    }
  });
  it('emptyDir medium Memory and the default medium are still carried', () => {
    const r = ok(withPod((p) => { p.spec.volumes = [{ name: 'm', emptyDir: { medium: 'Memory' } }, { name: 'd', emptyDir: { medium: '' } }]; }));
    assert.deepEqual(r.Volume?.map((v) => v.EmptyDirVolume), [{ Medium: 'Memory' }, {}]);
  });
  it('setHostnameAsFQDN is warned (HostnameFqdnIgnored)', () => {
    const w = warnings(withPod((p) => { p.spec.setHostnameAsFQDN = true; p.spec.subdomain = 'svc'; }));
    assert.ok(w.some((x) => x.code === 'HostnameFqdnIgnored' && x.field === 'spec.setHostnameAsFQDN'));
  });
  it('SCTP ports are refused; TCP and UDP carried', () => {
    const v = refused(withPod((p) => { c0(p).ports = [{ containerPort: 80 }, { containerPort: 9999, protocol: 'SCTP' }]; }));
    assert.deepEqual(v.map((x) => [x.code, x.field]), [['UnsupportedPortProtocol', 'spec.containers[0].ports[1].protocol']]);
    const r = ok(withPod((p) => { c0(p).ports = [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }]; }));
    assert.deepEqual(r.Container[0]?.Port, [{ Port: 80, Protocol: 'TCP' }, { Port: 53, Protocol: 'UDP' }]);
  });
  it('the init-container warning names the field it is about', () => {
    const w = warnings(
      withPod((p) => {
        p.spec.securityContext = { runAsGroup: 5 };
        p.spec.initContainers = [{ name: 'i', image: 'busybox', tty: true, readinessProbe: { exec: { command: ['true'] } }, lifecycle: { postStart: { exec: { command: ['true'] } } } }];
      }),
    ).filter((x) => x.code === 'InitContainerFieldIgnored');
    assert.deepEqual(
      w.map((x) => [x.field, x.message]),
      [
        ['spec.securityContext.runAsGroup', 'ECI init containers have no runAsGroup (inherited by i): it is ignored'],
        ['spec.initContainers[0].tty', 'ECI init containers have no tty: it is ignored'],
        ['spec.initContainers[0].readinessProbe', 'ECI init containers have no readinessProbe: it is ignored'],
        ['spec.initContainers[0].lifecycle', 'ECI init containers have no lifecycle: it is ignored'],
      ],
    );
  });
  it('ServiceLinksNotInjected only while the namespace\'s Services are unknown (links on), never once they are injected', () => {
    const has = (p: Pod, ctx = baseCtx()) => (translatePod(p, ctx).warnings).some((x) => x.code === 'ServiceLinksNotInjected');
    assert.equal(has(withPod((p) => { p.spec.enableServiceLinks = true; })), true);
    assert.equal(has(basePod()), true);
    assert.equal(has(withPod((p) => { p.spec.enableServiceLinks = false; })), false);
    // pod-sync always knows them (one list per namespace): links injected, no warning — even for an empty namespace
    assert.equal(has(basePod(), baseCtx({ services: { namespace: [] } })), false);
  });
});

describe('item 6: pod-level spec.resources (Kubernetes 1.32+)', () => {
  it('sizes the group: limits cpu 1, memory 200Mi with one 0.5-CPU container → Cpu 1, Memory 200Mi', () => {
    const r = ok(withPod((p) => {
      p.spec.resources = { limits: { cpu: '1', memory: '200Mi' } };
      c0(p).resources = { limits: { cpu: '500m' } };
    }));
    assert.equal(r.Cpu, 1);
    assert.equal(r.Memory, 0.196);
    assert.equal(r.Container[0]?.Cpu, 0.5);
  });
  it('requests count when there is no limit; never below the containers total', () => {
    assert.equal(ok(withPod((p) => { p.spec.resources = { requests: { cpu: '2' } }; })).Cpu, 2);
    const r = ok(withPod((p) => {
      p.spec.resources = { requests: { cpu: '1' } };
      c0(p).resources = { limits: { cpu: '3' } };
    }));
    assert.equal(r.Cpu, 3);
  });
  it('eci-use-specs wins, with a PodResourcesOverridden warning', () => {
    const p = withPod((x) => {
      x.spec.resources = { limits: { cpu: '1' } };
      x.metadata.annotations = { 'k8s.aliyun.com/eci-use-specs': '2-4Gi' };
    });
    assert.equal(ok(p).Cpu, 2);
    assert.ok(warnings(p).some((w) => w.code === 'PodResourcesOverridden' && w.field === 'spec.resources'));
  });
  it('other pod-level resources and bad quantities are refused', () => {
    const v = refused(withPod((p) => { p.spec.resources = { limits: { 'nvidia.com/gpu': '1', memory: 'lots' } }; }));
    assert.deepEqual(v.map((x) => [x.code, x.field]).sort(), [
      ['InvalidResource', 'spec.resources.limits.memory'],
      ['UnsupportedResource', 'spec.resources.limits.nvidia.com/gpu'],
    ]);
  });
  it('over 64 vCPU at pod level is refused', () => {
    assert.equal(refused(withPod((p) => { p.spec.resources = { limits: { cpu: '65' } }; }))[0]?.code, 'ResourceLimitExceeded');
  });
});

describe("item 7: sysctls by ECI's list", () => {
  const sysctls = (names: string[]) => (p: Pod) => {
    p.spec.securityContext = { sysctls: names.map((name) => ({ name, value: '1' })) };
  };
  it('refuses what ECI excludes or does not list (net.ipv4.tcp_syncookies, kernel.panic, vm.swappiness)', () => {
    const v = refused(withPod(sysctls(['net.ipv4.tcp_syncookies', 'kernel.panic', 'vm.swappiness', 'net.core.somaxconn'])));
    assert.deepEqual(
      v.map((x) => [x.code, x.field]),
      [
        ['UnsupportedSysctl', 'spec.securityContext.sysctls[0].name'],
        ['UnsupportedSysctl', 'spec.securityContext.sysctls[1].name'],
        ['UnsupportedSysctl', 'spec.securityContext.sysctls[2].name'],
      ],
    );
    assert.match(v[0]?.alternative ?? '', /eci-host-sysctls/);
  });
  it("safe ones go in SecurityContext.Sysctl, the other allowed ones (unsafe in Kubernetes' terms) in HostSecurityContext.Sysctl", () => {
    const r = ok(withPod(sysctls(['net.ipv4.ping_group_range', 'net.core.somaxconn', 'kernel.shm_rmid_forced', 'kernel.msgmax', 'fs.mqueue.msg_max', 'vm.min_free_kbytes'])));
    assert.deepEqual(r.SecurityContext, { Sysctl: [{ Name: 'net.ipv4.ping_group_range', Value: '1' }] });
    assert.deepEqual(
      r.HostSecurityContext?.Sysctl.map((s) => s.Name),
      ['net.core.somaxconn', 'kernel.shm_rmid_forced', 'kernel.msgmax', 'fs.mqueue.msg_max', 'vm.min_free_kbytes'],
    );
  });
  it('k8s.aliyun.com/eci-host-sysctls (ticket-approved host sysctls) is appended to HostSecurityContext; a bad value is refused', () => {
    const r = ok(withPod((p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-host-sysctls': '[{"name":"kernel.pid_max","value":"65535"}]' }; }));
    assert.deepEqual(r.HostSecurityContext, { Sysctl: [{ Name: 'kernel.pid_max', Value: '65535' }] });
    const v = refused(withPod((p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-host-sysctls': '{"name":"x"}' }; }));
    assert.equal(v[0]?.code, 'InvalidAnnotation');
  });
});

describe('item 4: eci-custom-dnsconfig in ECI\'s documented format, merged with dnsPolicy and dnsConfig', () => {
  const documented = '{"nameservers":"20.1.0.1,20.1.0.2","searches":"xx.com","options":"ndots:2,edns0"}';
  it('the documented format is accepted and merged after the ClusterFirst base and spec.dnsConfig', () => {
    const r = ok(withPod((p) => {
      p.metadata.annotations = { 'k8s.aliyun.com/eci-custom-dnsconfig': documented };
      p.spec.dnsConfig = { searches: ['corp.example'], options: [{ name: 'timeout', value: '2' }] };
    }));
    assert.equal(r.DnsPolicy, 'None');
    assert.deepEqual(r.DnsConfig, {
      NameServer: ['10.96.0.10', '20.1.0.1', '20.1.0.2'],
      Search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'xx.com'],
      Option: [{ Name: 'ndots', Value: '2' }, { Name: 'timeout', Value: '2' }, { Name: 'edns0' }],
    });
  });
  it('the list form merges the same way (cluster search domains and dnsConfig kept)', () => {
    const r = ok(withPod((p) => {
      p.metadata.annotations = { 'k8s.aliyun.com/eci-custom-dnsconfig': '{"nameservers":["1.1.1.1"],"searches":["a.b"],"options":[{"name":"attempts","value":"3"}]}' };
      p.spec.dnsConfig = { nameservers: ['9.9.9.9'] };
    }));
    assert.deepEqual(r.DnsConfig, {
      NameServer: ['10.96.0.10', '9.9.9.9', '1.1.1.1'],
      Search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'a.b'],
      Option: [{ Name: 'ndots', Value: '5' }, { Name: 'attempts', Value: '3' }],
    });
  });
  it('dnsPolicy None: dnsConfig then the annotation', () => {
    const r = ok(withPod((p) => {
      p.metadata.annotations = { 'k8s.aliyun.com/eci-custom-dnsconfig': '{"nameservers":"20.1.0.1"}' };
      p.spec.dnsPolicy = 'None';
      p.spec.dnsConfig = { nameservers: ['8.8.8.8'], searches: ['s.example'] };
    }));
    assert.deepEqual(r.DnsConfig, { NameServer: ['8.8.8.8', '20.1.0.1'], Search: ['s.example'] });
  });
  it('dnsPolicy Default: the annotation servers then Alibaba Cloud DNS (as ECI appends it)', () => {
    const r = ok(withPod((p) => {
      p.metadata.annotations = { 'k8s.aliyun.com/eci-custom-dnsconfig': '{"nameservers":"20.1.0.1","searches":"xx.com"}' };
      p.spec.dnsPolicy = 'Default';
    }));
    assert.deepEqual([r.DnsPolicy, r.DnsConfig], ['None', { NameServer: ['20.1.0.1', '100.100.2.136'], Search: ['xx.com'] }]);
  });
  it('more than 3 nameservers after merging: the first 3 with a DnsNameserversTruncated warning', () => {
    const p = withPod((x) => {
      x.metadata.annotations = { 'k8s.aliyun.com/eci-custom-dnsconfig': '{"nameservers":"20.1.0.1,20.1.0.2"}' };
      x.spec.dnsConfig = { nameservers: ['8.8.8.8'] };
    });
    assert.deepEqual(ok(p).DnsConfig?.NameServer, ['10.96.0.10', '8.8.8.8', '20.1.0.1']);
    assert.match(warnings(p).find((w) => w.code === 'DnsNameserversTruncated')?.message ?? '', /20\.1\.0\.2 dropped/);
  });
  it('bad values are refused with the documented format: not an IP, more than 2 nameservers, not JSON', () => {
    for (const v of ['{"nameservers":"dns.example"}', '{"nameservers":"1.1.1.1,2.2.2.2,3.3.3.3"}', 'nameservers=1.1.1.1']) {
      const x = refused(withPod((p) => { p.metadata.annotations = { 'k8s.aliyun.com/eci-custom-dnsconfig': v }; }));
      assert.equal(x[0]?.code, 'InvalidAnnotation', v);
    }
  });
});

describe("item 5: ConfigMap/Secret/projected files within ECI's ConfigFile limits (32 KiB per file, 60 KiB per volume)", () => {
  const kb = (n: number, ch = 'x') => ch.repeat(n * 1024);
  const cmCtx = (data: Record<string, string>) => baseCtx({ configMaps: new Map([['big', { metadata: { name: 'big' }, data }]]) });
  const mountCm = (p: Pod) => { p.spec.volumes = [{ name: 'cfg', configMap: { name: 'big' } }]; };
  it('a file over 32 KiB is refused with the field, the size and the alternative', () => {
    const v = refused(withPod(mountCm), cmCtx({ 'app.json': kb(33) }));
    assert.deepEqual(v.map((x) => [x.code, x.field]), [['ConfigFileTooLarge', 'spec.volumes[0].configMap (key app.json)']]);
    assert.match(v[0]?.message ?? '', /33\.0 KiB \(33792 bytes\); ECI allows 32\.0 KiB/);
    assert.match(v[0]?.alternative ?? '', /NAS .*nfs.* or into the image/);
  });
  it('exactly 32 KiB per file is carried; files totalling over 60 KiB are refused on the volume', () => {
    ok(withPod(mountCm), cmCtx({ a: kb(32) }));
    const v = refused(withPod(mountCm), cmCtx({ a: kb(31), b: kb(31) }));
    assert.deepEqual(v.map((x) => [x.code, x.field]), [['ConfigFileTooLarge', 'spec.volumes[0].configMap']]);
    assert.match(v[0]?.message ?? '', /total 62\.0 KiB/);
  });
  it('Secrets count decoded bytes (not base64 length); projected sources add up per volume', () => {
    const secret = { metadata: { name: 's' }, data: { k: Buffer.from(kb(30)).toString('base64') } };
    const ctx = baseCtx({ secrets: new Map([['s', secret]]), configMaps: new Map([['big', { metadata: { name: 'big' }, data: { c: kb(31) } }]]) });
    ok(withPod((p) => { p.spec.volumes = [{ name: 's', secret: { secretName: 's' } }]; }), ctx);
    const v = refused(withPod((p) => { p.spec.volumes = [{ name: 'both', projected: { sources: [{ secret: { name: 's' } }, { configMap: { name: 'big' } }] } }]; }), ctx);
    assert.deepEqual(v.map((x) => [x.code, x.field]), [['ConfigFileTooLarge', 'spec.volumes[0].projected']]);
  });
  it('admission (no object contents) checks downwardAPI files; an unread ConfigMap is not guessed', () => {
    const big = withPod((p) => {
      p.metadata.annotations = { note: kb(40) };
      p.spec.volumes = [{ name: 'info', downwardAPI: { items: [{ path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] } }];
    });
    assert.deepEqual(validatePod(big).violations.map((x) => [x.code, x.field]), [['ConfigFileTooLarge', 'spec.volumes[0].downwardAPI.items[0]']]);
    assert.deepEqual(validatePod(withPod(mountCm)).violations, []);
  });
});

describe('item 11: preStop/postStart sleep (Kubernetes 1.29+)', () => {
  it('is carried as exec ["sleep", N] with a LifecycleSleepAsExec warning, not a refusal', () => {
    const p = withPod((x) => { c0(x).lifecycle = { preStop: { sleep: { seconds: 15 } }, postStart: { sleep: { seconds: 2 } } }; });
    const r = ok(p);
    assert.deepEqual(r.Container[0]?.LifecyclePreStopHandlerExec, ['sleep', '15']);
    assert.deepEqual(r.Container[0]?.LifecyclePostStartHandlerExec, ['sleep', '2']);
    assert.deepEqual(
      warnings(p).filter((w) => w.code === 'LifecycleSleepAsExec').map((w) => w.field),
      ['spec.containers[0].lifecycle.postStart.sleep', 'spec.containers[0].lifecycle.preStop.sleep'],
    );
  });
  it('sleep 0 carries nothing; a negative or fractional duration is refused', () => {
    assert.equal(ok(withPod((x) => { c0(x).lifecycle = { preStop: { sleep: { seconds: 0 } } }; })).Container[0]?.LifecyclePreStopHandlerExec, undefined);
    assert.equal(refused(withPod((x) => { c0(x).lifecycle = { preStop: { sleep: { seconds: 1.5 } } }; }))[0]?.field, 'spec.containers[0].lifecycle.preStop.sleep.seconds');
  });
});

describe('item 12: native sidecars (initContainers[].restartPolicy Always) as ECI sidecar containers', () => {
  const mesh = withPod((p) => {
    p.spec.restartPolicy = 'Never';
    p.spec.initContainers = [
      { name: 'mesh-init', image: 'mesh/init:1' },
      { name: 'proxy', image: 'mesh/proxy:1', restartPolicy: 'Always', readinessProbe: { httpGet: { port: 15021, path: '/ready' } }, resources: { limits: { cpu: '500m', memory: '256Mi' } } },
      { name: 'logs', image: 'fluent-bit:3', restartPolicy: 'Always', env: [{ name: 'ECI_CONTAINER_EXIT_PRIORITY', value: '-500' }] },
      { name: 'migrate', image: 'app/migrate:1' },
    ];
    c0(p).resources = { limits: { cpu: '1', memory: '1Gi' } };
  });
  const env = (c: EciCreateRequest['Container'][number] | undefined) => Object.fromEntries((c?.EnvironmentVar ?? []).map((e) => [e.Key, e.Value]));
  it('sidecars become containers with ECI_CONTAINER_TYPE=sidecar, IGNORE_EXIT_CODE and start/exit priorities; init containers stay', () => {
    const r = ok(mesh);
    assert.deepEqual(r.InitContainer?.map((c) => c.Name), ['mesh-init', 'migrate']);
    assert.deepEqual(r.Container.map((c) => c.Name), ['app', 'proxy', 'logs']);
    const proxy = env(r.Container[1]);
    assert.deepEqual(
      [proxy.ECI_CONTAINER_TYPE, proxy.ECI_CONTAINER_IGNORE_EXIT_CODE, proxy.ECI_CONTAINER_LAUNCH_PRIORITY, proxy.ECI_CONTAINER_EXIT_PRIORITY],
      ['sidecar', 'true', '2', '-2'],
    );
    const logs = env(r.Container[2]);
    assert.deepEqual([logs.ECI_CONTAINER_LAUNCH_PRIORITY, logs.ECI_CONTAINER_EXIT_PRIORITY], ['1', '-500'], 'a value the user set is kept');
    assert.equal(env(r.Container[0]).ECI_CONTAINER_TYPE, undefined, 'app containers are untouched');
    assert.equal(r.Container[1]?.ReadinessProbe?.HttpGet?.Port, 15021, 'probes are carried (they were dropped on init containers)');
  });
  it('sidecar resources add to the app containers (they run beside them)', () => {
    assert.deepEqual([ok(mesh).Cpu, ok(mesh).Memory], [1.5, 1.25]);
  });
  it('each sidecar is warned with exactly what differs from Kubernetes', () => {
    const w = warnings(mesh).filter((x) => x.code === 'NativeSidecarAsEciSidecar');
    assert.deepEqual(w.map((x) => x.field), ['spec.initContainers[1].restartPolicy', 'spec.initContainers[2].restartPolicy']);
    assert.match(w[0]?.message ?? '', /init containers migrate run before it starts, not beside it/);
    assert.match(w[0]?.message ?? '', /readiness probe, not a startup probe/);
    assert.match(w[1]?.message ?? '', /not restarted if it exits \(ECI applies restartPolicy Never/);
  });
  it('only what cannot be honoured is refused: an init restartPolicy other than Always, more than 20 containers with sidecars', () => {
    assert.equal(refused(withPod((p) => { p.spec.initContainers = [{ name: 'x', image: 'i', restartPolicy: 'OnFailure' }]; }))[0]?.code, 'SidecarInitContainer');
    const v = refused(withPod((p) => {
      p.spec.containers = Array.from({ length: 19 }, (_, i) => ({ name: `c${i}`, image: 'i' }));
      p.spec.initContainers = [{ name: 's1', image: 'i', restartPolicy: 'Always' }, { name: 's2', image: 'i', restartPolicy: 'Always' }];
    }));
    assert.deepEqual(v.map((x) => x.code), ['TooManyContainers']);
  });
  it('status: the sidecar is reported among the init container statuses, running counts as started, its readiness counts', () => {
    const pod = withPod((p) => { p.spec.initContainers = [{ name: 'proxy', image: 'mesh/proxy:1', restartPolicy: 'Always' }]; });
    const state = { State: 'Running', StartTime: '2025-01-01T00:00:00Z' };
    const group = (proxyReady: boolean) => ({
      ContainerGroupId: 'eci-1',
      Status: 'Running',
      Containers: [
        { Name: 'app', Image: 'nginx:1.27', Ready: true, RestartCount: 0, CurrentState: state },
        { Name: 'proxy', Image: 'mesh/proxy:1', Ready: proxyReady, RestartCount: 0, CurrentState: state },
      ],
    });
    const s = groupToPodStatus(group(true), pod, '2025-01-01T00:01:00Z');
    assert.deepEqual(s.initContainerStatuses?.map((c) => [c.name, !!c.state?.running, c.ready]), [['proxy', true, true]]);
    assert.deepEqual(s.containerStatuses?.map((c) => c.name), ['app']);
    const cond = (t: string) => s.conditions?.find((c) => c.type === t)?.status;
    assert.deepEqual([cond('Initialized'), cond('Ready')], ['True', 'True']);
    const notReady = groupToPodStatus(group(false), pod, '2025-01-01T00:01:00Z');
    assert.equal(notReady.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  });
});
