/**
 * gc's side of the leaks the reconcile function found on the bill (shared/domain/leaks.ts): each `reported` record is
 * acted on once. A group gc's orphan pass already deleted in this run is only marked; a group ECI no longer has, or
 * that finished (no longer billed), is `gone`; a group whose pod exists is `has-pod`; the others (older than the
 * orphan grace) are deleted. The record leaves `reported` in the same write, so no later run deletes it again.
 */
import { LEAKS_CONFIGMAP, type LeakRecord, readLeakRecord } from '../domain/leaks.js';
import { TAG_POD_UID } from '../domain/names.js';
import type { Cluster, ClusterStore } from '../ports/index.js';
import { FINISHED_GROUP, tagOf, type UseCaseDeps } from './context.js';
import { classify, describeError, isConflict, isNotFound } from './errors.js';

export interface LeakOutcome {
  groupId: string;
  state: LeakRecord['state'];
}

function hasStore(c: Cluster): c is Cluster & ClusterStore {
  return typeof (c as Partial<ClusterStore>).replaceConfigMap === 'function';
}

/**
 * Acts on the reported leaks. `deletedThisRun`: groups gc's orphan pass deleted in this run; `podUids`: the pods of
 * the virtual node. Returns what was done (empty when there is nothing to do or the cluster cannot store).
 */
export async function handleLeaks(
  deps: UseCaseDeps,
  namespace: string,
  deletedThisRun: ReadonlySet<string>,
  podUids: ReadonlySet<string>,
  report: { eciCalls: number },
): Promise<LeakOutcome[]> {
  const cluster = deps.cluster;
  if (!hasStore(cluster)) return [];
  let cm: Awaited<ReturnType<Cluster['getConfigMap']>>;
  try {
    cm = await cluster.getConfigMap(namespace, LEAKS_CONFIGMAP);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const pending = Object.entries(cm.data ?? {}).flatMap(([id, text]) => {
    const rec = readLeakRecord(text);
    return rec?.state === 'reported' ? [{ id, rec }] : [];
  });
  if (!pending.length) return [];
  const now = deps.clock.now();
  const found = new Map((await deps.eci.describe(pending.map((p) => p.id))).map((g) => [g.ContainerGroupId, g]));
  report.eciCalls += Math.ceil(pending.length / 20);
  const out: LeakOutcome[] = [];
  for (const { id } of pending) {
    const g = found.get(id);
    let state: LeakRecord['state'];
    if (deletedThisRun.has(id)) state = 'deleted-as-orphan';
    else if (!g || FINISHED_GROUP.has(g.Status) || g.Status === 'Terminating') state = 'gone';
    else if (podUids.has(tagOf(g, TAG_POD_UID) ?? '\u0000')) state = 'has-pod';
    else {
      const created = Date.parse(g.CreationTime ?? '');
      if (Number.isFinite(created) && now - created < deps.settings.orphanGraceSeconds * 1000) continue; // next run
      try {
        await deps.eci.delete(id);
        report.eciCalls++;
        state = 'deleted';
        deps.logger.info({ group: id }, `gc: deleted container group ${id}, a leak found on the bill`);
      } catch (err) {
        deps.logger.warn({ group: id, err: `${classify(err)}: ${describeError(err)}` }, 'gc: deleting a leaked group failed');
        continue; // stays reported: the next run tries again
      }
    }
    out.push({ groupId: id, state });
  }
  if (!out.length) return out;
  // record the outcomes (re-read on conflict: the reconcile function may have added records meanwhile)
  for (let attempt = 0; attempt < 5; attempt++) {
    const data = { ...(cm.data ?? {}) };
    for (const o of out) {
      const rec = readLeakRecord(data[o.groupId] ?? '');
      if (rec) data[o.groupId] = JSON.stringify({ ...rec, state: o.state, at: new Date(now).toISOString() } satisfies LeakRecord);
    }
    try {
      await cluster.replaceConfigMap(namespace, { metadata: { ...cm.metadata }, data });
      return out;
    } catch (err) {
      if (!isConflict(err)) throw err;
      cm = await cluster.getConfigMap(namespace, LEAKS_CONFIGMAP);
    }
  }
  deps.logger.warn({ leaks: out.length }, 'gc: could not record the leak outcomes (conflicts); the deletions are idempotent');
  return out;
}
