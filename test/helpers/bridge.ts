/**
 * The whole bridge in the test process against a real cluster, as `npm start` runs it (scripts/sandbox/runtime.ts:
 * watcher, embedded queue and delivery, the function handlers, timers), on the ECI emulator. Each test bridge has
 * its own virtual node, cluster name and bridge namespace, and its node carries the label
 * `eci-bridge.test/vnode=<node>`: workloads select it by that label, so in a shared cluster the scheduler never
 * places them on another test's virtual node.
 */
import { DEFAULT_CREDENTIAL, type EciEmulator, type GroupState, startEciEmulator } from '../../emulators/eci/index.js';
import { startRuntime, type Runtime } from '../../scripts/sandbox/runtime.js';
import { type Config, parseConfig } from '../../shared/domain/config.js';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { TAG_VNODE } from '../../shared/domain/names.js';
import { silentLogger } from './fc.js';
import { uniqueName } from './kube.js';

export const TEST_VNODE_LABEL = 'eci-bridge.test/vnode';
export const VNODE_TOLERATION = { key: 'virtual-kubelet.io/provider', operator: 'Exists', effect: 'NoSchedule' };

export interface TestBridge {
  readonly config: Config;
  readonly vnode: string;
  readonly emulator: EciEmulator;
  readonly runtime: Runtime | undefined;
  /** Container groups of this bridge's node that are not finished or gone (`where` filters by tag value). */
  liveGroups(where?: Record<string, string>): GroupState[];
  /** Stops the bridge (watcher, delivery, timers); the emulator keeps its groups. */
  stopBridge(): Promise<void>;
  /** Kills only the watcher (a crashed watcher Deployment): the functions (pod-sync, timers) keep running. */
  killWatcher(): Promise<void>;
  /** Starts the bridge again (a new watcher process, as after a crash or a redeploy). */
  startBridge(): Promise<void>;
  stop(): Promise<void>;
}

const LIVE = new Set(['Scheduling', 'Pending', 'Running', 'Restarting', 'Updating']);

export async function startTestBridge(
  kubeconfig: string,
  opts: { bridgeNamespace: string; env?: Record<string, string>; timeScale?: number; registerWebhooks?: boolean },
): Promise<TestBridge> {
  const vnode = uniqueName('vnode-it');
  const emulator = await startEciEmulator({ timeScale: opts.timeScale ?? 0.05, scenario: { seed: 1 } });
  const config = parseConfig({
    CLUSTER_NAME: uniqueName('it'),
    VNODE_NAME: vnode,
    VNODE_LABELS: `${TEST_VNODE_LABEL}=${vnode}`,
    BRIDGE_NAMESPACE: opts.bridgeNamespace,
    ECI_REGION: 'cn-hangzhou',
    ECI_ENDPOINT: emulator.endpoint,
    ECI_PROTOCOL: 'http',
    ECI_VSWITCH_IDS: 'vsw-it-h',
    ECI_SECURITY_GROUP_ID: 'sg-it',
    ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_CREDENTIAL.accessKeySecret,
    ALIBABA_CLOUD_ACCOUNT_ID: 'it',
    QUEUE_KIND: 'embedded',
    KUBECONFIG: kubeconfig,
    POD_IP: '127.0.0.1',
    LEADER_ELECTION: 'false',
    GC_ORPHAN_GRACE_SECONDS: '5',
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  let runtime: Runtime | undefined;
  const start = async () => {
    runtime = await startRuntime({
      config,
      logger: silentLogger,
      http: false,
      statusSyncEveryMs: 5000,
      gcEveryMs: 10_000,
      billingEveryMs: 3_600_000,
      registerWebhooks: opts.registerWebhooks ?? false,
    });
    await runtime.ready(30_000);
  };
  const stopBridge = async () => {
    await runtime?.stop();
    runtime = undefined;
  };
  try {
    await start();
  } catch (err) {
    await emulator.close();
    throw err;
  }
  return {
    config,
    vnode,
    emulator,
    get runtime() {
      return runtime;
    },
    liveGroups(where = {}) {
      return emulator
        .states()
        .filter((g) => LIVE.has(g.status))
        .filter((g) => g.tags.some((t) => t.Key === TAG_VNODE && t.Value === vnode))
        .filter((g) => Object.entries(where).every(([k, v]) => g.tags.some((t) => t.Key === k && t.Value === v)));
    },
    stopBridge,
    async killWatcher() {
      await runtime?.watcher.kill();
    },
    startBridge: start,
    async stop() {
      await stopBridge();
      await emulator.close();
    },
  };
}

/** A pod template for the virtual node of `vnode`: selected by its test label, tolerating its taint. */
export function vnodeTemplate(app: string, vnode: string, sim?: string, extra: Partial<NonNullable<V1PodTemplateSpec['spec']>> = {}): V1PodTemplateSpec {
  return {
    metadata: { labels: { app } },
    spec: {
      nodeSelector: { [TEST_VNODE_LABEL]: vnode },
      tolerations: [VNODE_TOLERATION],
      containers: [{ name: 'main', image: 'registry.example/busybox:1', ...(sim ? { command: ['sh', '-c', `eci-sim: ${sim}`] } : {}) }],
      ...extra,
    },
  };
}
