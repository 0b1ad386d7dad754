/**
 * The data path of an ECI group with the bridge's kube-proxy sidecar, for real, with Linux network namespaces
 * (root; loopback and veth addresses only, in namespaces this test creates and deletes):
 *
 *   host: private control plane (apiserver on 127.0.0.1, advertised as 10.250.77.1 with the lease endpoint
 *         reconciler; a TCP relay on 10.250.77.1:<port> → 127.0.0.1:<port>, since a namespace cannot reach the
 *         host's loopback), controller-manager (endpointslice controller writes discovery.k8s.io/v1beta1 slices)
 *   veth 10.250.77.1 ⇄ 10.250.77.2  "ECI group" namespace: kube-proxy v1.20.2 with the sidecar's own arguments
 *         (kubeProxyArgs), the production kubeconfig and an unbound token of eci-bridge-kube-proxy bound to
 *         system:node-proxier, minted by the production adapter; the sidecar's readiness probe as the gate
 *   veth 10.251.77.1 ⇄ 10.251.77.2/.3  "pod" namespace: HTTP servers (Service `web`) and a small DNS server (the
 *         endpoint of the cluster DNS Service)
 *
 * From the group namespace: the ClusterIP, the service DNS name through the DNS Service's ClusterIP, and the API
 * through the `kubernetes` ClusterIP; then a second backend appears and the first goes, each seen within a bound.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { binariesBuilt, type ControlPlane, kubeBinary, startControlPlane } from '../../../scripts/testenv/controlPlane.js';
import { createKubeCluster } from '../../../shared/adapters/kube/cluster.js';
import { KUBE_PROXY_CONTAINER, kubeProxyArgs, kubeProxyContainer, kubeProxyKubeconfig } from '../../../shared/domain/kubeProxy.js';
import { loadKubeConfig, privateControlPlaneSkipReason } from '../../helpers/kube.js';

const ID = Math.random().toString(16).slice(2, 6);
const G = `ecib-g-${ID}`;
const P = `ecib-p-${ID}`;
const HOST_IP = '10.250.77.1';
const GROUP_IP = '10.250.77.2';
const POD_IPS = ['10.251.77.2', '10.251.77.3'];
const DNS_IP = '10.96.77.10';
const NS = `ecib-net-${ID}`;
const NODE = `ecib-vnode-${ID}`;
/** The bound this test asserts for an endpoint change to reach the group's rules (measured figures printed). */
const CHANGE_BOUND_MS = 15_000;

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const b of ['/usr/sbin/ip', '/usr/sbin/iptables', '/usr/sbin/conntrack']) if (!existsSync(b)) return `${b} missing (testenv installs iptables, conntrack)`;
  if (!binariesBuilt() || !existsSync(kubeBinary('kube-proxy'))) return 'kube-proxy / controller binaries not built';
  return privateControlPlaneSkipReason();
}

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, cmd: string, args: string[]) => ['netns', 'exec', ns, cmd, ...args];

/** Runs a node one-liner inside the group namespace; resolves with its stdout (rejects on exit ≠ 0 or 4 s). */
function fromGroup(script: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((res, rej) => {
    execFile('ip', inNs(G, process.execPath, ['-e', script]), { timeout: 4000, encoding: 'utf8', env: { ...process.env, ...env } }, (err, out) =>
      err ? rej(err) : res(out.trim()),
    );
  });
}
const httpGet = (url: string) =>
  fromGroup(`require('http').get(${JSON.stringify(url)},{timeout:2000},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>console.log(b))}).on('error',e=>{console.error(e.message);process.exit(1)})`);

const POD_SERVERS = `
const http = require('http'), dgram = require('dgram');
const [webName, webIp] = process.argv.slice(1);
http.createServer((q, r) => r.end('backend ' + q.socket.localAddress)).listen(8080, '0.0.0.0');
// a DNS server: A records for one name, NXDOMAIN otherwise (RFC 1035 wire format, one question)
const s = dgram.createSocket('udp4');
s.on('message', (m, rinfo) => {
  let o = 12, labels = [];
  while (m[o] !== 0) { labels.push(m.subarray(o + 1, o + 1 + m[o]).toString()); o += m[o] + 1; }
  const qEnd = o + 5, name = labels.join('.').toLowerCase(), hit = name === webName;
  const head = Buffer.from([m[0], m[1], 0x81, hit ? 0x80 : 0x83, 0, 1, 0, hit ? 1 : 0, 0, 0, 0, 0]);
  const ans = hit ? Buffer.concat([Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4]), Buffer.from(webIp.split('.').map(Number))]) : Buffer.alloc(0);
  s.send(Buffer.concat([head, m.subarray(12, qEnd), ans]), rinfo.port, rinfo.address);
});
s.bind(5353, '0.0.0.0');
`;

