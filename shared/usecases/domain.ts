/**
 * The real SyncDomain: shared/domain's translation, validation, status mapping and event mapping, bound to the
 * bridge's translation defaults (identity, placement, DNS). Pure; compose.ts builds it from config.
 */
import { TRANSIENT_VIOLATIONS } from '../domain/errors.js';
import { eciEventsToK8s } from '../domain/events.js';
import { podReferences } from '../domain/references.js';
import { groupToPodStatus, podStatusDiffers } from '../domain/status.js';
import { groupStatusDigest } from '../domain/statusDigest.js';
import { type TranslateContext, translatePod } from '../domain/translate.js';
import { validatePod } from '../domain/validate.js';
import type { SyncDomain } from './context.js';

export type TranslateDefaults = Omit<TranslateContext, 'configMaps' | 'secrets' | 'tokens' | 'offline'>;

export function createSyncDomain(defaults: TranslateDefaults): SyncDomain {
  return {
    references: podReferences,
    validate: (pod) => validatePod(pod, defaults).violations,
    translate(pod, refs) {
      const r = translatePod(pod, { ...defaults, configMaps: refs.configMaps, secrets: refs.secrets, tokens: refs.tokens });
      if (!r.ok) return { ok: false, violations: r.violations };
      return { ok: true, request: r.request, warnings: r.warnings };
    },
    toStatus: (group, pod, nowMs) => groupToPodStatus(group, pod, new Date(nowMs).toISOString()),
    differs: podStatusDiffers,
    groupDigest: groupStatusDigest,
    events(group, pod, sinceMs) {
      return eciEventsToK8s(group.Events, pod, { now: new Date(sinceMs).toISOString(), host: defaults.vnodeName }).filter((e) => {
        const at = Date.parse(e.lastTimestamp ?? '');
        return Number.isFinite(at) && at > sinceMs;
      });
    },
    transient: TRANSIENT_VIOLATIONS,
  };
}
