/**
 * FunctionInvoker over `@alicloud/fc20230330` (FC 3.0 API 2023-03-30): `POST /2023-03-30/functions/{fn}/
 * invocations`, signed ACS3-HMAC-SHA256, STS token in `x-acs-security-token`. The default: FC 3.0 functions are
 * first-level (no service), which is what `s deploy` with the fc3 component creates.
 */
import { Readable } from 'node:stream';
import * as fc3 from '@alicloud/fc20230330';
import type { FunctionInvoker, InvokeResult } from '../../ports/index.js';
import { type FcApiCredentials, type FcApiTarget, headerValue, resolveEndpoint } from './credentials.js';
import { InvokeError } from './errors.js';

export interface Fc3InvokerOptions extends FcApiTarget {
  qualifier?: string;
  /** Called per invocation so refreshed (STS) credentials are picked up. */
  credentials: () => FcApiCredentials | Promise<FcApiCredentials>;
}

// A CJS module imported from ESM: `default` is the module object (Node, tsx, esbuild's CJS output and tsc's
// NodeNext view all agree), so the client class is `default.default`.
const Fc3ClientCtor = fc3.default.default;
type Fc3Client = InstanceType<typeof Fc3ClientCtor>;
type Fc3Config = ConstructorParameters<typeof Fc3ClientCtor>[0];
type Fc3Runtime = Parameters<Fc3Client['invokeFunctionWithOptions']>[3];

interface TeaError {
  code?: string;
  statusCode?: number;
  message?: string;
  data?: { statusCode?: number };
}

async function readAll(body: Readable | undefined): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

export class Fc3FunctionInvoker implements FunctionInvoker {
  readonly #opts: Fc3InvokerOptions;

  constructor(opts: Fc3InvokerOptions) {
    this.#opts = opts;
  }

  async #client(): Promise<Fc3Client> {
    const creds = await this.#opts.credentials();
    const ep = resolveEndpoint(this.#opts);
    // The SDK's Config is a Tea model that only reads these fields: one cast at the SDK edge.
    const config = {
      accessKeyId: creds.accessKeyId,
      accessKeySecret: creds.accessKeySecret,
      securityToken: creds.securityToken,
      regionId: this.#opts.region,
      endpoint: ep.host,
      protocol: ep.protocol,
      readTimeout: this.#opts.timeoutMs ?? 60_000,
      connectTimeout: 10_000,
    } as unknown as Fc3Config;
    return new Fc3ClientCtor(config);
  }

  async invoke(name: string, payload: Buffer | string, opts: { async?: boolean } = {}): Promise<InvokeResult> {
    const client = await this.#client();
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
    const req = new fc3.InvokeFunctionRequest({
      body: Readable.from([body]),
      ...(this.#opts.qualifier ? { qualifier: this.#opts.qualifier } : {}),
    });
    const headers = new fc3.InvokeFunctionHeaders(opts.async ? { xFcInvocationType: 'Async' } : {});
    try {
      // RuntimeOptions is a Tea model read field by field; an empty one means the SDK defaults.
      const res = await client.invokeFunctionWithOptions(name, req, headers, {} as Fc3Runtime);
      const functionError = headerValue(res.headers, 'x-fc-error-type');
      const requestId = headerValue(res.headers, 'x-fc-request-id');
      const out = await readAll(res.body);
      return {
        status: res.statusCode ?? (opts.async ? 202 : 200),
        ...(out && out.length > 0 ? { body: out } : {}),
        ...(functionError ? { functionError } : {}),
        ...(requestId ? { requestId } : {}),
      };
    } catch (cause) {
      const e = cause as TeaError;
      const status = e.statusCode ?? e.data?.statusCode;
      const code = e.code ?? (status === undefined ? 'Network' : 'Unknown');
      throw new InvokeError(`fc3: invoking ${name} failed: ${e.message ?? String(cause)}`, code, status, { cause });
    }
  }
}
