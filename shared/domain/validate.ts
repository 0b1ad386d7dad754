/**
 * Validation without the cluster: the refusals and warnings translatePod would give, with unreadable
 * ConfigMaps/Secrets/tokens treated as present (for admission webhooks and `eci-bridge validate`).
 */
import type { Violation, Warning } from './errors.js';
import type { Pod } from './k8s.js';
import { type TranslateContext, translatePod } from './translate.js';

export const DRY_RUN_CONTEXT: TranslateContext = {
  clusterName: 'default-cluster',
  vnodeName: 'eci-bridge-vnode',
  regionId: 'cn-hangzhou',
  vSwitchIds: [],
  clusterDns: '10.96.0.10',
  clusterDomain: 'cluster.local',
};

/** Violations and warnings of a pod; never throws. Objects the pod references are assumed to exist. */
export function validatePod(pod: Pod, cfg?: Partial<TranslateContext>): { violations: Violation[]; warnings: Warning[] } {
  const ctx: TranslateContext = { ...DRY_RUN_CONTEXT, ...cfg, offline: cfg?.offline ?? 'placeholder' };
  const r = translatePod(pod, ctx);
  const warnings = r.warnings.filter((w) => ctx.offline === 'strict' || w.code !== 'Unresolved');
  return { violations: r.ok ? [] : r.violations, warnings };
}
