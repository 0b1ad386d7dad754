/**
 * The ECI emulator's error family and the catalogue of the cloud's error codes it answers with (ECI API reference, docs/architecture.md#sources):
 * each code has its HTTP status and Alibaba's message. Thrown inside the emulator, turned into the cloud's JSON
 * error body (`RequestId, HostId, Code, Message, Recommend`) by the server.
 */

export interface CatalogueEntry {
  status: number;
  message: string;
}

export const ERROR_CATALOGUE = {
  // gateway / auth
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation.' },
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to Aliyun standards.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  'InvalidTimeStamp.Format': { status: 400, message: 'Specified time stamp or date value is not well formatted.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  MissingSecurityToken: { status: 400, message: 'SecurityToken is mandatory for this action.' },
  'InvalidSecurityToken.MismatchWithAccessKey': {
    status: 400,
    message: 'Specified SecurityToken mismatch with the AccessKey.',
  },
  'InvalidSecurityToken.Expired': { status: 400, message: 'Specified SecurityToken is expired.' },
  'InvalidAction.NotFound': { status: 404, message: 'Specified api is not found, please check your url and method.' },
  InvalidVersion: { status: 400, message: 'Specified parameter Version is not valid.' },
  // flow control and transient
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
  'Throttling.Api': { status: 400, message: 'Request was denied due to api flow control.' },
  Throttling: { status: 400, message: 'Request was denied due to request throttling.' },
  'Degrade.Api': { status: 400, message: 'Request was denied due to api flow control, the system is degraded.' },
  ServiceUnavailable: { status: 503, message: 'The request has failed due to a temporary failure of the server.' },
  InternalError: {
    status: 500,
    message: 'The request processing has failed due to some unknown error, exception or failure.',
  },
  UnknownError: { status: 500, message: 'The request processing has failed due to some unknown error.' },
  OperationConflict: { status: 400, message: 'Request was denied due to conflict with a previous request.' },
  IncorrectStatus: { status: 400, message: 'The current status of the resource does not support this operation.' },
  // capacity / quota / account
  'OperationDenied.NoStock': { status: 403, message: 'Sales of this resource are temporarily suspended.' },
  'RecommendInstanceType.NoStock': { status: 403, message: 'The recommended instance types are out of stock.' },
  'QuotaExceeded.Cpu': { status: 403, message: 'The vCPU quota of the region is exhausted.' },
  'Account.Arrearage': { status: 400, message: 'Your account has an outstanding payment.' },
  // request validation
  MissingParameter: { status: 400, message: 'The input parameter that is mandatory for processing this request is not supplied.' },
  InvalidParameter: { status: 400, message: 'The specified parameter is not valid.' },
  'InvalidParameter.NotFound': { status: 400, message: 'The specified resource is not found.' },
  IdempotentParameterMismatch: {
    status: 400,
    message: 'The request uses the same client token as a previous, but non-identical request.',
  },
  'DryRun.Success': { status: 400, message: 'Request validation has been passed with DryRun flag set.' },
} as const satisfies Record<string, CatalogueEntry>;

export type EciErrorCode = keyof typeof ERROR_CATALOGUE;

export function isCatalogued(code: string): code is EciErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/** An error the emulator answers with. `message` overrides the catalogue's text. */
export class EciEmulatorError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra response headers (e.g. `x-acs-retry-after`). */
  readonly headers: Record<string, string>;

  constructor(code: EciErrorCode, message?: string, opts?: { headers?: Record<string, string>; cause?: unknown }) {
    const entry: CatalogueEntry = ERROR_CATALOGUE[code];
    super(message ?? entry.message, { cause: opts?.cause });
    this.name = 'EciEmulatorError';
    this.code = code;
    this.status = entry.status;
    this.headers = opts?.headers ?? {};
  }
}

export function invalidParameter(name: string, why: string): EciEmulatorError {
  return new EciEmulatorError('InvalidParameter', `The specified parameter "${name}" is not valid: ${why}`);
}

export function missingParameter(name: string): EciEmulatorError {
  return new EciEmulatorError(
    'MissingParameter',
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );
}
