/**
 * What the test control plane needs for the kubelet API (issue 16), kept apart from controlPlane.ts:
 *
 * - a kubelet client certificate for the apiserver, as kubeadm issues it (`apiserver-kubelet-client`: CN
 *   kube-apiserver-kubelet-client, O system:masters, clientAuth) signed by a CA the watcher's kubelet server trusts
 *   (`--kubelet-client-certificate/-key`; the serving certificate is not verified, as with kubeadm's defaults);
 * - Debian's `kubernetes-client` (kubectl 1.20, the version of the test apiserver), unpacked into the cache: the
 *   package cannot be installed system-wide where another package already owns /usr/bin/kubectl.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The files under a control plane's cert dir. */
export const KUBELET_CLIENT_FILES = {
  ca: 'kubelet-client-ca.crt',
  caKey: 'kubelet-client-ca.key',
  cert: 'kubelet-client.crt',
  key: 'kubelet-client.key',
} as const;

export const KUBECTL_DEBIAN_VERSION = '1.20.5+really1.20.2-1.1+deb12u1';

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? `${r.stdout}${r.stderr}`.trim().slice(-800)}`);
  }
  return r.stdout;
}

/** Writes the CA and the apiserver's kubelet client certificate into `certDir` (openssl, EC P-256). */
export function writeKubeletClientCerts(certDir: string): void {
  const f = (n: string) => join(certDir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  sh('openssl', ['req', '-x509', ...ec, '-keyout', f(KUBELET_CLIENT_FILES.caKey), '-out', f(KUBELET_CLIENT_FILES.ca), '-subj', '/CN=kubelet-client-ca', '-days', '3650']);
  const csr = f('kubelet-client.csr');
  sh('openssl', ['req', ...ec, '-keyout', f(KUBELET_CLIENT_FILES.key), '-out', csr, '-subj', '/O=system:masters/CN=kube-apiserver-kubelet-client']);
  const ext = f('kubelet-client.ext');
  writeFileSync(ext, 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  sh('openssl', [
    'x509', '-req', '-in', csr, '-CA', f(KUBELET_CLIENT_FILES.ca), '-CAkey', f(KUBELET_CLIENT_FILES.caKey), '-CAcreateserial',
    '-out', f(KUBELET_CLIENT_FILES.cert), '-days', '3650', '-extfile', ext,
  ]);
  rmSync(csr, { force: true });
}

/** The apiserver flags that make it present the kubelet client certificate (kubeadm's). */
export function kubeletClientArgs(certDir: string): string[] {
  return [
    `--kubelet-client-certificate=${join(certDir, KUBELET_CLIENT_FILES.cert)}`,
    `--kubelet-client-key=${join(certDir, KUBELET_CLIENT_FILES.key)}`,
  ];
}

/** Where the unpacked kubectl 1.20 lives. */
export function kubectlPath(cacheDir: string): string {
  return join(cacheDir, 'kubectl-v1.20.2');
}

/** Downloads Debian's kubernetes-client (no root: `apt-get download`) and keeps its kubectl in the cache. */
export function installKubectl(cacheDir: string, log: (line: string) => void): string {
  const bin = kubectlPath(cacheDir);
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'eci-bridge-kubectl-'));
  try {
    log(`testenv: fetching kubectl from Debian's kubernetes-client ${KUBECTL_DEBIAN_VERSION}`);
    sh('apt-get', ['download', '-q', `kubernetes-client=${KUBECTL_DEBIAN_VERSION}`], scratch);
    const deb = readdirSync(scratch).find((n) => n.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download left no .deb');
    sh('dpkg-deb', ['-x', join(scratch, deb), join(scratch, 'root')]);
    copyFileSync(join(scratch, 'root', 'usr', 'bin', 'kubectl'), `${bin}.tmp`);
    sh('chmod', ['0755', `${bin}.tmp`]);
    sh('mv', [`${bin}.tmp`, bin]);
    return bin;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
