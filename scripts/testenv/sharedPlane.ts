/**
 * The shared control plane `npm test` uses: started detached (`testenv start`), with apiserver, scheduler and
 * controller-manager running every controller a real cluster runs (leader election off); its state in
 * `run-full/state.json`; its users ("holders": a file per test-run pid, or `manual`) so that the last holder's
 * `stop --holder` stops it and a manual start pins it until an explicit stop.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { install, missingPackages } from './install.js';
import { type ControlPlaneState, launch } from './launch.js';
import { layout } from './layout.js';
import { withLock } from './lock.js';
import { binariesBuilt, cacheDir, KUBE_VERSION, type Log, SHARED_FLAVOUR, sharedRunDir } from './paths.js';
import { httpsGet, isAlive, killProcess } from './proc.js';

function statePath(): string {
  return join(sharedRunDir(), 'state.json');
}

export function readSharedState(): ControlPlaneState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(), 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

export async function sharedStatus(): Promise<{ running: boolean; ready: boolean; state?: ControlPlaneState }> {
  const state = readSharedState();
  if (!state) return { running: false, ready: false };
  const running =
    isAlive(state.etcdPid) &&
    isAlive(state.apiserverPid) &&
    (state.schedulerPid === undefined || isAlive(state.schedulerPid)) &&
    (state.controllerManagerPid === undefined || isAlive(state.controllerManagerPid));
  let ready = false;
  if (running) {
    try {
      ready = (await httpsGet(`${state.server}/readyz`, state.token, state.caPem)).status === 200;
    } catch {
      ready = false;
    }
  }
  return { running, ready, state };
}

function holdersDir(): string {
  return join(cacheDir(), 'testenv', `holders-${SHARED_FLAVOUR}`);
}

/**
 * Who uses the shared control plane: a file per holder pid (a test run), or `manual` (started by hand: kept until
 * an explicit `stop`). Returns the live holders after pruning the dead.
 */
function liveHolders(): string[] {
  let names: string[];
  try {
    names = readdirSync(holdersDir());
  } catch {
    return [];
  }
  return names.filter((n) => {
    if (n === 'manual' || isAlive(Number(n))) return true;
    rmSync(join(holdersDir(), n), { force: true });
    return false;
  });
}

/**
 * Starts the shared control plane detached (a no-op when it is already running); builds the binary if missing.
 * `holder` (a pid) registers a user that `stopShared({ holder })` releases; without it the plane is pinned until
 * an explicit `stopShared()`.
 */
export async function startShared(log: Log = console.log, opts: { holder?: number } = {}): Promise<ControlPlaneState> {
  return withLock(`start-${SHARED_FLAVOUR}`, async () => {
    const state = await ensureShared(log);
    mkdirSync(holdersDir(), { recursive: true });
    writeFileSync(join(holdersDir(), opts.holder ? String(opts.holder) : 'manual'), '');
    return state;
  });
}

async function ensureShared(log: Log): Promise<ControlPlaneState> {
  const status = await sharedStatus();
  if (status.running && status.ready && status.state) {
    log(`testenv: already running at ${status.state.server}`);
    return status.state;
  }
  if (status.state) await stopProcesses(() => {});
  if (!binariesBuilt() || missingPackages().length > 0) {
    log('testenv: a control-plane binary or a Debian package is missing: installing first');
    await install(log);
  }
  const t0 = Date.now();
  const dir = sharedRunDir();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { state } = await launch(layout(dir), true, { controllers: true });
  writeFileSync(statePath(), JSON.stringify(state, null, 2), { mode: 0o600 });
  log(
    `testenv: kube-apiserver, kube-scheduler, kube-controller-manager ${KUBE_VERSION} ready at ${state.server} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  log(`testenv: kubeconfig ${state.kubeconfigPath}`);
  return state;
}

/**
 * Stops the shared control plane. With `holder`, only releases that holder, and stops the plane only when no
 * other live holder (another test run, or a manual start) still uses it.
 */
export async function stopShared(log: Log = console.log, opts: { holder?: number } = {}): Promise<void> {
  await withLock(`start-${SHARED_FLAVOUR}`, async () => {
    if (opts.holder) {
      rmSync(join(holdersDir(), String(opts.holder)), { force: true });
      const others = liveHolders();
      if (others.length > 0) {
        log(`testenv: still in use (${others.join(', ')}); left running`);
        return;
      }
    }
    rmSync(holdersDir(), { recursive: true, force: true });
    await stopProcesses(log);
  });
}

async function stopProcesses(log: Log): Promise<void> {
  const state = readSharedState();
  if (state) {
    await killProcess(state.schedulerPid);
    await killProcess(state.controllerManagerPid);
    await killProcess(state.apiserverPid);
    await killProcess(state.etcdPid);
    log(`testenv: stopped (apiserver pid ${state.apiserverPid}, etcd pid ${state.etcdPid})`);
  } else {
    log('testenv: not running');
  }
  rmSync(sharedRunDir(), { recursive: true, force: true });
}
