/**
 * The one composition root: config (+ credentials) → adapters → use-cases. The FC functions, the watcher and the
 * CLI all build through here; no entry point wires an SDK by hand.
 *
 * - Kubernetes: explicit server URL + token + CA (KUBE_API_SERVER, KUBE_TOKEN, KUBE_CA: the functions, through the
 *   lite client over node:https), else KUBECONFIG, else the in-cluster service account (client-node). Built once per process and configuration (it
 *   holds no cloud credentials).
 * - ECI and MNS: from the credentials of the invocation (FC passes fresh STS credentials in `context.credentials`),
 *   else the ALIBABA_CLOUD_* variables. `forCredentials` memoises per credential set (the last two), so a warm
 *   instance reuses its clients until FC rotates the credentials, and never keeps old ones forever.
 * - Tests and `npm start` pass overrides (an embedded queue, a clock, a test cluster) through the same code path.
 * - Billing: `billingOf(bridge)` gives the billing function its use-case over the bridge's (instrumented) ECI port and
 *   cluster; `connectBilling(config)` gives the `cost` CLI the cluster and ECI ports it reads.
 */
import pino from 'pino';
import type { Config } from './domain/config.js';
import type { FcCredentials } from './sim/fc.js';
import { caPemFrom } from './domain/kubeCa.js';
import { createEciContainerGroups, type EciAdapterOptions } from './adapters/eci/index.js';
import { createKubeCluster, type KubeClientOptions } from './adapters/kube/index.js';
import { createLiteKubeCluster } from './adapters/kube/lite.js';
import { kubeProxySettings } from './domain/kubeProxy.js';
import { MnsQueue } from './adapters/queue/index.js';
import { teamLabelsProblem } from './domain/names.js';
import type { BillReader, Clock, Cluster, ClusterStore, ContainerGroups, Logger, QueueSender } from './ports/index.js';
import { Billing, billingSettingsFromConfig } from './usecases/billing.js';
import { DEFAULT_SETTINGS, type SyncDomain, type SyncSettings, type UseCaseDeps } from './usecases/context.js';
import { createSyncDomain, type TranslateDefaults } from './usecases/domain.js';
import { Gc } from './usecases/gc.js';
import { type EciTally, HeartbeatWriter, instrumentEci } from './usecases/heartbeat.js';
import { PodMemory } from './usecases/podMemory.js';
import { PodSync } from './usecases/podSync.js';
import { StatusSync } from './usecases/statusSync.js';
import { BridgeError } from './errors.js';

export class ComposeError extends BridgeError {}

export interface CloudCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface BridgeOverrides {
  cluster?: Cluster;
  eci?: ContainerGroups;
  /** the pod queue (re-nudges) */
  queue?: QueueSender;
  /** the dead-letter queue (malformed messages) */
  deadLetter?: QueueSender;
  clock?: Clock;
  logger?: Logger;
  domain?: SyncDomain;
  /** extra ECI adapter options (retry policy, rate limits, clock) */
  eciOptions?: Partial<EciAdapterOptions>;
  /** the bill (BSS OpenAPI) for the reconcile function; default: the BSS adapter with the same credentials */
  bills?: BillReader;
}

