/**
 * The kubelet API's serving certificate against a real kube-apiserver: the watcher's kubernetes.io/kubelet-serving
 * CSR (CN system:node:<vnode>, O system:nodes, the IP SAN, the serving usages) is issued once approved and signed —
 * here the harness plays the admin (`kubectl certificate approve`) and the controller-manager's signer — and
 * without an approval within the wait the watcher serves a self-signed certificate instead.
 */
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { CertificatesV1Api } from '@kubernetes/client-node';
import * as x509 from '@peculiar/x509';
import { createKubeKubeletSupport } from '../../../shared/adapters/kube/index.js';
import { parseConfig } from '../../../shared/domain/config.js';
import { servingTls } from '../../../watcher/kubelet/tls.js';
import { loadKubeConfig, NO_KUBECONFIG, testKubeconfig, uniqueName } from '../../helpers/kube.js';

const kubeconfig = testKubeconfig();
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

describe('kubelet serving certificate from a CSR', { skip: kubeconfig ? false : NO_KUBECONFIG }, () => {
  const path = kubeconfig as string;
  const certs = () => loadKubeConfig(path).makeApiClient(CertificatesV1Api);

  it('requests a kubelet-serving certificate and serves it once approved and signed', async () => {
    const vnode = uniqueName('vnode-csr');
    const api = certs();
    const support = createKubeKubeletSupport({ kubeconfigPath: path });
    const config = parseConfig({ VNODE_NAME: vnode, KUBELET_SERVING_CERT: 'csr', KUBELET_CSR_WAIT_SECONDS: '20', POD_NAME: 'watcher-0' });
    const pending = servingTls({ config, address: '10.1.2.3', support, log: silent, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });

    // the admin and the signer
    let csrName = '';
    for (let i = 0; i < 100 && !csrName; i++) {
      const list = await api.listCertificateSigningRequest();
      csrName = list.items.find((c) => c.metadata?.name?.startsWith(`${vnode}-serving-`))?.metadata?.name ?? '';
      if (!csrName) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(csrName, 'the watcher created a CSR');
    const csr = await api.readCertificateSigningRequest({ name: csrName });
    assert.equal(csr.spec.signerName, 'kubernetes.io/kubelet-serving');
    assert.deepEqual([...(csr.spec.usages ?? [])].sort(), ['digital signature', 'key encipherment', 'server auth']);
    const req = new x509.Pkcs10CertificateRequest(Buffer.from(csr.spec.request, 'base64').toString('utf8'));
    assert.equal(req.subject, `O=system:nodes, CN=system:node:${vnode}`);
    assert.ok(await req.verify());
    const san = req.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
    assert.deepEqual(san?.names.items.map((n) => `${n.type}:${n.value}`).sort(), [`dns:${vnode}`, 'ip:10.1.2.3']);

    csr.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'TestApproved', message: 'approved by the test', lastUpdateTime: new Date() }] };
    const approved = await api.replaceCertificateSigningRequestApproval({ name: csrName, body: csr });
    const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const issued = await x509.X509CertificateGenerator.create({
      serialNumber: '0a',
      subject: req.subject,
      issuer: 'CN=test kubelet-serving signer',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      signingKey: caKeys.privateKey,
      publicKey: await req.publicKey.export(),
      signingAlgorithm: alg,
      extensions: [san as x509.Extension],
    });
    approved.status = { ...approved.status, certificate: Buffer.from(issued.toString('pem')).toString('base64') };
    // a plane with kube-controller-manager (scripts/testenv/controlPlane.ts) signs approved kubelet-serving CSRs
    // itself; whoever writes the certificate first wins (the other gets a Conflict)
    const signer = await api.replaceCertificateSigningRequestStatus({ name: csrName, body: approved }).then(
      () => 'CN=test kubelet-serving signer',
      (err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
        return undefined;
      },
    );
    const signed = (await api.readCertificateSigningRequest({ name: csrName })).status?.certificate;
    assert.ok(signed, 'the CSR carries a certificate');
    const expected = new x509.X509Certificate(Buffer.from(signed, 'base64').toString('utf8'));
    if (signer) assert.equal(expected.issuer, signer);

    const tls = await pending;
    assert.equal(tls.source, 'csr');
    assert.equal(tls.csrName, csrName);
    const served = new x509.X509Certificate(tls.certPem);
    assert.equal(served.issuer, expected.issuer);
    assert.equal(served.serialNumber, expected.serialNumber);
    assert.match(tls.keyPem, /BEGIN PRIVATE KEY/);
    await api.deleteCertificateSigningRequest({ name: csrName });
  });

  it('falls back to a self-signed certificate when nobody approves in time', async () => {
    const vnode = uniqueName('vnode-csr');
    const config = parseConfig({ VNODE_NAME: vnode, KUBELET_SERVING_CERT: 'csr', KUBELET_CSR_WAIT_SECONDS: '1' });
    const support = createKubeKubeletSupport({ kubeconfigPath: path });
    const warnings: string[] = [];
    const log = { ...silent, warn: (o: Record<string, unknown>) => warnings.push(String(o.err)) };
    const tls = await servingTls({ config, address: '10.1.2.4', support, log, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
    assert.equal(tls.source, 'self-signed');
    assert.match(warnings.join(), /was not issued within 1s/);
    const cert = new x509.X509Certificate(tls.certPem);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    assert.ok(san?.names.items.some((n) => n.type === 'ip' && n.value === '10.1.2.4'));
    const api = certs();
    for (const c of (await api.listCertificateSigningRequest()).items) {
      if (c.metadata?.name?.startsWith(`${vnode}-`)) await api.deleteCertificateSigningRequest({ name: c.metadata.name });
    }
  });
});
