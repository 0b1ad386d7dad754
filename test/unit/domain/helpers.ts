import type { Pod } from '../../../shared/domain/k8s.js';
import type { TranslateContext } from '../../../shared/domain/translate.js';

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
