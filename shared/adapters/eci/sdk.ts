/**
 * The `@alicloud/eci20180808` edge: builds the SDK client (endpoint, protocol, timeouts, a credentials provider
 * asked on every request so rotated STS keys are used), and converts between the domain's wire-name objects and
 * the SDK's Tea models, driven by each model's own `names()` / `types()` (so `NFSVolume`, `TTY` and friends map
 * exactly as the SDK does).
 */
import * as eciSdk from '@alicloud/eci20180808';
import * as teaUtil from '@alicloud/tea-util';

// A CJS module imported from ESM: `default` is the module object (Node, tsx, esbuild's CJS output and tsc's
// NodeNext view agree), so the client class is `default.default`.
export const EciSdkClient = eciSdk.default.default;
export type EciSdkClient = InstanceType<typeof EciSdkClient>;
type EciSdkConfig = ConstructorParameters<typeof EciSdkClient>[0];
export { eciSdk };

export interface EciCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token (FC passes fresh ones per invocation) */
  securityToken?: string;
}

export type EciCredentialsProvider = () => EciCredentials | Promise<EciCredentials>;

export interface EciClientOptions {
  regionId: string;
  /** host[:port], no scheme; default `eci-vpc.<region>.aliyuncs.com` */
  endpoint?: string;
  protocol?: 'https' | 'http';
  credentials: EciCredentials | EciCredentialsProvider;
  /** `'v2'` = legacy HMAC-SHA1; default ACS3-HMAC-SHA256 */
  signatureAlgorithm?: 'v2';
  readTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** called with every credential set used, so the adapter can keep them out of messages */
  onCredentials?: (c: EciCredentials) => void;
}

export function defaultEndpoint(regionId: string): string {
  return `eci-vpc.${regionId}.aliyuncs.com`;
}

/** Builds the SDK client. The credentials are never cached by us: the SDK asks the provider on every request. */
export function createEciSdkClient(opts: EciClientOptions): EciSdkClient {
  const provider: EciCredentialsProvider =
    typeof opts.credentials === 'function' ? opts.credentials : () => opts.credentials as EciCredentials;
  const credential = {
    getCredential: async () => {
      const c = await provider();
      opts.onCredentials?.(c);
      return {
        accessKeyId: c.accessKeyId,
        accessKeySecret: c.accessKeySecret,
        securityToken: c.securityToken,
        type: c.securityToken ? 'sts' : 'access_key',
      };
    },
  };
  // The SDK's Config is a Tea model that only reads these fields, and `credential` only needs getCredential():
  // one cast at the SDK edge.
  const config = {
    credential,
    regionId: opts.regionId,
    endpoint: opts.endpoint ?? defaultEndpoint(opts.regionId),
    protocol: opts.protocol ?? 'https',
    signatureAlgorithm: opts.signatureAlgorithm,
    readTimeout: opts.readTimeoutMs ?? 15_000,
    connectTimeout: opts.connectTimeoutMs ?? 5_000,
  } as unknown as EciSdkConfig;
  return new EciSdkClient(config);
}

export { flattenQuery, toSdkModel, toWire } from './models.js';

/**
 * CreateContainerGroup through the SDK, with `extraQuery` (documented fields the 2.0.3 model lacks, flattened:
 * ./models.ts `toSdkModel`) added to the query of the same call, so they are signed with the rest. The SDK builds
 * its query and calls `callApi` (openapi-client) in one synchronous step; a per-call view of the client whose
 * `callApi` appends the extra parameters is all it takes — the signature, retries and response parsing stay the
 * SDK's own.
 */
export function createContainerGroup(
  client: EciSdkClient,
  request: InstanceType<typeof eciSdk.CreateContainerGroupRequest>,
  extraQuery: Record<string, string>,
): ReturnType<EciSdkClient['createContainerGroup']> {
  if (Object.keys(extraQuery).length === 0) return client.createContainerGroup(request);
  const view: EciSdkClient = Object.create(client);
  view.callApi = (params, req, runtime) => {
    req.query = { ...(req.query ?? {}), ...extraQuery };
    return client.callApi(params, req, runtime);
  };
  return view.createContainerGroupWithOptions(request, new teaUtil.RuntimeOptions({}));
}
