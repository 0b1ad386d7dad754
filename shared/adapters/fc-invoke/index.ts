/**
 * Chooses the FunctionInvoker from configuration: FC_API=fc3 (FC 3.0, default), fc2 (FC 2.0 service
 * deployments, FC_SERVICE) or local (in-process handler modules; the caller supplies the loader).
 */
import type { Config } from '../../domain/config.js';
import type { FcEventHandler } from '../../sim/fc.js';
import type { FunctionInvoker } from '../../ports/index.js';
import type { FcApiCredentials } from './credentials.js';
import { InvokeError } from './errors.js';
import { Fc2FunctionInvoker } from './fc2.js';
import { Fc3FunctionInvoker } from './fc3.js';
import { LocalFunctionInvoker } from './local.js';

export { InvokeError, isRetryableInvokeError } from './errors.js';
export { Fc2FunctionInvoker } from './fc2.js';
export { Fc3FunctionInvoker } from './fc3.js';
export { LocalFunctionInvoker } from './local.js';

export interface InvokerDeps {
  /** Required for FC_API=local. */
  loadLocal?: (name: string) => Promise<FcEventHandler | undefined>;
  /** Overrides the static credentials of the config (e.g. FC context credentials, refreshed). */
  credentials?: () => FcApiCredentials | Promise<FcApiCredentials>;
}

export function createFunctionInvoker(config: Config, deps: InvokerDeps = {}): FunctionInvoker {
  const region = config.FC_REGION ?? config.ECI_REGION;
  if (config.FC_API === 'local') {
    if (!deps.loadLocal) throw new InvokeError('FC_API=local needs a handler loader', 'InvalidConfig');
    return new LocalFunctionInvoker({ load: deps.loadLocal, region });
  }
  const credentials =
    deps.credentials ??
    ((): FcApiCredentials => {
      const { ALIBABA_CLOUD_ACCESS_KEY_ID: id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret } = config;
      if (!id || !secret) {
        throw new InvokeError(
          'FC invocation needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
          'InvalidConfig',
        );
      }
      return {
        accessKeyId: id,
        accessKeySecret: secret,
        ...(config.ALIBABA_CLOUD_SECURITY_TOKEN ? { securityToken: config.ALIBABA_CLOUD_SECURITY_TOKEN } : {}),
      };
    });
  const accountId = config.ALIBABA_CLOUD_ACCOUNT_ID;
  if (!accountId) throw new InvokeError('FC invocation needs ALIBABA_CLOUD_ACCOUNT_ID', 'InvalidConfig');
  const target = { accountId, region, ...(config.FC_ENDPOINT ? { endpoint: config.FC_ENDPOINT } : {}) };
  return config.FC_API === 'fc2'
    ? new Fc2FunctionInvoker({ ...target, service: config.FC_SERVICE, credentials })
    : new Fc3FunctionInvoker({ ...target, credentials });
}
