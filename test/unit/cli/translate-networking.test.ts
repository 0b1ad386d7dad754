/**
 * `eci-bridge translate` shows the networking pod-sync sends: the kube-proxy sidecar with the same settings
 * (KUBE_PROXY_* env or --kube-proxy-image), the apiserver endpoint and service links from the input's documents.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Io } from '../../../scripts/commands/_manifests.js';
import { translateCommand } from '../../../scripts/commands/translate.js';
import type { EciCreateRequest } from '../../../shared/domain/eci.js';

const file = join(import.meta.dirname, '..', '..', 'fixtures', 'golden', 'default-token-pod.yaml');
const io = (env: Record<string, string> = {}): Io => ({ readFile: (p) => readFileSync(p, 'utf8'), env });
const run = (args: string[], env?: Record<string, string>) => {
  const o = translateCommand(['-f', file, ...args], io(env));
  const out = JSON.parse(o.stdout) as EciCreateRequest | EciCreateRequest[];
  return { req: Array.isArray(out) ? out[0] : out, stderr: o.stderr };
};
const envOf = (req: EciCreateRequest | undefined) =>
  Object.fromEntries((req?.Container?.[0]?.EnvironmentVar ?? []).map((e) => [e.Key, e.Value]));

describe('translate: networking as pod-sync sends it', () => {
  it('--kube-proxy-image adds the sidecar (resources from KUBE_PROXY_* env) and KUBERNETES_* become the ClusterIP', () => {
    const { req, stderr } = run(['--kube-proxy-image', 'reg.example.com/kube-proxy:v1.20.2'], { KUBE_PROXY_CPU: '0.5' });
    const proxy = req?.Container?.find((c) => c.Name === 'eci-bridge-kube-proxy');
    assert.equal(proxy?.Image, 'reg.example.com/kube-proxy:v1.20.2');
    assert.equal(proxy?.Cpu, 0.5);
    assert.equal(envOf(req).KUBERNETES_SERVICE_HOST, '10.96.0.1');
    assert.equal(envOf(req).AUDIT_LOG_SERVICE_HOST, '10.96.40.7');
    // the token of the kube-proxy ServiceAccount cannot be read offline: a placeholder, said so
    assert.match(stderr, /eci-bridge-kube-proxy \(kube-proxy\) cannot be read offline/);
  });

  it('without an image: no sidecar, KUBERNETES_* name the apiserver endpoint of the input\'s Endpoints', () => {
    const { req } = run([]);
    assert.equal(req?.Container?.some((c) => c.Name === 'eci-bridge-kube-proxy'), false);
    assert.equal(envOf(req).KUBERNETES_SERVICE_HOST, '192.168.0.10');
    assert.equal(envOf(req).KUBERNETES_SERVICE_PORT, '6443');
  });
});
