/**
 * FunctionInvoker over `@alicloud/fc2` (FC 2.0 API 2016-08-15): `POST /2016-08-15/services/{service}/functions/
 * {fn}/invocations`, signed `FC <ak>:<hmac-sha256>`, STS token in `x-fc-security-token`. For deployments that
 * still organise functions in an FC 2.0 service. Alibaba documents the package as no longer maintained, and it
 * drags in ali-oss/urllib, so it is loaded lazily (and left external in the function bundles: the FC nodejs
 * runtimes ship it preinstalled).
 */
import type { FunctionInvoker, InvokeResult } from '../../ports/index.js';
import { type FcApiCredentials, type FcApiTarget, headerValue, resolveEndpoint, toBuffer } from './credentials.js';
import { InvokeError } from './errors.js';

export interface Fc2InvokerOptions extends FcApiTarget {
  service: string;
  qualifier?: string;
  /** Called per invocation so refreshed (STS) credentials are picked up. */
  credentials: () => FcApiCredentials | Promise<FcApiCredentials>;
}

interface Fc2SdkError {
  name?: string;
  code?: string;
  message?: string;
}

function statusFromMessage(msg: string | undefined): number | undefined {
  const m = /failed with (\d{3})/.exec(msg ?? '');
  return m?.[1] ? Number(m[1]) : undefined;
}

export class Fc2FunctionInvoker implements FunctionInvoker {
  readonly #opts: Fc2InvokerOptions;

  constructor(opts: Fc2InvokerOptions) {
    this.#opts = opts;
  }

  async invoke(name: string, payload: Buffer | string, opts: { async?: boolean } = {}): Promise<InvokeResult> {
    const { default: Fc2Client } = await import('@alicloud/fc2');
    const creds = await this.#opts.credentials();
    let client: InstanceType<typeof Fc2Client>;
    try {
      client = new Fc2Client(this.#opts.accountId, {
        accessKeyID: creds.accessKeyId,
        accessKeySecret: creds.accessKeySecret,
        ...(creds.securityToken ? { securityToken: creds.securityToken } : {}),
        region: this.#opts.region,
        endpoint: resolveEndpoint(this.#opts).url,
        timeout: this.#opts.timeoutMs ?? 60_000,
      });
    } catch (cause) {
      // The constructor only validates its arguments (never echoes secrets).
      throw new InvokeError(`fc2: bad client configuration: ${(cause as Error).message}`, 'InvalidConfig', undefined, {
        cause,
      });
    }
    const headers: Record<string, string> = opts.async ? { 'x-fc-invocation-type': 'Async' } : {};
    try {
      const res = await client.invokeFunction(this.#opts.service, name, payload, headers, this.#opts.qualifier, {
        rawBuf: true,
      });
      const functionError = headerValue(res.headers, 'x-fc-error-type');
      const requestId = headerValue(res.headers, 'x-fc-request-id');
      // The SDK does not expose the status: FC answers 202 to an accepted async call and 200 otherwise.
      return {
        status: opts.async ? 202 : 200,
        ...(opts.async ? {} : { body: toBuffer(res.data) }),
        ...(functionError ? { functionError } : {}),
        ...(requestId ? { requestId } : {}),
      };
    } catch (cause) {
      const e = cause as Fc2SdkError;
      const status = statusFromMessage(e.message);
      const code = e.code ?? (status === undefined ? 'Network' : 'Unknown');
      throw new InvokeError(`fc2: invoking ${this.#opts.service}/${name} failed: ${e.message ?? String(cause)}`, code, status, {
        cause,
      });
    }
  }
}
