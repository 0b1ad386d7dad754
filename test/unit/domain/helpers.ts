import assert from 'node:assert/strict';
import type { EciCreateRequest } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { type TranslateContext, translatePod } from '../../../shared/domain/translate.js';

/** A minimal valid pod; tests clone and mutate it. */
export function basePod(): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: '11111111-2222-3333-4444-555555555555' },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  };
}

export function baseCtx(over: Partial<TranslateContext> = {}): TranslateContext {
  return {
    clusterName: 'c1',
    vnodeName: 'vnode-1',
    regionId: 'cn-hangzhou',
    vSwitchIds: ['vsw-a', 'vsw-b'],
    securityGroupId: 'sg-1',
    clusterDns: '10.96.0.10',
    clusterDomain: 'cluster.local',
    kubernetesService: { host: '10.96.0.1', port: 443 },
    ...over,
  };
}

export function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/** basePod() changed by `mut`. */
export function withPod(mut: (p: Pod) => void): Pod {
  const p = basePod();
  mut(p);
  return p;
}

/** The request of a pod that must translate (fails the test with the violations otherwise). */
export function ok(p: Pod, ctx = baseCtx()): EciCreateRequest {
  const r = translatePod(p, ctx);
  assert.ok(r.ok, `expected success, got ${JSON.stringify(!r.ok && r.violations)}`);
  return r.request;
}
