/**
 * Error classes as the use-cases see them. The adapters throw their own typed families (ECI: `EciError` with a
 * `kind`; Kubernetes: `KubeError` subclasses such as NotFound and Conflict); the use-cases may import only ports and
 * domain, so they read those errors by shape (a `kind` on the cause chain, a NotFound/Conflict name or a 404/409
 * code), never by SDK code.
 */
import { BridgeError, findCause } from '../errors.js';

/** retryable: throttling, 5xx, conflicts, network → delayed re-nudge; capacity: NoStock & friends → fallback, then
 * delayed retry + Event; permanent: invalid spec, auth, quota → pod Failed + Event; notFound: already gone. */
export type ErrorClass = 'retryable' | 'capacity' | 'permanent' | 'notFound';

const KINDS = new Set<string>(['retryable', 'capacity', 'permanent', 'notFound']);

function kindOf(e: Error): string | undefined {
  const k = (e as { kind?: unknown }).kind;
  return typeof k === 'string' && KINDS.has(k) ? k : undefined;
}

function codeOf(e: Error): number | undefined {
  for (const key of ['statusCode', 'code', 'status'] as const) {
    const v = (e as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

/** Classifies any error thrown through a port. Unknown errors are retryable (bounded by the attempt counter). */
export function classify(err: unknown): ErrorClass {
  const withKind = findCause(err, (e): e is Error => kindOf(e) !== undefined);
  if (withKind) return kindOf(withKind) as ErrorClass;
  if (isNotFound(err)) return 'notFound';
  return 'retryable';
}

/** Kubernetes NotFound (or an ECI notFound) anywhere on the cause chain. */
export function isNotFound(err: unknown): boolean {
  return (
    findCause(
      err,
      (e): e is Error => kindOf(e) === 'notFound' || /NotFound/.test(e.name) || (codeOf(e) === 404 && !kindOf(e)),
    ) !== undefined
  );
}

/**
 * Kubernetes Forbidden (403) from the cluster, not from ECI (ECI's auth errors carry a kind): for the functions, a pod
 * in a namespace that is not enabled for the virtual node (deploy/functions-rbac.yaml).
 */
export function isKubeForbidden(err: unknown): boolean {
  return findCause(err, (e): e is Error => !kindOf(e) && (/Forbidden/.test(e.name) || codeOf(e) === 403)) !== undefined;
}

/** Kubernetes Conflict (409: a precondition or resourceVersion mismatch). */
export function isConflict(err: unknown): boolean {
  return findCause(err, (e): e is Error => /Conflict/.test(e.name) || codeOf(e) === 409) !== undefined;
}

/** The ECI error code (e.g. `OperationDenied.NoStock`) when the adapter exposes one; never a secret. */
export function errorCode(err: unknown): string | undefined {
  const withCode = findCause(err, (e): e is Error => typeof (e as { code?: unknown }).code === 'string');
  return withCode ? String((withCode as { code?: unknown }).code) : undefined;
}

/** A short, secret-free description of an error for Events, conditions and the heartbeat. */
export function describeError(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = errorCode(e);
  const msg = e.message.length > 300 ? `${e.message.slice(0, 297)}...` : e.message;
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

export class UseCaseError extends BridgeError {}

/** A pod's references (ConfigMap, Secret, token) could not be resolved; retried with a delay, shown as an Event. */
export class PodReferenceError extends UseCaseError {
  readonly kind = 'retryable' as const;
}

/**
 * The final delete of a terminating pod met a Conflict while the same pod (same UID) is still there: a transient
 * conflict, not a new pod of that name. Retried with a delayed re-nudge like any retryable error.
 */
export class PodStillTerminatingError extends UseCaseError {
  readonly kind = 'retryable' as const;
}
