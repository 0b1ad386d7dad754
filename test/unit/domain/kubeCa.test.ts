import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { caPemFrom, compactCa, KubeCaError } from '../../../shared/domain/kubeCa.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'deploy');
const ca4096 = readFileSync(join(fixtures, 'ca-rsa4096.pem'), 'utf8');
const ca2048 = readFileSync(join(fixtures, 'ca-rsa2048.pem'), 'utf8');
const fingerprints = (pem: string): string[] =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]).fingerprint256);

describe('KUBE_CA compact form', () => {
  it('round-trips one certificate and a chain to the same certificates, shorter than base64 of PEM', () => {
    for (const pem of [ca4096, `${ca2048}${ca4096}`]) {
      const compact = compactCa(pem);
      assert.doesNotMatch(compact, /[\s-]/);
      assert.deepEqual(fingerprints(caPemFrom(compact)), fingerprints(pem));
      assert.ok(compact.length < Buffer.from(pem).toString('base64').length);
    }
    assert.equal(compactCa(`${ca2048}${ca4096}`).split(',').length, 2);
  });

  it('still accepts PEM and base64 of PEM', () => {
    assert.deepEqual(fingerprints(caPemFrom(ca4096)), fingerprints(ca4096));
    assert.deepEqual(fingerprints(caPemFrom(Buffer.from(ca4096).toString('base64'))), fingerprints(ca4096));
  });

  it('refuses what is not a certificate', () => {
    assert.throws(() => caPemFrom('not a cert!'), KubeCaError);
    assert.throws(() => compactCa('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'), KubeCaError);
  });
});
