/**
 * The one configuration schema of the bridge. Parsed once (see `shared/config.ts`) from the environment:
 * FC function environment variables, the watcher's ConfigMap/env, or `npm start`'s flags.
 */
import { z } from 'zod';

const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

export const ConfigSchema = z.object({
  /** Identity of this bridge: every container group is tagged with it. */
  CLUSTER_NAME: z.string().min(1).max(64).default('default-cluster'),
  VNODE_NAME: z.string().min(1).max(63).default('eci-bridge-vnode'),
  BRIDGE_NAMESPACE: z.string().min(1).default('eci-bridge'),

  /** ECI */
  ECI_REGION: z.string().min(1).default('cn-hangzhou'),
  /** host[:port] without scheme; default: eci-vpc.<region>.aliyuncs.com */
  ECI_ENDPOINT: z.string().optional(),
  ECI_PROTOCOL: z.enum(['https', 'http']).default('https'),
  ECI_VSWITCH_IDS: csv.default([]),
  ECI_SECURITY_GROUP_ID: z.string().optional(),
  ECI_ZONE_ID: z.string().optional(),
  /** Client-side rate limits, defaulting to ECI's published quotas. */
  ECI_CREATE_PER_SECOND: z.coerce.number().positive().default(20),
  ECI_CREATE_BURST: z.coerce.number().int().positive().default(100),

  /** Credentials (static keys or STS). FC injects these from the function role. */
  ALIBABA_CLOUD_ACCESS_KEY_ID: z.string().optional(),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: z.string().optional(),
  ALIBABA_CLOUD_SECURITY_TOKEN: z.string().optional(),
  ALIBABA_CLOUD_ACCOUNT_ID: z.string().optional(),

  /** Queue */
  QUEUE_KIND: z.enum(['mns', 'embedded']).default('mns'),
  MNS_ENDPOINT: z.string().optional(),
  MNS_QUEUE: z.string().default('eci-bridge-pods'),
  MNS_DEAD_LETTER_QUEUE: z.string().default('eci-bridge-pods-dlq'),

  /** Kubernetes: kubeconfig, in-cluster, or explicit server + token + CA (the functions). */
  KUBECONFIG: z.string().optional(),
  KUBE_API_SERVER: z.string().url().optional(),
  KUBE_TOKEN: z.string().optional(),
  /** PEM, or base64 of PEM */
  KUBE_CA: z.string().optional(),

  /** Cluster DNS for ECI pods (dnsPolicy ClusterFirst). */
  CLUSTER_DNS: z.string().default('10.96.0.10'),
  CLUSTER_DOMAIN: z.string().default('cluster.local'),

  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Parses an environment-like record; throws ConfigError listing every bad variable at once. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const res = ConfigSchema.safeParse(env);
  if (!res.success) {
    throw new ConfigError(`invalid configuration:\n${z.prettifyError(res.error)}`, { cause: res.error });
  }
  return res.data;
}

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}
