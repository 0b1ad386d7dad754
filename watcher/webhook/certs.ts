/**
 * TLS material for the webhook server: read from files (a mounted Secret) or generated at start (a throw-away
 * CA plus a serving certificate for the Service DNS names and IPs), so the `caBundle` can be written into the
 * webhook configurations. Pure JS (WebCrypto + @peculiar/x509): no openssl needed in the image.
 */
import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as x509 from '@peculiar/x509';

type KeyPair = webcrypto.CryptoKeyPair;

// Node's webcrypto is the WebCrypto API the library expects; the DOM `Crypto` type is not in our lib.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** PEM of the CA that signed certPem (the caBundle) */
  caPem: string;
}

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`;
}

export async function generateTls(opts: { dnsNames: string[]; ips?: string[]; days?: number }): Promise<TlsMaterial> {
  const now = new Date(Date.now() - 60_000);
  const until = new Date(now.getTime() + (opts.days ?? 365) * 86_400_000);
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as KeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=eci-bridge webhook CA',
    notBefore: now,
    notAfter: until,
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as KeyPair;
  const san = [
    ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: `CN=${opts.dnsNames[0] ?? 'eci-bridge-webhook'}`,
    issuer: ca.subject,
    notBefore: now,
    notAfter: until,
    signingKey: caKeys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(san),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem'), keyPem: toPem(pkcs8, 'PRIVATE KEY'), caPem: ca.toString('pem') };
}

/** Reads tls.crt / tls.key / ca.crt from a mounted Secret directory. */
export async function readTls(dir: string): Promise<TlsMaterial> {
  const [certPem, keyPem, caPem] = await Promise.all([
    readFile(`${dir}/tls.crt`, 'utf8'),
    readFile(`${dir}/tls.key`, 'utf8'),
    readFile(`${dir}/ca.crt`, 'utf8').catch(() => ''),
  ]);
  return { certPem, keyPem, caPem: caPem || certPem };
}
