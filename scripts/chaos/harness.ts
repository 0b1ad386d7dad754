/**
 * The chaos campaign's view of the cluster and of ECI, apart from the bridge: the harness talks to the apiserver
 * directly (not through the fault proxy), remembers the pods it created and deleted, and reads the emulator's
 * groups — those live now, and every group ever created — for this bridge's cluster and virtual node.
 */
import type { KubeCluster } from '../../shared/adapters/kube/index.js';
import { NotFoundError } from '../../shared/adapters/kube/index.js';
import type { EciContainerGroup } from '../../shared/domain/eci.js';
import { TAG_CLUSTER, TAG_VNODE } from '../../shared/domain/names.js';
import { asError } from '../../shared/errors.js';
import type { SandboxEnvironment } from '../sandbox/environment.js';
import type { CreatedGroup } from './invariants.js';
import { CHAOS_NAMESPACE, OTHER_VSWITCH, type PlannedPod } from './workload.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retries a harness call while the apiserver is unreachable (its restart), up to `ms`. */
export async function persist<T>(what: string, fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${asError(err).message}`, { cause: err });
      await sleep(Math.min(1000, 100 * 2 ** i));
    }
  }
}

export class ChaosHarness {
  /** the pods the workload created, by name */
  readonly created = new Map<string, { uid: string; plan: PlannedPod }>();
  readonly deletedByHarness = new Set<string>();
  /** groups placed in the other zone because the first was sold out (ECI's own multi-zone fallback) */
  readonly fellBack = new Set<string>();
  /** when the faults were lifted (fallbacks are counted only before) */
  liftedAt: number | undefined;

  constructor(
    private readonly env: SandboxEnvironment,
    /** the apiserver without the fault proxy */
    readonly direct: KubeCluster,
    private readonly clusterName: string,
    readonly vnode: string,
  ) {}

  #mine(tags: readonly { Key: string; Value?: string }[] | undefined): boolean {
    return !!tags?.some((t) => t.Key === TAG_CLUSTER && t.Value === this.clusterName) && !!tags?.some((t) => t.Key === TAG_VNODE && t.Value === this.vnode);
  }

  /** This bridge's groups now; notes the fallbacks to the other zone while the faults are on. */
  snapshotGroups(): EciContainerGroup[] {
    // the emulator answers DescribeContainerGroups' wire shape, which is what EciContainerGroup types
    const all = this.env.emulator.groups() as unknown as EciContainerGroup[];
    const mine = all.filter((g) => this.#mine(g.Tags));
    for (const g of mine) {
      if (g.VSwitchId === OTHER_VSWITCH && !this.fellBack.has(g.ContainerGroupId) && this.liftedAt === undefined) this.fellBack.add(g.ContainerGroupId);
    }
    return mine;
  }

  /** Every group ECI ever created for this bridge, deleted ones included: the "created once" invariant. */
  createdGroups(): CreatedGroup[] {
    return this.env.emulator.creates().filter((c) => this.#mine(c.tags));
  }

  /** Deletes a pod the workload created (once; its UID as precondition; already gone is fine). */
  async remove(name: string): Promise<void> {
    const c = this.created.get(name);
    if (!c || this.deletedByHarness.has(name)) return;
    this.deletedByHarness.add(name);
    await persist(`delete ${name}`, () =>
      this.direct.deletePod(CHAOS_NAMESPACE, name, { uid: c.uid, gracePeriodSeconds: 5 }).catch((err: unknown) => {
        if (err instanceof NotFoundError) return;
        throw err;
      }),
    );
  }

  /** Names of the chaos pods Running now. */
  async runningNow(): Promise<Set<string>> {
    const pods = await persist('list pods', () => this.direct.listPods({ namespace: CHAOS_NAMESPACE }));
    return new Set(pods.filter((p) => p.status?.phase === 'Running').map((p) => p.metadata.name ?? ''));
  }
}
