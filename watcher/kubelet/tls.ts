/**
 * The kubelet API's TLS: the serving certificate and the CA of accepted client certificates.
 *
 * Serving certificate, in order:
 * 1. KUBELET_TLS_DIR (tls.crt, tls.key): e.g. from cert-manager or an operator-approved CSR;
 * 2. KUBELET_SERVING_CERT=csr: a `kubernetes.io/kubelet-serving` CertificateSigningRequest (CN
 *    system:node:<vnode>, O system:nodes, IP SAN = the published address), issued once an admin or an approver
 *    approves it (`kubectl certificate approve <name>`) and the controller-manager's signer signs it; such a
 *    certificate passes `--kubelet-certificate-authority` and a default metrics-server. The watcher does not approve
 *    its own CSR: that right (approve on signers/kubernetes.io/kubelet-serving) would let it mint serving
 *    certificates for every node. Not issued within KUBELET_CSR_WAIT_SECONDS: the self-signed fallback;
 * 3. self-signed (generated at start): the apiserver does not verify kubelet certificates unless
 *    --kubelet-certificate-authority is set; metrics-server then needs --kubelet-insecure-tls.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import type { Config } from '../../shared/domain/config.js';
import type { KubeletSupport, Logger } from '../../shared/ports/index.js';
import { generateTls } from '../webhook/certs.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

export interface ServingTls {
  certPem: string;
  keyPem: string;
  source: 'files' | 'csr' | 'self-signed';
  csrName?: string;
}

const SA_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** KUBELET_CLIENT_CA as PEM (inline or a file), else the service-account CA when present (kubeadm signs its apiserver-kubelet-client with it). */
export function clientCaPem(cfg: Pick<Config, 'KUBELET_CLIENT_CA'>): string | undefined {
  const v = cfg.KUBELET_CLIENT_CA;
  if (v?.includes('-----BEGIN')) return v;
  if (v) return readFileSync(v, 'utf8');
  return existsSync(SA_CA) ? readFileSync(SA_CA, 'utf8') : undefined;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`;
}

/** A key and a kubelet-serving CSR for `node` with an IP SAN. */
export async function kubeletServingCsr(node: string, ip: string | undefined): Promise<{ csrPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `O=system:nodes, CN=system:node:${node}`,
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([...(ip ? [{ type: 'ip' as const, value: ip }] : []), { type: 'dns' as const, value: node }])],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { csrPem: csr.toString('pem'), keyPem: toPem(pkcs8, 'PRIVATE KEY') };
}

export async function servingTls(opts: {
  config: Pick<Config, 'KUBELET_TLS_DIR' | 'KUBELET_SERVING_CERT' | 'KUBELET_CSR_WAIT_SECONDS' | 'VNODE_NAME' | 'POD_NAME'>;
  address: string | undefined;
  support: KubeletSupport;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
}): Promise<ServingTls> {
  const cfg = opts.config;
  if (cfg.KUBELET_TLS_DIR) {
    return {
      certPem: readFileSync(`${cfg.KUBELET_TLS_DIR}/tls.crt`, 'utf8'),
      keyPem: readFileSync(`${cfg.KUBELET_TLS_DIR}/tls.key`, 'utf8'),
      source: 'files',
    };
  }
  if (cfg.KUBELET_SERVING_CERT === 'csr') {
    const name = `${cfg.VNODE_NAME}-serving-${(cfg.POD_NAME ?? randomBytes(4).toString('hex')).slice(-40)}-${Date.now().toString(36)}`.toLowerCase();
    try {
      const { csrPem, keyPem } = await kubeletServingCsr(cfg.VNODE_NAME, opts.address);
      await opts.support.createCsr({
        name,
        requestPem: csrPem,
        signerName: 'kubernetes.io/kubelet-serving',
        usages: ['digital signature', 'key encipherment', 'server auth'],
      });
      opts.log.info({ csr: name }, `kubelet serving certificate requested: approve it with \`kubectl certificate approve ${name}\``);
      const deadline = Date.now() + cfg.KUBELET_CSR_WAIT_SECONDS * 1000;
      for (;;) {
        const st = await opts.support.getCsrCertificate(name);
        if (st.denied) throw new Error(`the CSR ${name} was ${st.denied}`);
        if (st.certificatePem) return { certPem: st.certificatePem, keyPem, source: 'csr', csrName: name };
        if (Date.now() >= deadline) throw new Error(`the CSR ${name} was not issued within ${cfg.KUBELET_CSR_WAIT_SECONDS}s`);
        await opts.sleep(1000);
      }
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'no kubelet serving certificate from the cluster; serving a self-signed one');
    }
  }
  const t = await generateTls({ dnsNames: [cfg.VNODE_NAME], ips: opts.address ? [opts.address] : [] });
  return { certPem: t.certPem, keyPem: t.keyPem, source: 'self-signed' };
}
