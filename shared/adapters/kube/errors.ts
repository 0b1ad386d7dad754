/**
 * The Kubernetes adapter's error family, shared by both clients (client-node's and the lite one). Callers never
 * see HTTP codes or client-node's ApiException: every failure becomes one of these, with the original error as
 * `cause`, and carries its kind of the one vocabulary (shared/errors.ts): NotFound → notFound, Conflict and
 * AlreadyExists → conflict, Forbidden → forbidden, Invalid → invalid, the rest (Gone, Transient, unclassified) →
 * retryable. Messages carry the operation, the object
 * and the API server's Status message, never a token or Secret data.
 */
import { BridgeError, type ErrorKind, type ErrorService, findCause, type KindedError } from '../../errors.js';

export interface KubeErrorDetails {
  /** HTTP status, when the API server answered. */
  status?: number;
  /** Status.reason from the API server (NotFound, AlreadyExists, Conflict, Expired, Invalid, ...). */
  reason?: string;
}

export class KubeError extends BridgeError implements KindedError {
  /** the vocabulary's kind (shared/errors.ts): an unclassified answer or failure is worth retrying */
  readonly kind: ErrorKind = 'retryable';
  readonly service: ErrorService = 'kubernetes';
  readonly status: number | undefined;
  readonly reason: string | undefined;
  constructor(message: string, details: KubeErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.status = details.status;
    this.reason = details.reason;
  }
}
/** 404: the object (or its namespace) does not exist. */
export class NotFoundError extends KubeError {
  override readonly kind: ErrorKind = 'notFound';
}
/** 409: resourceVersion or UID precondition mismatch ("the object has been modified", "Precondition failed"). */
export class ConflictError extends KubeError {
  override readonly kind: ErrorKind = 'conflict';
}
/** 409 AlreadyExists: a create of a name that exists. A ConflictError too. */
export class AlreadyExistsError extends ConflictError {}
/** 410: the resourceVersion is too old (watch/list must restart from a fresh list). */
export class GoneError extends KubeError {}
/** 401/403: not authenticated or not allowed (RBAC). */
export class ForbiddenError extends KubeError {
  override readonly kind: ErrorKind = 'forbidden';
}
/** 400/415/422: the request itself is wrong; retrying it unchanged cannot succeed. */
export class InvalidError extends KubeError {
  override readonly kind: ErrorKind = 'invalid';
}
/** 5xx, 429, timeouts and network failures: worth retrying with backoff. */
export class TransientError extends KubeError {}

function is<T extends KubeError>(cls: abstract new (...args: never[]) => T) {
  return (err: unknown): boolean => findCause(err, (e): e is T => e instanceof cls) !== undefined;
}
export const isKubeError = is(KubeError);
export const isNotFound = is(NotFoundError);
export const isConflict = is(ConflictError);
export const isAlreadyExists = is(AlreadyExistsError);
export const isGone = is(GoneError);
export const isForbidden = is(ForbiddenError);
export const isInvalid = is(InvalidError);
export const isTransient = is(TransientError);

/** The parts of a Kubernetes `Status` body the adapter uses. */
export interface StatusBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** A Status from a response body (object or JSON text), or undefined when it is not one. */
export function parseStatus(body: unknown): StatusBody | undefined {
  let v: unknown = body;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as StatusBody;
  return undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Builds the typed error for an HTTP status and Status body. */
export function errorFromStatus(
  context: string,
  httpStatus: number,
  status: StatusBody | undefined,
  cause?: unknown,
): KubeError {
  const reason = status?.reason;
  const detail = status?.message ?? reason ?? `HTTP ${httpStatus}`;
  const message = `${context}: ${detail}`;
  const d = { status: httpStatus, reason };
  const o = { cause };
  if (httpStatus === 404) return new NotFoundError(message, d, o);
  if (httpStatus === 409) return reason === 'AlreadyExists' ? new AlreadyExistsError(message, d, o) : new ConflictError(message, d, o);
  if (httpStatus === 410 || reason === 'Expired' || reason === 'Gone') return new GoneError(message, d, o);
  if (httpStatus === 401 || httpStatus === 403) return new ForbiddenError(message, d, o);
  if (httpStatus === 400 || httpStatus === 415 || httpStatus === 422) return new InvalidError(message, d, o);
  if (httpStatus === 429 || httpStatus >= 500) return new TransientError(message, d, o);
  return new KubeError(message, d, o);
}

/**
 * Translates anything thrown by client-node (ApiException with `.code` and a raw `.body`, node-fetch's FetchError,
 * a Watch error with `.statusCode`, a socket error) into the family. KubeErrors pass through unchanged.
 */
export function toKubeError(err: unknown, context: string): KubeError {
  if (err instanceof KubeError) return err;
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown; type?: unknown; name?: unknown };
    const httpStatus = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
    if (httpStatus !== undefined && httpStatus >= 100) return errorFromStatus(context, httpStatus, parseStatus(e.body), err);
    const code = typeof e.code === 'string' ? e.code : undefined;
    const msg = typeof e.message === 'string' ? e.message : String(err);
    if (
      (code !== undefined && NETWORK_CODES.has(code)) ||
      e.type === 'system' ||
      e.type === 'request-timeout' ||
      e.name === 'FetchError' ||
      e.name === 'AbortError' ||
      e.name === 'TimeoutError' ||
      /premature close|socket hang up|network|ECONN|timeout/i.test(msg)
    ) {
      return new TransientError(`${context}: ${msg}`, {}, { cause: err });
    }
    return new KubeError(`${context}: ${msg}`, {}, { cause: err });
  }
  return new KubeError(`${context}: ${String(err)}`, {}, { cause: err });
}
