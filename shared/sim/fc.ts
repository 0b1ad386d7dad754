/**
 * The Function Compute 3.0 invocation context, as the FC Node.js runtime passes it to `handler(event, context)`
 * (FC request handlers and context, docs/architecture.md#sources). Types only: shared by the EventBridge delivery simulator (emulators/eventbridge), the embedded
 * delivery loop (shared/adapters/queue) and the FC handler adapter, so none of them needs to import another.
 */

/** STS credentials of the function's role (valid 36 h on FC). */
export interface FcCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
}

export interface FcFunctionInfo {
  name: string;
  handler?: string;
  /** MB */
  memory?: number;
  /** seconds */
  timeout?: number;
  initializer?: string;
  initializationTimeout?: number;
}

export interface FcServiceInfo {
  logProject?: string;
  logStore?: string;
  qualifier?: string;
  versionId?: string;
}

export interface FcContextLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  log(...args: unknown[]): void;
}

/** What an FC handler may rely on. `getRemainingTimeInMillis` does not exist on FC. */
export interface FcContextLike {
  requestId: string;
  credentials: FcCredentials;
  function: FcFunctionInfo;
  region: string;
  accountId: string;
  service?: FcServiceInfo;
  logger?: FcContextLogger;
}

/** An FC event handler: the event is a Buffer (for an MNS queue trigger: a JSON array of CloudEvents). */
export type FcEventHandler = (event: Buffer, context: FcContextLike) => Promise<unknown>;
