/**
 * `npm start -- --keep`, as a user runs it: once the demo settles the sandbox keeps running and prints what to try;
 * each printed kubectl command is run here with Debian's kubectl 1.20 against the sandbox's own kube-apiserver
 * (which presents a kubelet client certificate) → the watcher's kubelet API → the ECI emulator: logs, exec with an
 * exit code, port-forward with an HTTP request answered on the pod's port (the emulator's `servePorts`), and the
 * node's resource metrics. Then Ctrl-C (the signal) must still clean up and report as without --keep.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DEMO_NAMESPACE } from '../../../scripts/sandbox/demo.js';
import { runSandbox, type StartResult } from '../../../scripts/sandbox/index.js';
import { binariesBuilt, cacheDir } from '../../../scripts/testenv/controlPlane.js';
import { installKubectl } from '../../../scripts/testenv/kubelet.js';
import { spawnCaptured } from '../../helpers/kubelet.js';
import { decodeResourceMetrics } from '../../helpers/metricsServer.js';

const skip = binariesBuilt() && existsSync('/usr/bin/etcd') ? false : 'the local control plane is not built (npm run testenv -- install)';
// the demo's web container declares port 80: only root may bind it on the pod's loopback address
const root = process.getuid?.() === 0;

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('npm start -- --keep: the printed kubectl commands work on the demo pods', { skip }, () => {
  const out = new Capture();
  const stop = new AbortController();
  let running: Promise<StartResult>;
  let kubectlBin: string;
  let kubeconfig: string;
  let vnode: string;

  const kubectl = (args: string[], timeoutMs = 30_000) =>
    spawnCaptured(kubectlBin, ['--kubeconfig', kubeconfig, '-n', DEMO_NAMESPACE, ...args], undefined, timeoutMs);

  before(async () => {
    kubectlBin = installKubectl(cacheDir(), () => {});
    running = runSandbox({ out, live: false, timeScale: 0.05, settleTimeoutMs: 150_000, keep: true, signal: stop.signal });
    const deadline = Date.now() + 300_000;
    while (!/the sandbox keeps running \(--keep\)/.test(out.text)) {
      if (Date.now() > deadline) throw new Error(`the sandbox did not reach --keep:\n${out.text.slice(-3000)}`);
      // a sandbox that ended early (failed) never prints the line: fail with its output
      const ended = await Promise.race([running.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 500))]);
      if (ended) throw new Error(`the sandbox ended before --keep:\n${out.text.slice(-3000)}`);
    }
    kubeconfig = /export KUBECONFIG=(\S+)/.exec(out.text)?.[1] ?? '';
    vnode = /kubectl get node (\S+);/.exec(out.text)?.[1] ?? '';
    assert.ok(kubeconfig && vnode, 'the hint names a KUBECONFIG and the virtual node');
  });

  after(async () => {
    stop.abort();
    await running;
  });

  it('prints commands that name the Deployment, not a pod name that does not exist', () => {
    assert.match(out.text, /kubectl logs -f -n eci-demo deploy\/web/);
    assert.match(out.text, /kubectl port-forward -n eci-demo deploy\/web 8080:80/);
    assert.match(out.text, /kubectl exec -it -n eci-demo deploy\/web -- sh -c 'echo hello; exit 3'/);
  });

  it('kubectl logs deploy/web answers through the kubelet API', async () => {
    const r = await kubectl(['logs', 'deploy/web', '--tail', '5']).done;
    assert.equal(r.code, 0, r.stderr);
  });

  it('kubectl exec deploy/web carries stdout and the exit code', async () => {
    const r = await kubectl(['exec', 'deploy/web', '--', 'sh', '-c', 'echo hello; exit 3']).done;
    assert.equal(r.stdout.trim(), 'hello');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /command terminated with exit code 3/);
  });

  it('kubectl port-forward deploy/web reaches the pod port', { skip: root ? false : 'port 80 needs root' }, async () => {
    const pf = kubectl(['port-forward', 'deploy/web', ':80'], 60_000);
    const forwarded = () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.out())?.[1];
    try {
      const deadline = Date.now() + 30_000;
      while (forwarded() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const local = forwarded();
      assert.ok(local, 'port-forward is listening');
      const res = await fetch(`http://127.0.0.1:${local}/hello`, { signal: AbortSignal.timeout(15_000) });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /container web, port 80: GET \/hello/);
    } finally {
      pf.child.kill('SIGTERM');
      await pf.done;
    }
  });

  it('the node resource metrics name the web pods', async () => {
    const r = await kubectl(['get', '--raw', `/api/v1/nodes/${vnode}/proxy/metrics/resource`]).done;
    assert.equal(r.code, 0, r.stderr);
    const m = decodeResourceMetrics(r.stdout);
    assert.ok(
      m.containers.some((c) => c.namespace === DEMO_NAMESPACE && c.pod.startsWith('web-')),
      `web pods in the metrics: ${r.stdout.slice(0, 500)}`,
    );
  });

  it('Ctrl-C still cleans up: every expectation held, no group left, everything stopped', async () => {
    stop.abort();
    const result = await running;
    assert.deepEqual(result.failures, []);
    assert.equal(result.groupsLeft, 0);
    assert.equal(result.exitCode, 0);
  });
});