describe('data path: kube-proxy 1.20 in an ECI group namespace', { skip: skipReason() ?? false }, () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  let relay: Server | undefined;
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ecib-net-'));
  let webIp = '';
  let syncedMs = 0;

  before(async () => {
    // Namespaces and veths (private addresses, only on links this test creates)
    sh('ip', ['netns', 'add', G]);
    sh('ip', ['netns', 'add', P]);
    sh('ip', ['link', 'add', `ecibh${ID}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', G]);
    sh('ip', ['addr', 'add', `${HOST_IP}/30`, 'dev', `ecibh${ID}`]);
    sh('ip', ['link', 'set', `ecibh${ID}`, 'up']);
    sh('ip', ['-n', G, 'addr', 'add', `${GROUP_IP}/30`, 'dev', 'eth0']);
    sh('ip', ['-n', G, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', P]);
    sh('ip', ['-n', G, 'addr', 'add', '10.251.77.1/24', 'dev', 'eth1']);
    for (const ip of POD_IPS) sh('ip', ['-n', P, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    for (const [ns, links] of [[G, ['lo', 'eth0', 'eth1']], [P, ['lo', 'eth0']]] as const) {
      for (const l of links) sh('ip', ['-n', ns, 'link', 'set', l, 'up']);
    }
    // an ECI group has a default route (the vSwitch gateway): ClusterIPs need one before kube-proxy's DNAT
    sh('ip', ['-n', G, 'route', 'add', 'default', 'via', HOST_IP, 'dev', 'eth0']);
    // and a pod answers any VPC address through its gateway (here: the group's link)
    sh('ip', ['-n', P, 'route', 'add', 'default', 'via', '10.251.77.1', 'dev', 'eth0']);

    // The private plane, advertised on the host's veth address; a relay makes that address reach it
    cp = await startControlPlane({
      controllers: true,
      apiserverArgs: [`--advertise-address=${HOST_IP}`, '--endpoint-reconciler-type=lease'],
      controllerManagerArgs: ['--controllers=*,-nodelifecycle'],
    });
    const port = Number(new URL(cp.server).port);
    relay = createServer((c) => {
      const up = connect(port, '127.0.0.1');
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => relay?.listen(port, HOST_IP, r));
    const kc = loadKubeConfig(cp.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);

    // The virtual node (kube-proxy's --hostname-override) and the sidecar's identity (deploy/kube-proxy-rbac.yaml)
    await core.createNode({ body: { metadata: { name: NODE, labels: { type: 'virtual-kubelet' } } } });
    await core.patchNodeStatus({ name: NODE, body: [{ op: 'add', path: '/status/addresses', value: [{ type: 'InternalIP', address: GROUP_IP }] }] });
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'eci-bridge-kube-proxy' } } });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: `ecib-kube-proxy-${ID}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
        subjects: [{ kind: 'ServiceAccount', name: 'eci-bridge-kube-proxy', namespace: NS }],
      },
    });
    const web = await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    webIp = web.spec?.clusterIP ?? '';
    await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'dns' }, spec: { clusterIP: DNS_IP, selector: { app: 'dns' }, ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] } },
    });

    // the pod namespace's servers, then their pods (Ready, with the namespace's addresses) as endpoints
    procs.push(spawn('ip', inNs(P, process.execPath, ['-e', POD_SERVERS, `web.${NS}.svc.cluster.local`, webIp]), { stdio: 'ignore' }));
    await readyPod('web-1', 'web', POD_IPS[0] as string);
    await readyPod('dns-1', 'dns', POD_IPS[0] as string);

    // kube-proxy, as the sidecar runs: its arguments, kubeconfig, and a token minted by the production adapter
    const minted = await createKubeCluster({ kubeconfigPath: cp.kubeconfigPath }).requestPodToken(NS, 'eci-bridge-kube-proxy', { expirationSeconds: 3600 });
    writeFileSync(join(dir, 'kubeconfig'), kubeProxyKubeconfig(`https://${HOST_IP}:${port}`).replaceAll('/var/lib/eci-bridge-kube-proxy', dir));
    writeFileSync(join(dir, 'token'), minted.token, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.crt'), cp.caPem);
    const started = Date.now();
    const proxy = spawn('ip', inNs(G, kubeBinary('kube-proxy'), kubeProxyArgs(NODE, dir)), { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proxy.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-8000);
    });
    procs.push(proxy);
    // the sidecar's readiness probe, as ECI runs it: app containers start once it passes
    const probe = kubeProxyContainer({ image: 'x', defaultOn: true, cpu: 0.25, memoryGiB: 0.25, serviceAccount: { namespace: NS, name: 'x' }, tokenSeconds: 1 }, NODE)
      .ReadinessProbe?.Exec?.Command as string[];
    while (true) {
      try {
        sh('ip', inNs(G, probe[0] as string, probe.slice(1)));
        break;
      } catch {
        if (Date.now() - started > 90_000) throw new Error(`kube-proxy never synced; its log:\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    syncedMs = Date.now() - started;
    console.log(`kube-proxy ${KUBE_PROXY_CONTAINER}: rules synced ${syncedMs} ms after start (readiness probe passed)`);
  });

  after(async () => {
    if (process.env.DATAPATH_DEBUG) {
      console.log(sh('ip', inNs(G, 'iptables-save', ['-t', 'nat'])).split('\n').filter((l) => l.includes(NS) || l.includes('KUBE-SEP')).join('\n'));
      console.log(sh('ip', inNs(P, 'ss', ['-lntup'])));
      console.log(JSON.stringify((await core.listNamespacedEndpoints({ namespace: NS })).items.map((e) => e.subsets)));
    }
    for (const p of procs) if (p.pid) process.kill(p.pid, 'SIGKILL');
    relay?.close();
    await cp?.stop();
    for (const ns of [G, P]) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function readyPod(name: string, app: string, ip: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await core.createNamespacedPod({
          namespace: NS,
          body: {
            metadata: { name, labels: { app } },
            spec: { nodeName: NODE, automountServiceAccountToken: false, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }] }] },
          },
        });
        break;
      } catch (err) {
        // the serviceaccount controller has not created `default` in the new namespace yet
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await core.patchNamespacedPodStatus({
      name,
      namespace: NS,
      body: [
        { op: 'add', path: '/status/phase', value: 'Running' },
        { op: 'add', path: '/status/podIP', value: ip },
        { op: 'add', path: '/status/podIPs', value: [{ ip }] },
        { op: 'add', path: '/status/conditions', value: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] },
      ],
    });
  }

  async function until(what: string, ok: () => Promise<boolean>): Promise<number> {
    const t0 = Date.now();
    while (!(await ok().catch(() => false))) {
      if (Date.now() - t0 > CHANGE_BOUND_MS) assert.fail(`${what}: not within ${CHANGE_BOUND_MS} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return Date.now() - t0;
  }

  it('reaches the Service at its ClusterIP from the group namespace', async () => {
    assert.equal(await httpGet(`http://${webIp}/`), `backend ${POD_IPS[0]}`);
  });

  it('resolves the service DNS name through the cluster DNS ClusterIP, then reaches it', async () => {
    const out = await fromGroup(
      `const r=new (require('dns').promises.Resolver)();r.setServers(['${DNS_IP}']);r.resolve4('web.${NS}.svc.cluster.local').then(a=>console.log(a.join(','))).catch(e=>{console.error(e.message);process.exit(1)})`,
    );
    assert.equal(out, webIp);
    assert.equal(await httpGet(`http://${out}/`), `backend ${POD_IPS[0]}`);
  });

  it('reaches the API through the kubernetes ClusterIP (KUBERNETES_SERVICE_HOST) with a token', async () => {
    const svc = await core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
    const out = await fromGroup(
      `require('https').get({host:'${svc.spec?.clusterIP}',port:443,path:'/version',ca:process.env.CA,servername:'kubernetes.default.svc',headers:{authorization:'Bearer '+process.env.TOKEN}},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>console.log(r.statusCode, JSON.parse(b).gitVersion))}).on('error',e=>{console.error(e.message);process.exit(1)})`,
      { CA: cp.caPem, TOKEN: cp.token },
    );
    assert.match(out, /^200 v1\.20\.2/);
  });

  it('follows the endpoints: a second backend appears, the first goes, each within the bound', async () => {
    const seen = async (ip: string) => (await httpGet(`http://${webIp}/`)) === `backend ${ip}`;
    const t1 = Date.now();
    await readyPod('web-2', 'web', POD_IPS[1] as string);
    await until('the new backend answers', () => seen(POD_IPS[1] as string));
    const added = Date.now() - t1;
    const t2 = Date.now();
    await core.deleteNamespacedPod({ namespace: NS, name: 'web-1', gracePeriodSeconds: 0 });
    await until('only the new backend answers (10 in a row)', async () => {
      for (let i = 0; i < 10; i++) if (!(await seen(POD_IPS[1] as string))) return false;
      return true;
    });
    const removed = Date.now() - t2;
    console.log(`endpoint change → group rules: added backend answering after ${added} ms, removed backend gone after ${removed} ms (bound ${CHANGE_BOUND_MS} ms)`);
  });
});
