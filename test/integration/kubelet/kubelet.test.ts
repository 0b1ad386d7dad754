/**
 * The kubelet API end to end, on the real path: Debian's kubectl 1.20 → a real kube-apiserver 1.20 (default
 * --kubelet-preferred-address-types, presenting kubeadm's kind of kubelet client certificate) → the watcher's
 * kubelet API (as the sandbox composes it: startRuntime) → the ECI emulator over the real SDK.
 *
 * Pods: `ticker` writes a line every 50 ms for 15 s and exits; `crasher` restarts (previous logs); `short`
 * finishes at once and its group is forgotten by the emulator after 6 s (logs from the archive).
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Attach, Exec, Log, PortForward, type V1Status } from '@kubernetes/client-node';
import { WebSocket } from 'ws';
import { createKubeKubeletSupport } from '../../../shared/adapters/kube/index.js';
import { ensureNamespace, type SandboxEnvironment, startSandboxEnvironment } from '../../../scripts/sandbox/environment.js';
import type { Runtime } from '../../../scripts/sandbox/runtime.js';
import { cacheDir } from '../../../scripts/testenv/controlPlane.js';
import { installKubectl } from '../../../scripts/testenv/kubelet.js';
import { KUBELET_E2E_SKIP, KUBELET_TOLERATION, spawnCaptured, startKubeletRuntime } from '../../helpers/kubelet.js';
import { decodeResourceMetrics } from '../../helpers/metricsServer.js';

const skip = KUBELET_E2E_SKIP;
const NS = 'kubelet-e2e';
const TOLERATION = KUBELET_TOLERATION;

describe('kubelet API: kubectl logs and metrics through a real kube-apiserver', { skip }, () => {
  let env: SandboxEnvironment;
  let runtime: Runtime;
  let kubectlBin: string;
  let vnode: string;
  let port: number;
  const warnings: string[] = [];

  const kubectl = (args: string[], opts: { timeoutMs?: number } = {}) =>
    spawnCaptured(kubectlBin, ['--kubeconfig', env.controlPlane.kubeconfigPath, '-n', NS, ...args], undefined, opts.timeoutMs ?? 30_000);
  const run = (args: string[], timeoutMs?: number) => kubectl(args, { timeoutMs }).done;

  const pod = (name: string, restartPolicy: string, sim: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      nodeName: vnode,
      tolerations: [TOLERATION],
      restartPolicy,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', image: 'busybox:1.36', command: ['sh', '-c', `true # eci-sim: ${sim}`] }],
    },
  });

  const podPhase = async (name: string) => (await env.kube.core.readNamespacedPod({ namespace: NS, name })).status;
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const direct = (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path, headers, rejectUnauthorized: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => {
            body += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });

  before(async () => {
    kubectlBin = installKubectl(cacheDir(), () => {});
    env = await startSandboxEnvironment({
      timeScale: 0.05,
      say: () => {},
      kubelet: true,
      env: { LOG_LEVEL: 'warn' },
      // finished groups are forgotten 6 s after they finish (ECI: 1 h, then the latest 100)
      // pod IPs on loopback, so port-forward reaches a server the test runs "in" the pod
      emulator: { retainFinishedMs: 6000, scenario: { keepLatestFinished: 0, loopbackPodIps: true } },
    });
    vnode = env.config.VNODE_NAME;
    port = env.config.KUBELET_PORT;
    runtime = await startKubeletRuntime(env, warnings);
    await ensureNamespace(env.kube, NS);
    for (const p of [
      pod('ticker', 'Never', 'log hello world; log-every 1000 tick; sleep 300'),
      pod('crasher', 'Always', 'log-every 1000 beat; crash-after 20'),
      pod('short', 'Never', 'log first line; log second line; sleep 2'),
      pod('server', 'Always', 'log serving; log-every 1000 pong; forever'),
    ]) {
      await env.kube.core.createNamespacedPod({ namespace: NS, body: p as never });
    }
    await waitFor('ticker running', async () => (await podPhase('ticker'))?.phase === 'Running');
  });

  after(async () => {
    await runtime?.stop();
    await env?.stop();
  });

  it('publishes only the InternalIP and the kubelet port, so a default apiserver dials the watcher', async () => {
    const node = await env.kube.core.readNode({ name: vnode });
    assert.deepEqual(node.status?.addresses?.map((a) => ({ type: a.type, address: a.address })), [{ type: 'InternalIP', address: '127.0.0.1' }]);
    assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, port);
  });

  it('kubectl logs -f follows until the container terminates: every line once, in order (two followers, one poller)', async () => {
    const first = kubectl(['logs', '-f', 'ticker'], { timeoutMs: 60_000 });
    const second = kubectl(['logs', '-f', 'ticker', '-c', 'app'], { timeoutMs: 60_000 });
    await waitFor('both followers', async () => runtime.kubelet?.followers.active === 1 && first.child.exitCode === null, 10_000);

    // meanwhile, one-shot reads with each flag
    const tail = await run(['logs', 'ticker', '--tail=3']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(tail.stdout.trimEnd().split('\n').length, 3);
    assert.match(tail.stdout, /^tick \d+$/m);

    const stamped = await run(['logs', 'ticker', '--timestamps', '--tail=5']);
    const stamps = stamped.stdout.trimEnd().split('\n').map((l) => Date.parse(l.split(' ')[0] ?? ''));
    assert.equal(stamps.length, 5);
    for (const t of stamps) assert.ok(Number.isFinite(t), stamped.stdout);

    const all = await run(['logs', 'ticker']);
    assert.match(all.stdout, /^hello world$/m);
    const since = await run(['logs', 'ticker', '--since=1s', '--timestamps']);
    const sinceLines = since.stdout.trimEnd().split('\n');
    assert.ok(sinceLines.length < all.stdout.trimEnd().split('\n').length, 'since keeps only the last second');
    for (const l of sinceLines) assert.ok(Date.parse(l.split(' ')[0] ?? '') >= Date.now() - 5000, l);

    const pivot = stamped.stdout.split('\n')[2]?.split(' ')[0] ?? '';
    const sinceTime = await run(['logs', 'ticker', `--since-time=${pivot}`, '--timestamps']);
    // kubectl sends sinceTime to the second (metav1.Time)
    const from = Math.floor(Date.parse(pivot) / 1000) * 1000;
    const sinceStamps = sinceTime.stdout.trimEnd().split('\n').map((l) => Date.parse(l.split(' ')[0] ?? ''));
    assert.ok(sinceStamps[0] !== undefined && sinceStamps[0] >= from && sinceStamps[0] < from + 1000, sinceTime.stdout.slice(0, 200));

    const limited = await run(['logs', 'ticker', '--limit-bytes=7']);
    assert.equal(limited.stdout, all.stdout.slice(0, 7));

    const wrong = await run(['logs', 'ticker', '-c', 'nope']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /container nope is not valid for pod ticker/);

    const [a, b] = await Promise.all([first.done, second.done]);
    for (const r of [a, b]) {
      assert.equal(r.code, 0, r.stderr);
      const ticks = [...r.stdout.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
      assert.ok(ticks.length >= 250, `${ticks.length} ticks`);
      assert.deepEqual(ticks, ticks.map((_, i) => i + 1), 'every tick once, in order, from the first');
      assert.match(r.stdout, /container app exited with code 0\n$/);
    }
    assert.equal((await podPhase('ticker'))?.phase, 'Succeeded');
    assert.equal(runtime.kubelet?.followers.active, 0);
  });

  it('kubectl logs --previous shows the restarted container\'s last run', async () => {
    await waitFor('crasher restarted', async () => ((await podPhase('crasher'))?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
    const prev = await run(['logs', 'crasher', '--previous']);
    assert.equal(prev.code, 0, prev.stderr);
    assert.match(prev.stdout, /^beat 1$/m);
    assert.match(prev.stdout, /container app exited with code 1/);
  });

  it('logs of a finished pod remain after ECI forgets its group (the archive)', async () => {
    const support = createKubeKubeletSupport({ kubeconfigPath: env.controlPlane.kubeconfigPath });
    const uid = (await env.kube.core.readNamespacedPod({ namespace: NS, name: 'short' })).metadata?.uid ?? '';
    await waitFor('short archived', async () => (await support.getLogArchive(env.config.KUBELET_LOG_ARCHIVE_NAMESPACE, vnode, uid)) !== undefined).catch(
      (err: Error) => assert.fail(`${err.message}; warnings:\n${warnings.join('')}`),
    );
    const groupId = (await env.kube.core.readNamespacedPod({ namespace: NS, name: 'short' })).metadata?.annotations?.['k8s.aliyun.com/eci-instance-id'];
    assert.ok(groupId);
    await waitFor('the group forgotten', async () => !env.emulator.groups().some((g) => g.ContainerGroupId === groupId));
    const logs = await run(['logs', 'short']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^first line\nsecond line\n/m);
    const tail = await run(['logs', 'short', '--tail=1']);
    assert.equal(tail.stdout, 'eci-sim: container app exited with code 0\n');
  });

  it('serves /metrics/resource and /stats/summary through the apiserver proxy, as metrics-server reads them', async () => {
    const raw = await run(['get', '--raw', `/api/v1/nodes/${vnode}/proxy/metrics/resource`]);
    assert.equal(raw.code, 0, raw.stderr);
    const batch = decodeResourceMetrics(raw.stdout);
    const server = batch.containers.find((c) => c.pod === 'server' && c.container === 'app' && c.namespace === NS);
    assert.ok(server, raw.stdout);
    assert.ok(server.cpuNs > 0 && server.memory > 0);
    assert.ok(batch.node && batch.node.memory >= server.memory);
    assert.equal(batch.node.memory, batch.containers.reduce((n, c) => n + c.memory, 0), 'the node is the sum of its pods');
    const summary = await run(['get', '--raw', `/api/v1/nodes/${vnode}/proxy/stats/summary`]);
    const s = JSON.parse(summary.stdout) as { node: { nodeName: string }; pods: { podRef: { name: string } }[] };
    assert.equal(s.node.nodeName, vnode);
    assert.ok(s.pods.some((p) => p.podRef.name === 'server'));
  });

  it('refuses anonymous callers (401) and unauthorized ones (403); authorizes per subresource like the kubelet', async () => {
    assert.equal((await direct('/healthz')).status, 200);
    const anon = await direct(`/containerLogs/${NS}/crasher/app`);
    assert.equal(anon.status, 401);
    const sa = `viewer-${Date.now()}`;
    await env.kube.core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: sa } } });
    const token = (await env.kube.core.createNamespacedServiceAccountToken({ namespace: NS, name: sa, body: { spec: { audiences: [] } } })).status?.token ?? '';
    const auth = { authorization: `Bearer ${token}` };
    const denied = await direct('/metrics/resource', auth);
    assert.equal(denied.status, 403);
    assert.match(denied.body, /Forbidden \(user=system:serviceaccount:kubelet-e2e:viewer-\d+, verb=get, resource=nodes, subresource=metrics\)/);
    assert.equal((await direct('/metrics/resource', { authorization: 'Bearer not-a-token' })).status, 401);
    const rbac = env.kube.config.makeApiClient((await import('@kubernetes/client-node')).RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: sa }, rules: [{ apiGroups: [''], resources: ['nodes/metrics', 'nodes/stats'], verbs: ['get'] }] } });
    await rbac.createClusterRoleBinding({
      body: { metadata: { name: sa }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace: NS }] },
    });
    // a denial is cached 30 s (the kubelet's webhook authorizer does the same): a new verb path is asked afresh
    const stats = await direct('/stats/summary', auth);
    assert.equal(stats.status, 200, stats.body);
    const logs = await direct(`/containerLogs/${NS}/crasher/app`, auth);
    assert.equal(logs.status, 403, 'nodes/proxy is not granted');
    await rbac.deleteClusterRoleBinding({ name: sa });
    await rbac.deleteClusterRole({ name: sa });
  });

  it('@kubernetes/client-node Log reads through the apiserver', async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const req = await new Log(env.kube.config).log(NS, 'ticker', 'app', sink, { tailLines: 2, timestamps: true });
    await waitFor('log body', async () => chunks.join('').split('\n').length > 2, 10_000);
    req.abort();
    const lines = chunks.join('').trimEnd().split('\n');
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, /^\d{4}-\d{2}-\d{2}T[\d:.]+Z /);
    assert.match(lines[1] ?? '', / eci-sim: container app exited with code 0$/);
  });

  it('@kubernetes/client-node Exec (WebSocket, passed through by the apiserver): stdout, stderr, stdin EOF, exit codes', async () => {
    const exec = async (command: string[], input?: string) => {
      const out: string[] = [];
      const err: string[] = [];
      const sink = (into: string[]) =>
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            into.push(chunk.toString());
            cb();
          },
        });
      const stdin = input === undefined ? null : Readable.from([Buffer.from(input)]);
      const status = await new Promise<V1Status>((resolve, reject) => {
        new Exec(env.kube.config).exec(NS, 'server', 'app', command, sink(out), sink(err), stdin, false, resolve).catch(reject);
      });
      return { stdout: out.join(''), stderr: err.join(''), status };
    };
    const echo = await exec(['echo', 'hello', 'world']);
    assert.equal(echo.stdout, 'hello world\n');
    assert.equal(echo.status.status, 'Success');
    const failing = await exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(failing.stdout, 'out\n');
    assert.equal(failing.stderr, 'err\n');
    assert.equal(failing.status.reason, 'NonZeroExitCode');
    assert.deepEqual(failing.status.details?.causes?.map((c) => [c.reason, c.message]), [['ExitCode', '3']]);
    const cat = await exec(['cat'], 'piped through stdin\n');
    assert.equal(cat.stdout, 'piped through stdin\n');
    assert.equal(cat.status.status, 'Success');
  });

  it('refuses an exec beyond ECI\'s limits (20 arguments of 256 characters) before calling ECI', async () => {
    const token = (env.kube.config.getCurrentUser()?.token ?? '') as string;
    const calls = env.emulator.calls().byAction.ExecContainerCommand ?? 0;
    for (const [command, why] of [
      [Array.from({ length: 21 }, () => 'x'), /at most 20 arguments \(this one has 21\)/],
      [['echo', 'y'.repeat(257)], /at most 256 characters \(argument 2 has 257\)/],
    ] as const) {
      const q = command.map((c) => `command=${encodeURIComponent(c)}`).join('&');
      const ws = new WebSocket(`wss://127.0.0.1:${port}/exec/${NS}/server/app?${q}&output=1`, ['v4.channel.k8s.io'], {
        headers: { authorization: `Bearer ${token}` },
        rejectUnauthorized: false,
      });
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        ws.on('unexpected-response', (_req, r) => {
          let body = '';
          r.on('data', (d: Buffer) => {
            body += d.toString();
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        ws.on('open', () => reject(new Error('the upgrade was accepted')));
        ws.on('error', () => {});
      });
      assert.equal(res.status, 400);
      assert.match(res.body, why);
    }
    assert.equal(env.emulator.calls().byAction.ExecContainerCommand ?? 0, calls);
  });

  it('@kubernetes/client-node Attach (WebSocket) follows the output read-only; -i is refused with the alternatives', async () => {
    const out: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk.toString());
        cb();
      },
    });
    const ws = await new Attach(env.kube.config).attach(NS, 'server', 'app', sink, null, null, false);
    await waitFor('attached output', async () => (out.join('').match(/^pong \d+$/gm) ?? []).length >= 10, 15_000);
    ws.close();
    const pongs = (out.join('').match(/^pong (\d+)$/gm) ?? []).map((l) => Number(l.slice(5)));
    assert.deepEqual(pongs, pongs.map((_, i) => (pongs[0] ?? 0) + i), 'consecutive, once each');

    const token = (env.kube.config.getCurrentUser()?.token ?? '') as string;
    const refused = new WebSocket(`wss://127.0.0.1:${port}/attach/${NS}/server/app?input=1&output=1`, ['v4.channel.k8s.io'], {
      headers: { authorization: `Bearer ${token}` },
      rejectUnauthorized: false,
    });
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      refused.on('unexpected-response', (_req, r) => {
        let body = '';
        r.on('data', (d: Buffer) => {
          body += d.toString();
        });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      refused.on('open', () => reject(new Error('the upgrade was accepted')));
      refused.on('error', () => {});
    });
    assert.equal(res.status, 400);
    assert.match(res.body, /ECI cannot attach to a container's stdin: attach without -i \(read-only\), or use kubectl exec -i/);
  });

  it('@kubernetes/client-node PortForward (WebSocket) carries an HTTP request to the pod IP and back', async () => {
    const ip = (await podPhase('server'))?.podIP ?? '';
    assert.match(ip, /^127\./);
    const http = createServer((_req, res) => res.end('hello from the pod\n'));
    await new Promise<void>((r) => http.listen(0, ip, r));
    const podPort = (http.address() as AddressInfo).port;
    try {
      const out: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          out.push(chunk.toString());
          cb();
        },
      });
      const input = new PassThrough();
      const ws = await new PortForward(env.kube.config).portForward(NS, 'server', [podPort], sink, null, input);
      input.write(`GET / HTTP/1.0\r\nHost: ${ip}\r\n\r\n`);
      await waitFor('the response', async () => out.join('').includes('hello from the pod'), 10_000);
      assert.match(out.join(''), /^HTTP\/1\.1 200 OK/);
      if (typeof ws !== 'function') ws.close();
    } finally {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });
});
