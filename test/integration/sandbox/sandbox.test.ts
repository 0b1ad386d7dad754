/**
 * `npm start`'s sandbox, run programmatically end to end: a private kube-apiserver, kube-scheduler and
 * kube-controller-manager + etcd, the ECI emulator over the real SDK, the watcher, the admission webhooks, the
 * embedded queue and delivery feeding the real pod-sync handler, status-sync and gc on timers; the demo workloads
 * must end as promised, nothing may be left over, and nothing may be left running.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { DEMO_PODS } from '../../../scripts/sandbox/demo.js';
import { runSandbox, type StartResult } from '../../../scripts/sandbox/index.js';
import { binariesBuilt } from '../../../scripts/testenv/controlPlane.js';

const skip = binariesBuilt() && existsSync('/usr/bin/etcd') ? false : 'the local control plane is not built (npm run testenv -- install)';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Resolves true when nothing accepts connections at `url` any more. */
async function refuses(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    return code === 'ECONNREFUSED';
  }
}

describe('npm start sandbox', { skip }, () => {
  let result: StartResult;
  const out = new Capture();

  before(async () => {
    // the CronJob runs on the next minute: up to 70 s
    result = await runSandbox({ out, live: false, timeScale: 0.05, settleTimeoutMs: 150_000 });
  });

  it('meets every demo expectation and exits 0', () => {
    assert.deepEqual(
      result.expectations.map((e) => e.pod),
      [...DEMO_PODS],
    );
    for (const e of result.expectations) assert.ok(e.ok, `${e.pod}: expected ${e.expected}, got ${e.actual}`);
    assert.deepEqual(result.failures, []);
    assert.equal(result.exitCode, 0);
  });

  it('creates one container group per runnable pod (none for the refused Deployment) and deletes them all', () => {
    const by = result.eciCalls?.byAction ?? {};
    // web 2, job 2, cron >= 1, job-fail, profile, deleted
    assert.ok((by.CreateContainerGroup ?? 0) >= 8, `creates: ${by.CreateContainerGroup}`);
    assert.ok((by.DeleteContainerGroup ?? 0) >= (by.CreateContainerGroup ?? 0), 'every group was deleted through the API');
    assert.equal(result.groupsLeft, 0);
  });

  it('prints the progress, the table, the apply-time refusal and a summary naming each item', () => {
    assert.match(out.text, /\d\/7 demo items settled/);
    assert.match(out.text, /NAMESPACE\/NAME\s+PHASE\s+REASON\s+GROUP ID\s+ECI STATUS\s+READY\s+AGE/);
    assert.match(out.text, /Admission webhooks registered at https:\/\/127\.0\.0\.1:\d+/);
    assert.match(out.text, /Deployment eci-demo\/refused was refused at apply time by the webhook: .*hostPath/);
    for (const name of DEMO_PODS) assert.match(out.text, new RegExp(`ok\\s+${name}\\s`));
    assert.match(out.text, /ECI calls by action: .*CreateContainerGroup \d+/);
    assert.match(out.text, /Result: every expectation held \(exit 0\)/);
  });

  it('leaves nothing running: watcher, delivery, timers, watch, emulator and control plane stopped', async () => {
    for (const [what, done] of Object.entries(result.stopped)) assert.equal(done, true, `${what} stopped`);
    assert.ok(await refuses(result.endpoints.eci ?? ''), 'the ECI emulator no longer listens');
    assert.ok(await refuses((result.endpoints.apiserver ?? '').replace(/^https/, 'http')), 'the apiserver no longer listens');
    assert.equal(existsSync(dirname(result.endpoints.kubeconfig ?? '/nonexistent/x')), false, 'the control plane directory is gone');
  });
});
