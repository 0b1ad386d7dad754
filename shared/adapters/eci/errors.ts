/**
 * The ECI adapter's one error family. Callers branch on `kind`, of the one vocabulary (shared/errors.ts), never on SDK
 * shapes:
 * - `retryable`: throttling, 5xx, OperationConflict/IncorrectStatus, network and timeouts, an expired STS token
 *   (the next attempt asks the credentials provider again) — retried here with backoff, then surfaced;
 * - `capacity`: NoStock and friends — another zone/vSwitch/spec may work; never retried blindly here;
 * - `permanent`: invalid spec, auth, quota, arrears, IdempotentParameterMismatch — no retry;
 * - `notFound`: the container group does not exist (any more).
 * Messages and causes are sanitised: no URL query (the SDK puts every parameter there), no registry password,
 * ConfigFile content, environment value, access key secret or security token.
 */
import { BridgeError, type ErrorKind, type ErrorService, type KindedError } from '../../errors.js';

/** The kinds of the one vocabulary (shared/errors.ts) an ECI (or BSS) failure can be. */
export type EciErrorKind = Extract<ErrorKind, 'retryable' | 'capacity' | 'permanent' | 'notFound'>;

export class EciError extends BridgeError implements KindedError {
  readonly kind: EciErrorKind;
  readonly service: ErrorService = 'eci';
  /** ECI's error code (`Throttling.User`, `OperationDenied.NoStock`, ...) or `Network` / `Timeout` / `Client` */
  readonly code: string;
  readonly requestId?: string;
  readonly statusCode?: number;
  readonly action: string;
  /** how many calls were made before giving up */
  readonly attempts: number;

  constructor(
    message: string,
    fields: {
      kind: EciErrorKind;
      code: string;
      action: string;
      attempts: number;
      requestId?: string;
      statusCode?: number;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = fields.kind;
    this.code = fields.code;
    this.action = fields.action;
    this.attempts = fields.attempts;
    this.requestId = fields.requestId;
    this.statusCode = fields.statusCode;
  }
}

/** The sanitised stand-in for an SDK error kept as `cause`: name, code, status and a redacted message only. */
export class EciSdkFailure extends BridgeError {
  constructor(
    message: string,
    readonly sdkName: string,
    readonly sdkCode: string | undefined,
    readonly statusCode: number | undefined,
  ) {
    super(message);
  }
}

const NOT_FOUND = new Set([
  'InvalidParameter.NotFound',
  'ContainerGroup.NotFound',
  'InvalidContainerGroupId.NotFound',
  'InvalidContainerGroup.NotFound',
  'ResourceNotFound',
  'InvalidResourceId.NotFound',
]);

const CAPACITY = new Set([
  'OperationDenied.NoStock',
  'RecommendInstanceType.NoStock',
  'NoStock',
  'StockClose',
  'OperationDenied.StockClose',
  'StockExhaust',
  'Zone.NotOnSale',
  'InvalidVSwitchId.IpNotEnough',
  'FailedScheduling',
]);

const RETRYABLE = new Set([
  'ServiceUnavailable',
  'InternalError',
  'UnknownError',
  'OperationConflict',
  'IncorrectStatus',
  'Degrade.Api',
  'Rejected.Throttling',
  'containerRepositoryAuthorizationFailed',
  'InvalidSecurityToken.Expired',
  'Network',
  'Timeout',
]);

/** Error codes of the network layer (Node / httpx) that mean "try again". */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

export function classifyCode(code: string, statusCode?: number): EciErrorKind {
  if (NOT_FOUND.has(code)) return 'notFound';
  if (CAPACITY.has(code) || /NoStock/.test(code)) return 'capacity';
  if (RETRYABLE.has(code) || /^Throttling/.test(code)) return 'retryable';
  if (statusCode !== undefined && (statusCode >= 500 || statusCode === 429)) return 'retryable';
  return 'permanent';
}

export interface SdkErrorFacts {
  code: string;
  statusCode?: number;
  requestId?: string;
  /** ms, from `x-acs-retry-after` when the SDK exposes it */
  retryAfterMs?: number;
  message: string;
  name: string;
}

/** Reads what matters out of whatever the SDK or the network layer threw. */
export function sdkErrorFacts(err: unknown): SdkErrorFacts {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as Record<string, unknown>;
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown>;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof data.statusCode === 'number' ? data.statusCode : undefined;
  const rawCode = typeof e.code === 'string' ? e.code : undefined;
  const requestId = typeof data.RequestId === 'string' ? data.RequestId : undefined;
  const retryAfter = Number(e.retryAfter ?? data.RetryAfter ?? Number.NaN);
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
  let code: string;
  if (status !== undefined && rawCode && rawCode !== 'undefined') code = rawCode;
  else if (rawCode && NETWORK_CODES.has(rawCode)) code = 'Network';
  else if (/timeout/i.test(name) || /Timeout/.test(message)) code = 'Timeout';
  else if (/socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|other side closed/i.test(message)) code = 'Network';
  else if (status !== undefined) code = `HTTP${status}`;
  else code = rawCode ?? 'Client';
  return { code, statusCode: status, requestId, retryAfterMs, message, name };
}
