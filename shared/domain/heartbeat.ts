/**
 * The functions heartbeat: after each run, the FC functions (pod-sync, status-sync, gc) write a small record the
 * watcher reads to decide whether the virtual node is healthy (Ready) and whether ECI answers.
 *
 * Carrier: a coordination.k8s.io/v1 Lease named `eci-bridge-functions` in the bridge namespace.
 * - `spec.renewTime`  = the last successful run (any function), MicroTime;
 * - `spec.holderIdentity` = `functions`; `spec.leaseDurationSeconds` = how stale the watcher may consider it alive;
 * - annotations (all strings, see HEARTBEAT_ANNOTATIONS): last run time, last function, consecutive ECI failures,
 *   last ECI error (a short class, never a secret), the time of the last successful ECI call.
 * A Lease needs no new RBAC verb beyond the watcher's own lease (get/create/update on leases in its namespace).
 */
import { z } from 'zod';
import type { Lease } from './k8s.js';

export const FUNCTIONS_HEARTBEAT_NAME = 'eci-bridge-functions';
export const FUNCTIONS_HEARTBEAT_HOLDER = 'functions';
/** status-sync runs every minute: three missed runs mean the functions are down. */
export const FUNCTIONS_HEARTBEAT_DURATION_SECONDS = 180;

export const HEARTBEAT_ANNOTATIONS = {
  lastRun: 'eci-bridge.io/last-run',
  lastFunction: 'eci-bridge.io/last-function',
  lastSuccess: 'eci-bridge.io/last-success',
  lastEciSuccess: 'eci-bridge.io/last-eci-success',
  eciFailures: 'eci-bridge.io/consecutive-eci-failures',
  lastEciError: 'eci-bridge.io/last-eci-error',
} as const;

export const FunctionsHeartbeatSchema = z.object({
  /** ISO time of the last run, successful or not */
  lastRun: z.string(),
  /** which function ran last: pod-sync | status-sync | gc */
  lastFunction: z.string(),
  /** ISO time of the last successful run, absent if none yet */
  lastSuccess: z.string().optional(),
  /** ISO time of the last run in which ECI answered */
  lastEciSuccess: z.string().optional(),
  /** runs in a row in which ECI calls failed (throttling, 5xx, auth, network); 0 once ECI answers again */
  consecutiveEciFailures: z.coerce.number().int().min(0),
  /** short class of the last ECI failure, e.g. `retryable: ServiceUnavailable` */
  lastEciError: z.string().max(200).optional(),
});
export type FunctionsHeartbeat = z.infer<typeof FunctionsHeartbeatSchema>;

/** Formats an epoch-ms time as a Kubernetes MicroTime (exactly 6 fractional digits). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Reads the heartbeat from the Lease; undefined when the Lease carries none (or a malformed one). */
export function leaseToHeartbeat(lease: Lease): FunctionsHeartbeat | undefined {
  const a = lease.metadata.annotations ?? {};
  const res = FunctionsHeartbeatSchema.safeParse({
    lastRun: a[HEARTBEAT_ANNOTATIONS.lastRun],
    lastFunction: a[HEARTBEAT_ANNOTATIONS.lastFunction],
    lastSuccess: a[HEARTBEAT_ANNOTATIONS.lastSuccess] || undefined,
    lastEciSuccess: a[HEARTBEAT_ANNOTATIONS.lastEciSuccess] || undefined,
    consecutiveEciFailures: a[HEARTBEAT_ANNOTATIONS.eciFailures] ?? '0',
    lastEciError: a[HEARTBEAT_ANNOTATIONS.lastEciError] || undefined,
  });
  return res.success ? res.data : undefined;
}

/** Writes the heartbeat into a Lease (keeps the given lease's other metadata, e.g. its resourceVersion). */
export function heartbeatToLease(hb: FunctionsHeartbeat, namespace: string, base?: Lease): Lease {
  const annotations: Record<string, string> = { ...(base?.metadata.annotations ?? {}) };
  annotations[HEARTBEAT_ANNOTATIONS.lastRun] = hb.lastRun;
  annotations[HEARTBEAT_ANNOTATIONS.lastFunction] = hb.lastFunction;
  annotations[HEARTBEAT_ANNOTATIONS.eciFailures] = String(hb.consecutiveEciFailures);
  if (hb.lastSuccess) annotations[HEARTBEAT_ANNOTATIONS.lastSuccess] = hb.lastSuccess;
  if (hb.lastEciSuccess) annotations[HEARTBEAT_ANNOTATIONS.lastEciSuccess] = hb.lastEciSuccess;
  if (hb.lastEciError) annotations[HEARTBEAT_ANNOTATIONS.lastEciError] = hb.lastEciError;
  else delete annotations[HEARTBEAT_ANNOTATIONS.lastEciError];
  const renew = hb.lastSuccess ?? base?.spec?.renewTime;
  return {
    metadata: { ...(base?.metadata ?? {}), name: FUNCTIONS_HEARTBEAT_NAME, namespace, annotations },
    spec: {
      ...(base?.spec ?? {}),
      holderIdentity: FUNCTIONS_HEARTBEAT_HOLDER,
      leaseDurationSeconds: FUNCTIONS_HEARTBEAT_DURATION_SECONDS,
      ...(renew ? { renewTime: microTime(Date.parse(renew)) } : {}),
    },
  };
}

/**
 * The watcher's reading: are the functions alive (a successful run within the lease duration), and is ECI answering
 * (fewer than `maxEciFailures` failed runs in a row)?
 */
export function heartbeatHealth(
  hb: FunctionsHeartbeat | undefined,
  nowMs: number,
  maxEciFailures = 3,
): { functionsAlive: boolean; eciHealthy: boolean; reason?: string } {
  if (!hb) return { functionsAlive: false, eciHealthy: false, reason: 'no functions heartbeat yet' };
  const last = hb.lastSuccess ? Date.parse(hb.lastSuccess) : Number.NaN;
  const functionsAlive = Number.isFinite(last) && nowMs - last <= FUNCTIONS_HEARTBEAT_DURATION_SECONDS * 1000;
  const eciHealthy = hb.consecutiveEciFailures < maxEciFailures;
  let reason: string | undefined;
  if (!functionsAlive) reason = `no successful function run since ${hb.lastSuccess ?? 'ever'}`;
  else if (!eciHealthy) reason = `ECI failed ${hb.consecutiveEciFailures} runs in a row (${hb.lastEciError ?? 'unknown'})`;
  return { functionsAlive, eciHealthy, ...(reason ? { reason } : {}) };
}
