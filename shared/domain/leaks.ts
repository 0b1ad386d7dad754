/**
 * Leaked container groups found on the bill (reconcile.ts) and handed to gc: one record per group id in the
 * `eci-bridge-leaks` ConfigMap. The reconcile function adds records (`reported`); gc acts once per record and moves
 * it to a final state, so a group is never deleted twice (gc's own orphan pass and the leak pass share one run, and
 * a record leaves `reported` before any later run can see it again). Pure (zod only).
 */
import { z } from 'zod';

export const LEAKS_CONFIGMAP = 'eci-bridge-leaks';

export const LeakRecordSchema = z.strictObject({
  day: z.string(),
  reason: z.enum(['unknown', 'no-pod']),
  billed: z.string(),
  currency: z.string(),
  /**
   * reported: waiting for gc; deleted: gc deleted it; deleted-as-orphan: gc's orphan pass deleted it in the same run;
   * gone: ECI no longer has it (or it finished: no longer billed); has-pod: a pod with its uid exists (not a leak)
   */
  state: z.enum(['reported', 'deleted', 'deleted-as-orphan', 'gone', 'has-pod']),
  at: z.string(),
});
export type LeakRecord = z.infer<typeof LeakRecordSchema>;

/** Reads one record; undefined when unreadable (kept as is, never acted on). */
export function readLeakRecord(text: string): LeakRecord | undefined {
  try {
    const r = LeakRecordSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
