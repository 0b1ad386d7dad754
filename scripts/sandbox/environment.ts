/**
 * The sandbox's surroundings: a PRIVATE local control plane (a real kube-apiserver, kube-scheduler and
 * kube-controller-manager + etcd in its own temporary directory and on its own ports, killed by a watchdog even if
 * this process dies, so it never disturbs the shared test control plane `npm test` uses, and is always gone
 * afterwards), the ECI emulator in-process with a time scale (and, on request, the BSS emulator billing its groups), the bridge configuration pointing at both, and the
 * namespaces. The chaos suite and the benchmarks build on the same function, so the sandbox wiring exists once.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createKubeClient, type KubeClient } from '../../shared/adapters/kube/index.js';
import { applyManifests, clusterEndpoint, type Manifest } from '../../shared/adapters/kube/provision.js';
import { type Config, parseConfig } from '../../shared/domain/config.js';
import { type BillScenario, type BssEmulator, startBssEmulator } from '../../emulators/bss/index.js';
import { DEFAULT_CREDENTIAL, type EciEmulator, type EciEmulatorOptions, startEciEmulator } from '../../emulators/eci/index.js';
import { binariesBuilt, type ControlPlane, install, KUBE_VERSION, type PlaneOptions, startControlPlane } from '../testenv/controlPlane.js';
import { KUBELET_CLIENT_FILES } from '../testenv/kubelet.js';

export type Say = (line: string) => void;

export interface SandboxEnvironment {
  readonly controlPlane: ControlPlane;
  readonly emulator: EciEmulator;
  /** The BSS (billing) emulator, billing the ECI emulator's groups (`bill`). */
  readonly bss?: BssEmulator;
  readonly config: Config;
  readonly kube: KubeClient;
  /** Closes the emulator and stops the control plane (idempotent). */
  stop(): Promise<void>;
  readonly closed: { emulator: boolean; controlPlane: boolean; bss?: boolean };
}

export interface EnvironmentOptions {
  /** Emulator time scale: simulated seconds × this = real seconds. */
  timeScale: number;
  say: Say;
  /** Extra configuration (strings, as environment variables). */
  env?: Record<string, string>;
  /** The emulator's token buckets sized to ECI's published API quotas (default off). */
  quotas?: boolean;
  /** The control plane: scheduler and controller-manager run unless `controllers: false`. */
  plane?: PlaneOptions;
  /** Serve the kubelet API (kubectl logs / top) on a free loopback port; the private apiserver trusts it. */
  kubelet?: boolean;
  /** More emulator options (e.g. a shorter retention of finished groups). */
  emulator?: Pick<EciEmulatorOptions, 'retainFinishedMs' | 'scenario'>;
  /**
   * Run the BSS emulator beside the ECI emulator, billing its groups with this scenario; its bill is read as of
   * `billAheadMs` from now (default two days: the usage has settled) and the configuration points BSS_ENDPOINT at it.
   */
  bill?: { scenario: BillScenario; billAheadMs?: number };
}

/** A free TCP port on loopback (the kubelet API's: the node publishes it, so it is fixed before the start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Builds the control plane the first time (6-10 minutes), saying so; seconds afterwards. */
export async function ensureControlPlaneBuilt(say: Say): Promise<void> {
  if (binariesBuilt() && existsSync('/usr/bin/etcd')) return;
  const t0 = Date.now();
  say(
    `First run: building the local control plane (kube-apiserver, kube-scheduler, kube-controller-manager ${KUBE_VERSION} from Debian source, plus etcd).`,
  );
  say('This takes about 10 minutes, once; later runs start it in seconds. Progress follows.');
  await install((line) => say(`  ${line}`));
  say(`Control plane built in ${Math.round((Date.now() - t0) / 1000)} s.`);
}