export interface Bridge {
  config: Config;
  logger: Logger;
  clock: Clock;
  cluster: Cluster;
  /** instrumented: every call is tallied for the heartbeat */
  eci: ContainerGroups;
  queue: QueueSender;
  deadLetter: QueueSender;
  settings: SyncSettings;
  deps: UseCaseDeps;
  podSync: PodSync;
  statusSync: StatusSync;
  gc: Gc;
  heartbeat: HeartbeatWriter;
  /** ECI calls and failures since the last call */
  takeEciTally(): EciTally;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      // the listener is removed when the sleep ends: long-lived signals (the watcher's loops) must not collect them
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

const LOG_REDACT = ['*.token', '*.password', '*.accessKeySecret', '*.securityToken', '*.Password'];

/** A pino logger with the bridge's base fields; secrets are redacted by path as a second line of defence. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'CLUSTER_NAME'>, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { cluster: config.CLUSTER_NAME, ...bindings },
    redact: LOG_REDACT,
  }) as unknown as Logger; // pino's Logger has the port's methods; its overloads are wider than the port's
}

/** The Kubernetes client options from config: explicit server + token + CA, a kubeconfig, or in-cluster. */
export function kubeOptions(config: Config): KubeClientOptions {
  if (config.KUBE_API_SERVER || config.KUBE_TOKEN || config.KUBE_CA) {
    if (!config.KUBE_API_SERVER || !config.KUBE_TOKEN || !config.KUBE_CA) {
      throw new ComposeError('KUBE_API_SERVER, KUBE_TOKEN and KUBE_CA must be set together');
    }
    let ca: string;
    try {
      ca = caPemFrom(config.KUBE_CA);
    } catch (err) {
      throw new ComposeError((err as Error).message, { cause: err });
    }
    return { server: config.KUBE_API_SERVER, token: config.KUBE_TOKEN, caPem: ca };
  }
  if (config.KUBECONFIG) return { kubeconfigPath: config.KUBECONFIG.split(':')[0] ?? config.KUBECONFIG };
  return { inCluster: true };
}

export function settingsFrom(config: Config): SyncSettings {
  return {
    ...DEFAULT_SETTINGS,
    clusterName: config.CLUSTER_NAME,
    vnodeName: config.VNODE_NAME,
    maxAttempts: config.SYNC_MAX_ATTEMPTS,
    retryBaseSeconds: config.SYNC_RETRY_BASE_SECONDS,
    retryMaxSeconds: config.SYNC_RETRY_MAX_SECONDS,
    capacityRetrySeconds: config.SYNC_CAPACITY_RETRY_SECONDS,
    orphanGraceSeconds: config.GC_ORPHAN_GRACE_SECONDS,
    stuckPodSeconds: config.GC_STUCK_POD_SECONDS,
    lostGroupGraceSeconds: config.LOST_GROUP_GRACE_SECONDS,
  };
}

export function translateDefaults(config: Config): TranslateDefaults {
  const svc = config.KUBERNETES_SERVICE_ADDRESS?.match(/^([^:]+):(\d+)$/);
  const teamProblem = teamLabelsProblem(config.BILLING_TEAM_LABELS);
  if (teamProblem) throw new ComposeError(`BILLING_TEAM_LABELS: ${teamProblem}`);
  return {
    clusterName: config.CLUSTER_NAME,
    vnodeName: config.VNODE_NAME,
    ...(config.BILLING_TEAM_LABELS.length ? { teamLabels: config.BILLING_TEAM_LABELS } : {}),
    ...(config.VNODE_TAGS.length ? { vnodeTags: config.VNODE_TAGS } : {}),
    regionId: config.ECI_REGION,
    vSwitchIds: config.ECI_VSWITCH_IDS,
    ...(config.ECI_SECURITY_GROUP_ID ? { securityGroupId: config.ECI_SECURITY_GROUP_ID } : {}),
    ...(config.ECI_ZONE_ID ? { zoneId: config.ECI_ZONE_ID } : {}),
    clusterDns: config.CLUSTER_DNS,
    clusterDomain: config.CLUSTER_DOMAIN,
    ...(svc?.[1] && svc[2] ? { kubernetesService: { host: svc[1], port: Number(svc[2]) } } : {}),
    clusterIpReachable: config.CLUSTER_IP_ROUTED,
    kubeProxy: kubeProxySettings(config),
  };
}

/** Credentials from the FC context when present (non-empty), else from config (ALIBABA_CLOUD_*). */
export function cloudCredentials(config: Config, fc?: FcCredentials): CloudCredentials | undefined {
  if (fc?.accessKeyId && fc.accessKeySecret) {
    return { accessKeyId: fc.accessKeyId, accessKeySecret: fc.accessKeySecret, ...(fc.securityToken ? { securityToken: fc.securityToken } : {}) };
  }
  if (config.ALIBABA_CLOUD_ACCESS_KEY_ID && config.ALIBABA_CLOUD_ACCESS_KEY_SECRET) {
    return {
      accessKeyId: config.ALIBABA_CLOUD_ACCESS_KEY_ID,
      accessKeySecret: config.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
      ...(config.ALIBABA_CLOUD_SECURITY_TOKEN ? { securityToken: config.ALIBABA_CLOUD_SECURITY_TOKEN } : {}),
    };
  }
  return undefined;
}

const clusters = new WeakMap<Config, Cluster>();

/**
 * Explicit server + token + CA (the functions' settings) → the dependency-free client over node:https
 * (adapters/kube/lite.ts); a kubeconfig or the in-cluster account → the client-node adapter. The function bundles
 * are built without the latter (scripts/build.ts), so they never load @kubernetes/client-node.
 */
function clusterFor(config: Config): Cluster {
  let c = clusters.get(config);
  if (!c) {
    const opts = kubeOptions(config);
    c = 'server' in opts ? createLiteKubeCluster(opts, { host: config.VNODE_NAME }) : createKubeCluster(opts, { host: config.VNODE_NAME });
    clusters.set(config, c);
  }
  return c;
}

/**
 * Where a process reaches MNS from: the functions inside the VPC (the internal endpoint), the watcher in the VPC (the
 * VPC endpoint), the CLI from outside (the public HTTPS endpoint). MNS_ENDPOINT (the emulator, a custom endpoint)
 * always wins.
 */
export type MnsReach = 'functions' | 'watcher' | 'cli';

/** An MNS queue of the configured account. */
export function createMnsQueue(config: Config, credentials: CloudCredentials, queueName: string, accountId: string, reach: MnsReach): MnsQueue {
  const where = config.MNS_ENDPOINT
    ? { endpoint: config.MNS_ENDPOINT }
    : reach === 'functions'
      ? { region: config.ECI_REGION, internal: true }
      : reach === 'watcher'
        ? { region: config.ECI_REGION, vpc: true }
        : { region: config.ECI_REGION, secure: true };
  return new MnsQueue({ accountId, queueName, ...where, credentials });
}

function mnsQueue(config: Config, creds: CloudCredentials | undefined, queueName: string, accountId?: string): MnsQueue {
  const account = config.ALIBABA_CLOUD_ACCOUNT_ID ?? accountId;
  if (!account) throw new ComposeError('ALIBABA_CLOUD_ACCOUNT_ID is required for the MNS queue');
  if (!creds) throw new ComposeError('no cloud credentials for the MNS queue (FC context or ALIBABA_CLOUD_ACCESS_KEY_*)');
  return createMnsQueue(config, creds, queueName, account, 'functions');
}

/** Builds the whole bridge for one credential set. Prefer `forCredentials` in handlers (memoised). */
export function createBridge(
  config: Config,
  opts: { credentials?: FcCredentials; accountId?: string; overrides?: BridgeOverrides } = {},
): Bridge {
  const o = opts.overrides ?? {};
  const logger = o.logger ?? createLogger(config);
  const clock = o.clock ?? systemClock;
  const creds = cloudCredentials(config, opts.credentials);
  const cluster = o.cluster ?? clusterFor(config);
  let rawEci = o.eci;
  if (!rawEci) {
    if (!creds) throw new ComposeError('no cloud credentials for ECI (FC context or ALIBABA_CLOUD_ACCESS_KEY_*)');
    rawEci = createEciContainerGroups(config, creds, {
      logger: logger.child({ adapter: 'eci' }),
      // The functions re-nudge through the queue: a few in-call retries, then the pod's own delayed retry.
      retry: { maxAttempts: 3 },
      ...o.eciOptions,
    });
  }
  const instrumented = instrumentEci(rawEci);
  const needQueue = !o.queue || !o.deadLetter;
  if (needQueue && config.QUEUE_KIND === 'embedded') {
    throw new ComposeError('QUEUE_KIND=embedded: the embedded queue must be passed in (overrides.queue/deadLetter)');
  }
  const queue = o.queue ?? mnsQueue(config, creds, config.MNS_QUEUE, opts.accountId);
  const deadLetter = o.deadLetter ?? mnsQueue(config, creds, config.MNS_DEAD_LETTER_QUEUE, opts.accountId);
  const settings = settingsFrom(config);
  const deps: UseCaseDeps = {
    cluster,
    eci: instrumented.eci,
    queue,
    clock,
    logger,
    settings,
    domain: o.domain ?? createSyncDomain(translateDefaults(config)),
    memory: new PodMemory(),
  };
  const bridge: Bridge = {
    config,
    logger,
    clock,
    cluster,
    eci: instrumented.eci,
    queue,
    deadLetter,
    settings,
    deps,
    podSync: new PodSync(deps),
    statusSync: new StatusSync(deps),
    gc: new Gc(deps, { leaksNamespace: config.BRIDGE_NAMESPACE }),
    heartbeat: new HeartbeatWriter({ cluster, clock, logger, namespace: config.BRIDGE_NAMESPACE }),
    takeEciTally: instrumented.take,
  };
  if (o.bills) billReaders.set(bridge, o.bills);
  return bridge;
}

function credentialKey(c: FcCredentials | undefined): string {
  return c ? `${c.accessKeyId}\u0000${c.securityToken}` : '';
}

/**
 * A memoised factory for handlers: the same bridge while the invocation credentials stay the same; a new one when
 * FC hands new STS credentials (at most two kept, the older dropped).
 */
export function bridgeFactory(
  config: Config | (() => Config),
  overrides?: BridgeOverrides | (() => BridgeOverrides),
): (credentials?: FcCredentials, accountId?: string) => Bridge {
  const memo = new Map<string, Bridge>();
  return (credentials, accountId) => {
    const key = credentialKey(credentials);
    const hit = memo.get(key);
    if (hit) return hit;
    const cfg = typeof config === 'function' ? config() : config;
    const ov = typeof overrides === 'function' ? overrides() : overrides;
    const bridge = createBridge(cfg, { ...(credentials ? { credentials } : {}), ...(accountId ? { accountId } : {}), ...(ov ? { overrides: ov } : {}) });
    memo.set(key, bridge);
    while (memo.size > 2) memo.delete(memo.keys().next().value as string);
    return bridge;
  };
}

// ---------------------------------------------------------------- billing

/** The Kubernetes adapter implements ClusterStore beside Cluster; a test's plain Cluster fake may not. */
export function hasStore(c: Cluster): c is Cluster & ClusterStore {
  const s = c as Partial<ClusterStore>;
  return typeof s.createConfigMap === 'function' && typeof s.replaceConfigMap === 'function' && typeof s.listNamespaces === 'function';
}

const billings = new WeakMap<Bridge, Billing>();
const billReaders = new WeakMap<Bridge, BillReader>();

/** The bill reader passed in `overrides.bills` (tests, the sandbox); compose-reconcile.ts builds the BSS adapter otherwise. */
export function billsOverride(bridge: Bridge): BillReader | undefined {
  return billReaders.get(bridge);
}

/**
 * The billing use-case of a bridge (memoised per bridge, so instance-type prices learned from
 * DescribeContainerGroupPrice are kept while the credentials stay the same). ECI calls go through the bridge's
 * instrumented port, so they count in the heartbeat's ECI tally.
 */
export function billingOf(bridge: Bridge): Billing {
  let b = billings.get(bridge);
  if (!b) {
    const cluster = bridge.cluster;
    if (!hasStore(cluster)) throw new ComposeError('billing needs a cluster that can store ConfigMaps and list namespaces (ClusterStore)');
    b = new Billing(
      { cluster, groups: bridge.eci, clock: bridge.clock, logger: bridge.logger.child({ usecase: 'billing' }) },
      billingSettingsFromConfig(bridge.config),
    );
    billings.set(bridge, b);
  }
  return b;
}

/**
 * What `eci-bridge cost` reads in cluster mode: the cluster (KUBE_API_SERVER/KUBE_TOKEN/KUBE_CA, KUBECONFIG or
 * in-cluster) and the ECI container groups (ALIBABA_CLOUD_* credentials). No queue is needed. Logs go to stderr, so
 * the report on stdout stays clean.
 */
export async function connectBilling(config: Config): Promise<{
  cluster: Cluster & ClusterStore;
  groups: ContainerGroups;
  clock: Clock;
  logger: Logger;
}> {
  const creds = cloudCredentials(config);
  if (!creds) throw new ComposeError('no cloud credentials for ECI: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  const cluster = clusterFor(config);
  if (!hasStore(cluster)) throw new ComposeError('the Kubernetes adapter does not implement ClusterStore');
  const logger = pino(
    { level: config.LOG_LEVEL, base: { cluster: config.CLUSTER_NAME, cli: 'cost' }, redact: LOG_REDACT },
    pino.destination(2),
  ) as unknown as Logger; // as in createLogger: pino's overloads are wider than the port's
  const groups = createEciContainerGroups(config, creds, { logger: logger.child({ adapter: 'eci' }) });
  return { cluster, groups, clock: systemClock, logger };
}
