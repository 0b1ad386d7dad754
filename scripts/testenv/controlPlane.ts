/**
 * The local test control plane: a real kube-apiserver, kube-scheduler and kube-controller-manager (v1.20.2, built
 * in one `make` from Debian bookworm's `kubernetes` source package) and etcd (Debian's `etcd-server`), all on
 * loopback. No kubelet runs: the bridge is the only "kubelet" (its virtual node).
 *
 * - `install()` installs the Debian packages and builds the binaries once, caching them outside the repo.
 * - `startShared()` / `stopShared()` / `sharedStatus()` manage the detached control plane that `npm test` uses:
 *   apiserver, scheduler and controller-manager with every controller a real cluster runs (leader election off).
 * - `startControlPlane()` starts a private one (own directory, own ports) for tests that kill and restart the
 *   apiserver or need shortened node-lifecycle timeouts; scheduler and controller-manager only when asked
 *   (`controllers: true`); a watchdog process kills it if the test process dies without calling `stop()`.
 *
 * This file is the entry point (it re-exports the pieces its users need) and holds the private planes; the rest is
 * split by concern: paths.ts (version, cache, run directory), install.ts (Debian packages, the build), layout.ts
 * (directory and PKI), flags.ts (component command lines), launch.ts (start-up order and readiness), proc.ts
 * (processes and probes), lock.ts (the cross-process lock), sharedPlane.ts (the shared plane and its holders).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiserverArgs, type PlaneOptions } from './flags.js';
import { launch, waitForApiserver } from './launch.js';
import { layout } from './layout.js';
import { apiserverBinary, type Log, TestenvError } from './paths.js';
import { isAlive, killProcess, spawnLogged } from './proc.js';

export { mergeFlags, type PlaneOptions } from './flags.js';
export { DEBIAN_SOURCE_PACKAGE, DEBIAN_SOURCE_VERSION, debSrcSources, install, installPackages } from './install.js';
export type { ControlPlaneState } from './launch.js';
export {
  apiserverBinary,
  binariesBuilt,
  cacheDir,
  KUBE_BINARIES,
  KUBE_VERSION,
  type KubeBinary,
  kubeBinary,
  type Log,
  sharedKubeconfigPath,
  sharedRunDir,
  TestenvError,
} from './paths.js';
export { isAlive, killProcess, rssMb } from './proc.js';
export { readSharedState, sharedStatus, startShared, stopShared } from './sharedPlane.js';

export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly token: string;
  readonly caPem: string;
  /** SIGKILL the apiserver (etcd keeps running). */
  killApiserver(): Promise<void>;
  /** Start the apiserver again on the same port against the same etcd; resolves when /readyz is ok. */
  startApiserver(): Promise<void>;
  /** Whether kube-scheduler and kube-controller-manager run (they outlive an apiserver restart and reconnect). */
  readonly controllers: boolean;
  /** Kill everything and remove the directory. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- private control planes (for tests)

/**
 * A watchdog child: it reads its stdin, which is a pipe from this process. When this process exits (however it
 * exits, even SIGKILL) the pipe closes, and the watchdog SIGKILLs every pid listed in `dir/*.pid` and removes `dir`.
 */
function spawnWatchdog(dir: string): ChildProcess {
  const script = 'read _ignored; for f in "$0"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; rm -rf "$0"';
  const child = spawn('/bin/sh', ['-c', script, dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.unref();
  // The pipe must not keep this process's event loop alive.
  const stdin = child.stdin as (NodeJS.WritableStream & { unref?: () => void; _handle?: { unref(): void } }) | null;
  stdin?._handle?.unref();
  return child;
}

/**
 * Starts a private control plane (own directory, own ports). Nothing is left running after `stop()`, nor when
 * the calling process exits without calling it.
 */
export async function startControlPlane(opts: PlaneOptions & { log?: Log } = {}): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'eci-bridge-cp-'));
  const l = layout(dir);
  const watchdog = spawnWatchdog(dir);
  const pidFile = (name: string, pid: number | undefined) => writeFileSync(join(dir, `${name}.pid`), String(pid ?? ''));
  let launched: Awaited<ReturnType<typeof launch>>;
  try {
    launched = await launch(l, false, opts);
  } catch (err) {
    watchdog.stdin?.end();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { state } = launched;
  let etcdPid = launched.etcd.pid;
  let apiserverPid = launched.apiserver.pid;
  pidFile('etcd', etcdPid);
  pidFile('apiserver', apiserverPid);
  const others = launched.others.map((c) => c.pid);
  for (const [i, pid] of others.entries()) pidFile(`component-${i}`, pid);
  log(`private control plane at ${state.server}`);
  let stopped = false;

  return {
    dir,
    kubeconfigPath: state.kubeconfigPath,
    server: state.server,
    token: state.token,
    caPem: state.caPem,
    controllers: others.length > 0,
    async killApiserver() {
      await killProcess(apiserverPid, 0);
      apiserverPid = undefined;
      pidFile('apiserver', undefined);
    },
    async startApiserver() {
      if (stopped) throw new TestenvError('control plane stopped');
      if (isAlive(apiserverPid)) return;
      const child = spawnLogged(
        apiserverBinary(),
        apiserverArgs(l, state.apiserverPort, state.etcdPort, opts.apiserverArgs),
        l.apiserverLog,
        false,
      );
      apiserverPid = child.pid;
      pidFile('apiserver', apiserverPid);
      await waitForApiserver(state.server, state.token, l, () => isAlive(child.pid));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const pid of others) await killProcess(pid, 500);
      await killProcess(apiserverPid, 500);
      await killProcess(etcdPid, 2000);
      apiserverPid = undefined;
      etcdPid = undefined;
      for (const f of readdirSync(dir)) if (f.endsWith('.pid')) rmSync(join(dir, f), { force: true });
      watchdog.stdin?.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
