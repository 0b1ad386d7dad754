/**
 * The Kubernetes CA in the functions' environment. FC allows 4 KB of environment variables per function, and a
 * 4096-bit CA as base64 of PEM is about 2.6 KB, so `eci-bridge setup-functions` writes it compactly: the base64 body
 * of each certificate (the DER, no header lines, no line breaks), comma-separated for a chain — about 1.9 KB for a
 * 4096-bit CA. PEM, and base64 of PEM (what earlier versions wrote), are still accepted.
 */
const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

export class KubeCaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeCaError';
  }
}

/** PEM (one or more certificates) → the compact form. */
export function compactCa(pem: string): string {
  const bodies = [...pem.matchAll(PEM_CERT_RE)].map((m) => (m[1] ?? '').replace(/\s+/g, ''));
  if (bodies.length === 0 || bodies.some((b) => !BASE64_RE.test(b))) throw new KubeCaError('no PEM certificate in the CA data');
  return bodies.join(',');
}

/** KUBE_CA as PEM, from PEM, base64 of PEM, or the compact form. */
export function caPemFrom(value: string): string {
  const v = value.trim();
  if (v.includes('-----BEGIN')) return v;
  const parts = v.split(',').map((p) => p.trim());
  if (parts.some((p) => !BASE64_RE.test(p))) throw new KubeCaError('KUBE_CA is neither PEM, base64 of PEM, nor base64 DER certificates');
  if (parts.length === 1) {
    const decoded = Buffer.from(parts[0] ?? '', 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) return decoded.trim();
  }
  return parts.map((b) => `-----BEGIN CERTIFICATE-----\n${(b.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----`).join('\n');
}
