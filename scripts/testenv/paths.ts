/**
 * The test control plane's names and places: the Kubernetes version, the cache of built binaries
 * (`~/.cache/eci-bridge`, or ECI_BRIDGE_CACHE_DIR), the shared plane's run directory, the build log; and the
 * module family's error and log types.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const KUBE_VERSION = 'v1.20.2';
export const ETCD_BIN = '/usr/bin/etcd';

export type Log = (line: string) => void;

export class TestenvError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestenvError';
  }
}

export function cacheDir(): string {
  return process.env.ECI_BRIDGE_CACHE_DIR ?? join(homedir(), '.cache', 'eci-bridge');
}
/** Every binary the one `make` of the Debian tree builds; the cache is complete only when all of them are there. */
export const KUBE_BINARIES = ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy'] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

export function kubeBinary(name: KubeBinary): string {
  if (name === 'kube-apiserver' && process.env.KUBE_APISERVER_BIN) return process.env.KUBE_APISERVER_BIN;
  return join(cacheDir(), `${name}-${KUBE_VERSION}`);
}
export function apiserverBinary(): string {
  return kubeBinary('kube-apiserver');
}
/** True when every binary of the control plane is built and cached. */
export function binariesBuilt(): boolean {
  return KUBE_BINARIES.every((b) => isExecutable(kubeBinary(b)));
}
/**
 * The shared plane's directory. `run-full` (not the apiserver-only plane's `run`): a plane with scheduler and
 * controller-manager is a different cluster, and an older checkout's apiserver-only plane, still held by its test
 * runs, is never restarted or joined by this one.
 */
export function sharedRunDir(): string {
  return join(cacheDir(), 'testenv', `run-${SHARED_FLAVOUR}`);
}
export const SHARED_FLAVOUR = 'full';
export function sharedKubeconfigPath(): string {
  return join(sharedRunDir(), 'kubeconfig');
}
export function buildLogPath(): string {
  return join(cacheDir(), `build-kubernetes-${KUBE_VERSION}.log`);
}

export function isExecutable(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0 && st.size > 0;
  } catch {
    return false;
  }
}

