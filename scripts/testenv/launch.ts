/**
 * Starting a control plane in a prepared directory: etcd, then kube-apiserver (until /readyz answers), then, when
 * asked, kube-controller-manager and kube-scheduler (until their /healthz answer and the serviceaccount controller
 * has made `default/default`). On any failure everything it started is killed.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiserverArgs, controllerManagerArgs, etcdArgs, type PlaneOptions, schedulerArgs } from './flags.js';
import { type Layout, prepareFiles, writeKubeconfig } from './layout.js';
import { apiserverBinary, binariesBuilt, ETCD_BIN, isExecutable, kubeBinary, TestenvError } from './paths.js';
import { freePort, httpGet, httpsGet, isAlive, killProcess, spawnLogged, waitFor } from './proc.js';

export interface ControlPlaneState {
  dir: string;
  server: string;
  token: string;
  caPem: string;
  kubeconfigPath: string;
  etcdPid: number;
  apiserverPid: number;
  etcdPort: number;
  apiserverPort: number;
  /** set when the plane runs the scheduler and controller-manager */
  schedulerPid?: number;
  controllerManagerPid?: number;
  startedAt: string;
}

/** Starts etcd, the apiserver (waits for /readyz), then the scheduler and controller-manager when asked. */
export async function launch(
  l: Layout,
  detached: boolean,
  opts: PlaneOptions,
): Promise<{ state: ControlPlaneState; etcd: ChildProcess; apiserver: ChildProcess; others: ChildProcess[] }> {
  const bin = apiserverBinary();
  if (!isExecutable(bin)) throw new TestenvError(`kube-apiserver not found at ${bin}: run 'npm run testenv -- install'`);
  if (!isExecutable(ETCD_BIN)) throw new TestenvError(`etcd not found at ${ETCD_BIN}: run 'npm run testenv -- install'`);
  const controllers = opts.controllers ?? false;
  if (controllers && !binariesBuilt()) {
    throw new TestenvError(`kube-scheduler / kube-controller-manager not built: run 'npm run testenv -- install'`);
  }
  const token = prepareFiles(l);
  const { etcdPort, peerPort, apiserverPort, schedulerPort, controllerManagerPort } = await pickPorts();
  const etcd = spawnLogged(ETCD_BIN, etcdArgs(l, etcdPort, peerPort), l.etcdLog, detached);
  let apiserver: ChildProcess | undefined;
  const others: ChildProcess[] = [];
  try {
    await waitFor('etcd', async () => (await httpGet(`http://127.0.0.1:${etcdPort}/health`)) === 200, {
      timeoutMs: 30_000,
      alive: () => isAlive(etcd.pid),
      logFile: l.etcdLog,
    });
    apiserver = spawnLogged(bin, apiserverArgs(l, apiserverPort, etcdPort, opts.apiserverArgs), l.apiserverLog, detached);
    const proc = apiserver;
    const server = `https://127.0.0.1:${apiserverPort}`;
    await waitForApiserver(server, token, l, () => isAlive(proc.pid));
    const caPem = readFileSync(join(l.certDir, 'apiserver.crt'), 'utf8');
    writeKubeconfig(l.kubeconfig, server, token, caPem);
    const state: ControlPlaneState = {
      dir: l.dir,
      server,
      token,
      caPem,
      kubeconfigPath: l.kubeconfig,
      etcdPid: etcd.pid ?? 0,
      apiserverPid: apiserver.pid ?? 0,
      etcdPort,
      apiserverPort,
      startedAt: new Date().toISOString(),
    };
    if (controllers) {
      const cm = spawnLogged(
        kubeBinary('kube-controller-manager'),
        controllerManagerArgs(l, controllerManagerPort, opts.controllerManagerArgs),
        l.controllerManagerLog,
        detached,
      );
      others.push(cm);
      const sched = spawnLogged(kubeBinary('kube-scheduler'), schedulerArgs(l, schedulerPort, opts.schedulerArgs), l.schedulerLog, detached);
      others.push(sched);
      state.controllerManagerPid = cm.pid ?? 0;
      state.schedulerPid = sched.pid ?? 0;
      await waitFor('kube-controller-manager', async () => (await httpGet(`http://127.0.0.1:${controllerManagerPort}/healthz`)) === 200, {
        timeoutMs: 60_000,
        alive: () => isAlive(cm.pid),
        logFile: l.controllerManagerLog,
      });
      await waitFor('kube-scheduler', async () => (await httpGet(`http://127.0.0.1:${schedulerPort}/healthz`)) === 200, {
        timeoutMs: 60_000,
        alive: () => isAlive(sched.pid),
        logFile: l.schedulerLog,
      });
      // The controllers are working once the serviceaccount controller has created `default` in `default`.
      await waitFor(
        'the default ServiceAccount (serviceaccount controller)',
        async () => {
          try {
            return (await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, token, caPem)).status === 200;
          } catch {
            return false;
          }
        },
        { timeoutMs: 60_000, alive: () => isAlive(cm.pid), logFile: l.controllerManagerLog },
      );
    }
    return { state, etcd, apiserver, others };
  } catch (err) {
    for (const o of others) await killProcess(o.pid, 0);
    await killProcess(apiserver?.pid, 0);
    await killProcess(etcd.pid, 0);
    throw err;
  }
}

async function pickPorts(): Promise<{
  etcdPort: number;
  peerPort: number;
  apiserverPort: number;
  schedulerPort: number;
  controllerManagerPort: number;
}> {
  const ports = new Set<number>();
  while (ports.size < 5) ports.add(await freePort());
  const [etcdPort = 0, peerPort = 0, apiserverPort = 0, schedulerPort = 0, controllerManagerPort = 0] = [...ports];
  return { etcdPort, peerPort, apiserverPort, schedulerPort, controllerManagerPort };
}

export async function waitForApiserver(server: string, token: string, l: Layout, alive: () => boolean): Promise<void> {
  await waitFor(
    'kube-apiserver',
    async () => {
      try {
        const r = await httpsGet(`${server}/readyz`, token);
        return r.status === 200;
      } catch {
        return false;
      }
    },
    { timeoutMs: 90_000, alive, logFile: l.apiserverLog },
  );
}

