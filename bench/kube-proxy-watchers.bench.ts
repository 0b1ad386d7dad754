/**
 * The apiserver load of N ECI groups each running the kube-proxy sidecar (docs/networking.md §2): M real kube-proxy
 * v1.20.2 processes, each in its own network namespace (root; a bridge in a hub namespace, veth addresses only),
 * against a private control plane. Figures: watchers registered on the apiserver, its RSS and CPU while idle
 * without and with the M proxies, and its CPU per endpoint change fanned out to M watchers. `--proxies M` (10),
 * `--services S` (50). Never fails on a number; cleans up its namespaces.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeBinary, rssMb, startControlPlane } from '../scripts/testenv/controlPlane.js';
import { createKubeCluster } from '../shared/adapters/kube/cluster.js';
import { kubeProxyArgs, kubeProxyKubeconfig } from '../shared/domain/kubeProxy.js';
import { coreApi, rbacApi } from '../test/helpers/kube.js';
import { type Figure, figure, writeResult } from './results.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const M = arg('proxies', 10);
const S = arg('services', 50);
const ID = Math.random().toString(16).slice(2, 6);
const HUB = `ecib-hub-${ID}`;
const HOST_IP = '10.250.90.1';
const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuSeconds = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
};

async function main(): Promise<void> {
  const figures: Figure[] = [];
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ecib-kpw-'));
  const nets: string[] = [];
  const cp = await startControlPlane({
    controllers: true,
    apiserverArgs: [`--advertise-address=${HOST_IP}`, '--endpoint-reconciler-type=lease'],
    controllerManagerArgs: ['--controllers=*,-nodelifecycle'],
  });
  const apiPid = Number(readFileSync(join(cp.dir, 'apiserver.pid'), 'utf8'));
  const port = Number(new URL(cp.server).port);
  const relay = createServer((c) => {
    const up = connect(port, '127.0.0.1');
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  try {
    sh('ip', ['netns', 'add', HUB]);
    nets.push(HUB);
    sh('ip', ['-n', HUB, 'link', 'add', 'br0', 'type', 'bridge']);
    sh('ip', ['-n', HUB, 'link', 'set', 'br0', 'up']);
    sh('ip', ['link', 'add', `ecibw${ID}`, 'type', 'veth', 'peer', 'name', 'up0', 'netns', HUB]);
    sh('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', `ecibw${ID}`]);
    sh('ip', ['link', 'set', `ecibw${ID}`, 'up']);
    sh('ip', ['-n', HUB, 'link', 'set', 'up0', 'master', 'br0', 'up']);
    await new Promise<void>((r) => relay.listen(port, HOST_IP, r));

    const core = coreApi(cp.kubeconfigPath);
    await rbacApi(cp.kubeconfigPath).createClusterRoleBinding({
      body: {
        metadata: { name: 'eci-bridge-kube-proxy' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
        subjects: [{ kind: 'ServiceAccount', name: 'eci-bridge-kube-proxy', namespace: 'default' }],
      },
    });
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'eci-bridge-kube-proxy' } } });
    await core.createNode({ body: { metadata: { name: 'vnode' } } });
    for (let i = 0; i < S; i++) {
      await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: `svc-${i}` }, spec: { selector: { app: `a${i}` }, ports: [{ port: 80 }] } } });
    }
    const token = (await createKubeCluster({ kubeconfigPath: cp.kubeconfigPath }).requestPodToken('default', 'eci-bridge-kube-proxy', { expirationSeconds: 3600 })).token;
    writeFileSync(join(dir, 'kubeconfig'), kubeProxyKubeconfig(`https://${HOST_IP}:${port}`).replaceAll('/var/lib/eci-bridge-kube-proxy', dir));
    writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.crt'), cp.caPem);

    const idle = async (label: string): Promise<{ cpu: number; rss: number }> => {
      await sleep(5000);
      const c0 = cpuSeconds(apiPid);
      await sleep(20_000);
      const cpu = ((cpuSeconds(apiPid) - c0) / 20) * 1000;
      const rss = rssMb(apiPid) ?? 0;
      console.log(`${label}: apiserver ${cpu.toFixed(1)} ms CPU/s, ${rss.toFixed(0)} MB RSS`);
      return { cpu, rss };
    };
    const before = await idle('no kube-proxy');
    // endpoint churn: C changes of one Service's endpoints (Endpoints → EndpointSlice), fanned out to every watcher
    const churn = async (offset: number): Promise<number> => {
      const C = 30;
      const c0 = cpuSeconds(apiPid);
      for (let k = 0; k < C; k++) {
        const body = { metadata: { name: 'svc-0' }, subsets: [{ addresses: [{ ip: `10.251.${((offset + k) >> 8) % 250}.${((offset + k) % 250) + 1}` }], ports: [{ port: 80 }] }] };
        await core.replaceNamespacedEndpoints({ namespace: 'default', name: 'svc-0', body }).catch(() => core.createNamespacedEndpoints({ namespace: 'default', body }));
        await sleep(200);
      }
      return ((cpuSeconds(apiPid) - c0) * 1000) / C;
    };
    const churnBefore = await churn(0);

    for (let i = 0; i < M; i++) {
      const ns = `ecib-kp${i}-${ID}`;
      sh('ip', ['netns', 'add', ns]);
      nets.push(ns);
      sh('ip', ['-n', HUB, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh('ip', ['-n', HUB, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
      sh('ip', ['-n', ns, 'addr', 'add', `10.250.90.${10 + i}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      procs.push(spawn('ip', ['netns', 'exec', ns, kubeBinary('kube-proxy'), ...kubeProxyArgs('vnode', dir)], { stdio: 'ignore' }));
    }
    const with_ = await idle(`${M} kube-proxies`);
    const metrics = await new Promise<string>((res, rej) => {
      httpsGet(`${cp.server}/metrics`, { ca: cp.caPem, headers: { authorization: `Bearer ${cp.token}` } }, (r) => {
        let b = '';
        r.on('data', (d: Buffer) => {
          b += d.toString();
        });
        r.on('end', () => res(b));
      }).on('error', rej);
    });
    const watchers = (kind: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith('apiserver_registered_watchers') && l.includes(`kind="${kind}"`))
        .reduce((a, l) => a + Number(l.split(' ').pop()), 0);

    const churnCpu = await churn(1000);

    figures.push(
      figure('kubeProxyWatchers.proxies', 'kube-proxy sidecars (one netns each)', M, 'count'),
      figure('kubeProxyWatchers.services', 'Services in the cluster', S, 'count'),
      figure('kubeProxyWatchers.serviceWatchers', 'watchers of Services registered', watchers('Service'), 'count'),
      figure('kubeProxyWatchers.sliceWatchers', 'watchers of EndpointSlices registered', watchers('EndpointSlice'), 'count'),
      figure('kubeProxyWatchers.idleCpuBefore', 'apiserver idle CPU, no kube-proxy', before.cpu, 'ms/s'),
      figure('kubeProxyWatchers.idleCpuWith', `apiserver idle CPU, ${M} kube-proxies`, with_.cpu, 'ms/s'),
      figure('kubeProxyWatchers.rssBefore', 'apiserver RSS, no kube-proxy', before.rss, 'MB'),
      figure('kubeProxyWatchers.rssWith', `apiserver RSS, ${M} kube-proxies`, with_.rss, 'MB'),
      figure('kubeProxyWatchers.churnCpuBefore', 'apiserver CPU per endpoint change, no kube-proxy', churnBefore, 'ms'),
      figure('kubeProxyWatchers.churnCpu', `apiserver CPU per endpoint change (fan-out to ${M})`, churnCpu, 'ms'),
    );
    writeResult('kube-proxy-watchers', figures);
    for (const f of figures) console.log(`${f.label}: ${typeof f.value === 'number' ? f.value.toFixed(1) : f.value} ${f.unit}`);
  } finally {
    for (const p of procs) if (p.pid) process.kill(p.pid, 'SIGKILL');
    relay.close();
    await cp.stop();
    for (const n of nets.reverse()) {
      try {
        sh('ip', ['netns', 'del', n]);
      } catch {
        /* gone */
      }
    }
    try {
      sh('ip', ['link', 'del', `ecibw${ID}`]);
    } catch {
      /* deleted with its peer */
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
