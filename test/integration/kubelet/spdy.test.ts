/**
 * kubectl's streaming commands over SPDY/3.1, end to end on the real path: Debian's kubectl 1.20 (SPDY only) → a
 * real kube-apiserver 1.20, which proxies the upgrade to the node's kubelet port → the watcher's kubelet API (as
 * the sandbox composes it: startRuntime) → the ECI emulator's exec WebSocket over the real SDK. Port-forward
 * reaches a loopback TCP server standing in for the pod IP (the emulator gives pods loopback IPs).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ensureNamespace, type SandboxEnvironment, startSandboxEnvironment } from '../../../scripts/sandbox/environment.js';
import type { Runtime } from '../../../scripts/sandbox/runtime.js';
import { cacheDir } from '../../../scripts/testenv/controlPlane.js';
import { installKubectl } from '../../../scripts/testenv/kubelet.js';
import { KUBELET_E2E_SKIP, KUBELET_TOLERATION, spawnCaptured, startKubeletRuntime } from '../../helpers/kubelet.js';

const skip = KUBELET_E2E_SKIP;
const NS = 'kubelet-spdy';
const TOLERATION = KUBELET_TOLERATION;

describe('kubectl exec, attach and port-forward over SPDY/3.1 through a real kube-apiserver', { skip }, () => {
  let env: SandboxEnvironment;
  let runtime: Runtime;
  let kubectlBin: string;
  const warnings: string[] = [];

  const kubectlArgs = (args: string[]) => ['--kubeconfig', env.controlPlane.kubeconfigPath, '-n', NS, ...args];
  const kubectl = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => spawnCaptured(kubectlBin, kubectlArgs(args), opts.input, opts.timeoutMs ?? 30_000);
  const run = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => kubectl(args, opts).done;

  const waitFor = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; warnings:\n${warnings.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    kubectlBin = installKubectl(cacheDir(), () => {});
    env = await startSandboxEnvironment({
      timeScale: 0.05,
      say: () => {},
      kubelet: true,
      env: { LOG_LEVEL: 'warn' },
      emulator: { scenario: { loopbackPodIps: true } },
    });
    runtime = await startKubeletRuntime(env, warnings);
    await ensureNamespace(env.kube, NS);
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'server', namespace: NS },
      spec: {
        nodeName: env.config.VNODE_NAME,
        tolerations: [TOLERATION],
        restartPolicy: 'Always',
        containers: [{ name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'true # eci-sim: log serving; log-every 1000 pong; forever'] }],
      },
    };
    await env.kube.core.createNamespacedPod({ namespace: NS, body: body as never });
    await waitFor('server running', async () => (await env.kube.core.readNamespacedPod({ namespace: NS, name: 'server' })).status?.phase === 'Running');
  });

  after(async () => {
    await runtime?.stop();
    await env?.stop();
  });

  it('kubectl exec: stdout, stderr apart, and the container\'s exit code as kubectl\'s', async () => {
    const echo = await run(['exec', 'server', '--', 'echo', 'hello', 'over', 'spdy']);
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, 'hello over spdy\n');

    const failing = await run(['exec', 'server', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(failing.code, 3, failing.stderr);
    assert.equal(failing.stdout, 'out\n');
    assert.match(failing.stderr, /^err\n/);
    assert.match(failing.stderr, /command terminated with exit code 3/);
  });

  it('kubectl exec -i: stdin to the end (cat), larger than one SPDY frame and one flow-control window', async () => {
    const input = `${'0123456789abcdef'.repeat(8 * 1024)}\nthe end\n`; // 128 KiB + a line
    const cat = await run(['exec', '-i', 'server', '--', 'cat'], { input });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout.length, input.length);
    assert.equal(cat.stdout, input);
  });

  it('kubectl exec -it under a pty (script): a TTY, the terminal size through the resize stream', async () => {
    const cmd = [kubectlBin, ...kubectlArgs(['exec', '-it', 'server', '--', 'stty', 'size'])].map((a) => `'${a}'`).join(' ');
    const tty = await spawnCaptured('script', ['-qec', `stty rows 33 cols 111; ${cmd}`, '/dev/null'], undefined, 30_000).done;
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /33 111\r\n/);
  });

  it('kubectl attach follows the output read-only; -i is refused with the alternatives', async () => {
    const attach = kubectl(['attach', 'server'], { timeoutMs: 30_000 });
    await waitFor('attached output', () => (attach.out().match(/^pong \d+$/gm) ?? []).length >= 10, 20_000);
    attach.child.kill('SIGTERM');
    const r = await attach.done;
    const pongs = (r.stdout.match(/^pong (\d+)$/gm) ?? []).map((l) => Number(l.slice(5)));
    assert.deepEqual(pongs, pongs.map((_, i) => (pongs[0] ?? 0) + i), 'consecutive, once each');

    const interactive = await run(['attach', '-i', 'server'], { input: '' });
    assert.notEqual(interactive.code, 0);
    assert.match(interactive.stderr, /ECI cannot attach to a container's stdin: attach without -i \(read-only\), or use kubectl exec -i/);
  });

  it('kubectl port-forward carries data both ways to the pod IP, several connections on one SPDY session', async () => {
    const ip = (await env.kube.core.readNamespacedPod({ namespace: NS, name: 'server' })).status?.podIP ?? '';
    assert.match(ip, /^127\./);
    const http = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => res.end(`pod got ${body.length} bytes: ${body.slice(0, 12)}`));
    });
    await new Promise<void>((r) => http.listen(0, ip, r));
    const podPort = (http.address() as AddressInfo).port;
    const pf = kubectl(['port-forward', 'pod/server', `:${podPort}`], { timeoutMs: 60_000 });
    try {
      await waitFor('port-forward listening', () => /Forwarding from 127\.0\.0\.1:(\d+)/.test(pf.out()), 20_000);
      const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.out())?.[1]);
      for (const size of [5, 200_000]) {
        const payload = `hello${'x'.repeat(size - 5)}`;
        const res = await fetch(`http://127.0.0.1:${local}/`, { method: 'POST', body: payload, headers: { connection: 'close' } });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), `pod got ${size} bytes: ${payload.slice(0, 12)}`);
      }
    } finally {
      pf.child.kill('SIGTERM');
      await pf.done;
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });
});
