/**
 * The `@alicloud/bssopenapi20171214` edge (4.1.1, over @alicloud/openapi-core): builds the SDK client with a
 * credentials provider asked on every request (rotated STS keys are used), the endpoint and protocol. Loaded lazily
 * by ./index.ts on the first call.
 */
import * as bssSdk from '@alicloud/bssopenapi20171214';

// A CJS module imported from ESM: `default` is the module object, so the client class is `default.default`.
export const BssSdkClient = bssSdk.default.default;
export type BssSdkClient = InstanceType<typeof BssSdkClient>;
type BssSdkConfig = ConstructorParameters<typeof BssSdkClient>[0];
export { bssSdk };

export interface BssCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}
export type BssCredentialsProvider = () => BssCredentials | Promise<BssCredentials>;

export interface BssClientOptions {
  /** China site: business.aliyuncs.com; international: business.ap-southeast-1.aliyuncs.com (the SDK's endpoint map) */
  endpoint: string;
  protocol?: 'https' | 'http';
  /** the SDK wants a region; BSS itself is global per site */
  regionId: string;
  credentials: BssCredentials | BssCredentialsProvider;
  readTimeoutMs?: number;
  connectTimeoutMs?: number;
  onCredentials?: (c: BssCredentials) => void;
}

export function createBssSdkClient(opts: BssClientOptions): BssSdkClient {
  const provider: BssCredentialsProvider = typeof opts.credentials === 'function' ? opts.credentials : () => opts.credentials as BssCredentials;
  const credential = {
    getCredential: async () => {
      const c = await provider();
      opts.onCredentials?.(c);
      return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken, type: c.securityToken ? 'sts' : 'access_key' };
    },
  };
  // The SDK's Config is a model that only reads these fields, and `credential` only needs getCredential(): one cast.
  const config = {
    credential,
    regionId: opts.regionId,
    endpoint: opts.endpoint,
    protocol: opts.protocol ?? 'https',
    readTimeout: opts.readTimeoutMs ?? 15_000,
    connectTimeout: opts.connectTimeoutMs ?? 5_000,
  } as unknown as BssSdkConfig;
  return new BssSdkClient(config);
}
