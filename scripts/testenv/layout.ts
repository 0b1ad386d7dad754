/**
 * A control plane's directory: where etcd's data, the certificates, the token file, the service-account key pair,
 * the kubeconfig and each component's log go; and the PKI it starts with (an admin token, the service-account key
 * pair, the cluster CA, the kubelet client certificates). The kubeconfig is written once the apiserver serves.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeKubeletClientCerts } from './kubelet.js';
import { run } from './proc.js';

export interface Layout {
  dir: string;
  etcdData: string;
  certDir: string;
  tokenFile: string;
  saKey: string;
  saPub: string;
  kubeconfig: string;
  etcdLog: string;
  apiserverLog: string;
  /** the cluster CA (client certificates, the CSR signer of the controller-manager) */
  clusterCaCrt: string;
  clusterCaKey: string;
  schedulerLog: string;
  controllerManagerLog: string;
}

export function layout(dir: string): Layout {
  return {
    dir,
    etcdData: join(dir, 'etcd'),
    certDir: join(dir, 'certs'),
    tokenFile: join(dir, 'tokens.csv'),
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
    kubeconfig: join(dir, 'kubeconfig'),
    etcdLog: join(dir, 'etcd.log'),
    apiserverLog: join(dir, 'kube-apiserver.log'),
    clusterCaCrt: join(dir, 'ca.crt'),
    clusterCaKey: join(dir, 'ca.key'),
    schedulerLog: join(dir, 'kube-scheduler.log'),
    controllerManagerLog: join(dir, 'kube-controller-manager.log'),
  };
}

/** Writes the token file, the service-account key pair, the cluster CA and the kubelet client certificates; the admin token. */
export function prepareFiles(l: Layout): string {
  mkdirSync(l.certDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('hex');
  writeFileSync(l.tokenFile, `${token},admin,admin,system:masters\n`, { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(l.saKey, privateKey, { mode: 0o600 });
  writeFileSync(l.saPub, publicKey);
  // The cluster CA: the apiserver trusts client certificates it signs, the controller-manager's CSR signer
  // (kubernetes.io/kube-apiserver-client, kubelet-serving, ...) signs with it.
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/CN=eci-bridge-testenv-ca',
    '-keyout',
    l.clusterCaKey,
    '-out',
    l.clusterCaCrt,
  ]);
  writeKubeletClientCerts(l.certDir);
  return token;
}

export function writeKubeconfig(path: string, server: string, token: string, caPem: string): void {
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'eci-bridge-testenv', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'eci-bridge-testenv', context: { cluster: 'eci-bridge-testenv', user: 'admin' } }],
    'current-context': 'eci-bridge-testenv',
  };
  writeFileSync(path, stringify(cfg), { mode: 0o600 });
}
