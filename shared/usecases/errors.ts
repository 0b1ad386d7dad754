/**
 * Error classes as the use-cases see them: every adapter throws errors of the one vocabulary (shared/errors.ts,
 * `ErrorKind` on the error or its cause chain), and these functions are the only place the use-cases read it —
 * never an HTTP status, SDK code or error name.
 */
import { BridgeError, findCause, hasKind, type KindedError, ownKind } from '../errors.js';

/** retryable: throttling, 5xx, conflicts, network → delayed re-nudge; capacity: NoStock & friends → fallback, then
 * delayed retry + Event; permanent: invalid spec, auth, quota → pod Failed + Event; notFound: already gone. */
export type ErrorClass = 'retryable' | 'capacity' | 'permanent' | 'notFound';

const CLASSES = new Set<string>(['retryable', 'capacity', 'permanent', 'notFound']);

/**
 * What a pod sync does about any error thrown through a port: the outermost kind that is a class; else notFound when
 * something on the chain is; else retryable (conflicts, Forbidden, malformed requests and unknown errors alike,
 * bounded by the attempt counter).
 */
export function classify(err: unknown): ErrorClass {
  const withClass = findCause(err, (e): e is Error => CLASSES.has(ownKind(e) ?? ''));
  if (withClass) return ownKind(withClass) as ErrorClass;
  if (isNotFound(err)) return 'notFound';
  return 'retryable';
}

/** NotFound (a Kubernetes object, a container group, …) anywhere on the cause chain. */
export function isNotFound(err: unknown): boolean {
  return hasKind(err, 'notFound');
}

/** The read's result, or undefined when the object does not exist (NotFound); any other error propagates. */
export async function unlessNotFound<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Kubernetes Forbidden (401/403) from the cluster (ECI's auth errors are `permanent`): for the functions, a pod in a
 * namespace that is not enabled for the virtual node (deploy/functions-rbac.yaml).
 */
export function isKubeForbidden(err: unknown): boolean {
  return hasKind(err, 'forbidden');
}

/** Conflict (a precondition or resourceVersion mismatch, AlreadyExists) anywhere on the cause chain. */
export function isConflict(err: unknown): boolean {
  return hasKind(err, 'conflict');
}

/**
 * The failure counts against ECI's health (the heartbeat): the outermost error with a kind is ECI's, or one of the
 * use-cases' own (which carry no service); Kubernetes, queue and other adapter errors are passed over.
 */
export function isEciError(err: unknown): boolean {
  const kinded = findCause(err, (e): e is KindedError => {
    const service = (e as Partial<KindedError>).service;
    return ownKind(e) !== undefined && (service === undefined || service === 'eci');
  });
  return kinded !== undefined;
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
