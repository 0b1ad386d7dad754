/**
 * What the kubelet API end-to-end tests (test/integration/kubelet/) share: a child process (kubectl, script) whose
 * output is collected to its exit, killed after a timeout so a hung stream fails the test instead of stalling it,
 * the watcher's runtime composed as the sandbox does, with fast status and follow intervals, and when to skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { SandboxEnvironment } from '../../scripts/sandbox/environment.js';
import { capturingLogger } from '../../scripts/sandbox/log.js';
import { type Runtime, startRuntime } from '../../scripts/sandbox/runtime.js';
import { apiserverBinary } from '../../scripts/testenv/controlPlane.js';

/** These tests start a private control plane: skipped, with the way to build it, where it is not built. */
export const KUBELET_E2E_SKIP: false | string =
  existsSync(apiserverBinary()) && existsSync('/usr/bin/etcd') ? false : 'the local kube-apiserver is not built (npm run testenv -- install)';

/** The toleration the test pods carry for the virtual node's taint (the provider's value, as virtual-kubelet sets it). */
export const KUBELET_TOLERATION = { key: 'virtual-kubelet.io/provider', operator: 'Equal', value: 'alibabacloud', effect: 'NoSchedule' };

/** How a child process ended and all it wrote. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Captured {
  child: ChildProcess;
  /** resolves at the exit (after SIGKILL at the timeout) */
  done: Promise<Run>;
  /** stdout so far, for a test that watches a stream while it runs */
  out(): string;
}

/** Spawns `cmd` with `input` on stdin (stdin closed without one), collecting stdout and stderr until it exits. */
export function spawnCaptured(cmd: string, args: string[], input: string | undefined, timeoutMs: number): Captured {
  const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  if (input !== undefined) child.stdin?.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done, out: () => stdout };
}

/** The watcher's runtime on the sandbox's config, its warnings appended to `warnings`; resolves once it is ready. */
export async function startKubeletRuntime(env: SandboxEnvironment, warnings: string[]): Promise<Runtime> {
  const runtime = await startRuntime({
    config: env.config,
    logger: capturingLogger({ level: 'warn', write: (l) => warnings.push(l) }),
    statusSyncEveryMs: 1000,
    gcEveryMs: 60_000,
    billingEveryMs: 3_600_000,
    followIntervalMs: { min: 200, max: 1000 },
  });
  await runtime.ready();
  return runtime;
}