export async function startSandboxEnvironment(opts: EnvironmentOptions): Promise<SandboxEnvironment> {
  await ensureControlPlaneBuilt(opts.say);
  const t0 = Date.now();
  const controlPlane = await startControlPlane({ controllers: true, ...opts.plane });
  const parts = controlPlane.controllers ? 'kube-apiserver, kube-scheduler, kube-controller-manager' : 'kube-apiserver';
  opts.say(`Started a private ${parts} ${KUBE_VERSION} + etcd at ${controlPlane.server} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  let emulator: EciEmulator;
  try {
    emulator = await startEciEmulator({
      timeScale: opts.timeScale,
      ...opts.emulator,
      scenario: { seed: 1, ...opts.emulator?.scenario },
      ...(opts.quotas ? { quotas: true } : {}),
    });
  } catch (err) {
    await controlPlane.stop();
    throw err;
  }
  opts.say(`Started the ECI emulator at ${emulator.url} (time scale ${opts.timeScale}: ${Math.round(1 / opts.timeScale)} simulated s per real s)`);
  let bss: BssEmulator | undefined;
  if (opts.bill) {
    const ahead = opts.bill.billAheadMs ?? 2 * 86_400_000;
    try {
      bss = await startBssEmulator({
        scenario: opts.bill.scenario,
        credentials: [DEFAULT_CREDENTIAL],
        source: () => emulator.groups(),
        billClock: () => Date.now() + ahead,
      });
    } catch (err) {
      await emulator.close();
      await controlPlane.stop();
      throw err;
    }
    opts.say(`Started the BSS (billing) emulator at ${bss.url}: it bills the ECI emulator's groups as of ${ahead / 3_600_000} h from now`);
  }
  const closed: SandboxEnvironment['closed'] = { emulator: false, controlPlane: false, ...(bss ? { bss: false } : {}) };
  const stop = async (): Promise<void> => {
    if (bss && !closed.bss) {
      await bss.close();
      closed.bss = true;
    }
    if (!closed.emulator) {
      await emulator.close();
      closed.emulator = true;
    }
    if (!closed.controlPlane) {
      await controlPlane.stop();
      closed.controlPlane = true;
    }
  };
  try {
    const config = parseConfig({
      CLUSTER_NAME: 'sandbox',
      VNODE_NAME: 'eci-bridge-vnode',
      BRIDGE_NAMESPACE: 'eci-bridge',
      ECI_REGION: 'cn-hangzhou',
      ECI_ENDPOINT: emulator.endpoint,
      ECI_PROTOCOL: 'http',
      ECI_VSWITCH_IDS: 'vsw-sandbox-h,vsw-sandbox-i',
      ECI_SECURITY_GROUP_ID: 'sg-sandbox',
      ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_CREDENTIAL.accessKeySecret,
      ALIBABA_CLOUD_ACCOUNT_ID: 'sandbox',
      QUEUE_KIND: 'embedded',
      KUBECONFIG: controlPlane.kubeconfigPath,
      KUBERNETES_SERVICE_ADDRESS: controlPlane.server.replace(/^https:\/\//, ''),
      POD_IP: '127.0.0.1',
      // the kubelet API: the private apiserver presents its kubelet client certificate, signed by this CA
      ...(opts.kubelet
        ? {
            KUBELET_ENABLED: 'true',
            KUBELET_HOST: '127.0.0.1',
            KUBELET_PORT: String(await freePort()),
            KUBELET_CLIENT_CA: join(controlPlane.dir, 'certs', KUBELET_CLIENT_FILES.ca),
          }
        : {}),
      WATCHER_HTTP_HOST: '127.0.0.1',
      WATCHER_HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      ...(bss ? { BSS_ENDPOINT: bss.endpoint, BSS_PROTOCOL: 'http' } : {}),
      ...opts.env,
    });
    const kube = createKubeClient({ kubeconfigPath: controlPlane.kubeconfigPath });
    await applyManifests(kube, [namespace(config.BRIDGE_NAMESPACE), namespace(config.KUBELET_LOG_ARCHIVE_NAMESPACE)]);
    return { controlPlane, emulator, ...(bss ? { bss } : {}), config, kube, stop, closed };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function namespace(name: string): Manifest {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'app.kubernetes.io/part-of': 'eci-bridge' } } };
}

/**
 * The namespace, its `default` ServiceAccount and `kube-root-ca.crt`. A real cluster's controller-manager adds the
 * last two itself (give it `waitMs`); a bare apiserver does not, so what is still missing then is created here.
 */
export async function ensureNamespace(kube: KubeClient, name: string, opts: { waitMs?: number } = {}): Promise<void> {
  await applyManifests(kube, [namespace(name)]);
  const missing = (read: () => Promise<unknown>): Promise<boolean> =>
    read().then(
      () => false,
      () => true,
    );
  const deadline = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    const sa = await missing(() => kube.core.readNamespacedServiceAccount({ namespace: name, name: 'default' }));
    const cm = await missing(() => kube.core.readNamespacedConfigMap({ namespace: name, name: 'kube-root-ca.crt' }));
    if (!sa && !cm) return;
    if (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const add: Manifest[] = [];
    if (sa) add.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
    const ca = clusterEndpoint(kube).caPem;
    if (cm && ca) add.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: name }, data: { 'ca.crt': ca } });
    await applyManifests(kube, add);
    return;
  }
}
