/**
 * The components' command lines: etcd, kube-apiserver (token and client-certificate auth, RBAC, the service-account
 * issuer), kube-controller-manager and kube-scheduler as a real cluster runs them, each with a test's extra flags
 * merged in (a later `--flag=` wins).
 */
import { join } from 'node:path';
import { kubeletClientArgs } from './kubelet.js';
import type { Layout } from './layout.js';

export function etcdArgs(l: Layout, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=testenv',
    `--data-dir=${l.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=testenv=${peer}`,
    '--logger=zap',
    '--log-level=warn',
    '--unsafe-no-fsync',
  ];
}

/**
 * What a control plane runs besides etcd and the apiserver, and flags added to each component (a helper that
 * needs more, e.g. the apiserver's kubelet client certificate, adds them here rather than editing the lists).
 */
export interface PlaneOptions {
  /** Run kube-scheduler and kube-controller-manager (default: true for the shared plane, false for private ones). */
  controllers?: boolean;
  /** Extra kube-apiserver flags (a later `--flag=` wins over the default). */
  apiserverArgs?: readonly string[];
  /** Extra kube-controller-manager flags, e.g. shortened node-lifecycle timeouts for a test that waits for them. */
  controllerManagerArgs?: readonly string[];
  /** Extra kube-scheduler flags. */
  schedulerArgs?: readonly string[];
}

/** `defaults` with every `--name=` of `extra` replacing the default of the same name (others appended). */
export function mergeFlags(defaults: readonly string[], extra: readonly string[] = []): string[] {
  const name = (f: string) => f.split('=')[0] ?? f;
  const overridden = new Set(extra.map(name));
  return [...defaults.filter((f) => !overridden.has(name(f))), ...extra];
}

export function apiserverArgs(l: Layout, port: number, etcdPort: number, extra?: readonly string[]): string[] {
  return mergeFlags(apiserverDefaultArgs(l, port, etcdPort), extra);
}

function apiserverDefaultArgs(l: Layout, port: number, etcdPort: number): string[] {
  return [
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    `--cert-dir=${l.certDir}`,
    `--token-auth-file=${l.tokenFile}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${l.saPub}`,
    `--service-account-signing-key-file=${l.saKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--enable-priority-and-fairness=false',
    '--endpoint-reconciler-type=none',
    '--feature-gates=BoundServiceAccountTokenVolume=true',
    '--allow-privileged=true',
    `--client-ca-file=${l.clusterCaCrt}`,
    ...kubeletClientArgs(l.certDir),
    '--v=1',
  ];
}

/**
 * kube-controller-manager as a real cluster runs it: every default controller (`*`: serviceaccount and its token
 * controller with the signing key, namespace, garbagecollector, replicaset, deployment, job, cronjob,
 * nodelifecycle, podgc, csrsigning with the cluster CA, endpoint, endpointslice, root-ca-cert-publisher, ...),
 * leader election off, plain HTTP health on loopback only. Node-lifecycle timings are Kubernetes' defaults
 * (grace 40 s, taint-based eviction after the pods' 300 s toleration); a test that waits for them uses a private
 * plane with shorter ones.
 */
export function controllerManagerArgs(l: Layout, healthPort: number, extra?: readonly string[]): string[] {
  return mergeFlags(
    [
      ...clientComponentArgs(l, healthPort),
      '--controllers=*',
      `--service-account-private-key-file=${l.saKey}`,
      `--root-ca-file=${join(l.certDir, 'apiserver.crt')}`,
      `--cluster-signing-cert-file=${l.clusterCaCrt}`,
      `--cluster-signing-key-file=${l.clusterCaKey}`,
      '--cluster-name=eci-bridge-testenv',
      '--use-service-account-credentials=false',
      '--v=1',
    ],
    extra,
  );
}

export function schedulerArgs(l: Layout, healthPort: number, extra?: readonly string[]): string[] {
  return mergeFlags([...clientComponentArgs(l, healthPort), '--v=1'], extra);
}

/** What the scheduler and controller-manager share: the admin kubeconfig, no leader election, HTTP health on loopback. */
function clientComponentArgs(l: Layout, healthPort: number): string[] {
  return [
    `--kubeconfig=${l.kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    '--address=127.0.0.1',
    `--port=${healthPort}`,
  ];
}
