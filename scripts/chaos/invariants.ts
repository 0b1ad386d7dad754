/**
 * The chaos suite's invariants, as one pure function over what the harness observed (pods straight from the
 * apiserver, container groups straight from the ECI emulator, the dead-letter queue, Warning Events):
 *
 * - at most one container group ever created per pod, over the whole run: every create the ECI emulator accepted
 *   (its `creates()` record, by pod-UID tag and ClientToken, groups deleted since included), so a duplicate that
 *   existed for a moment and was cleaned up by pod-sync or gc still counts. Extra groups are `duplicates`. The
 *   spot → on-demand fallback variant (ClientToken `<pod uid>-f1`, shared/usecases/podSync.ts capacityVariants) is
 *   counted apart as `fallbacks`: it may create the pod's one group only when the spot create (ClientToken = pod
 *   UID) created none, and at most once;
 * - a running pod without a group is `lost` (a Succeeded pod may have none: ECI forgets finished groups), and so
 *   is a pod that disappeared although nobody deleted it;
 * - no group is left whose pod is gone (`orphans`);
 * - every pod's status matches its group: the phase (and Ready) the domain's groupToPodStatus derives from the
 *   group (`mismatched`); a pod the bridge failed while its group is fine is mismatched too;
 * - no deletion is left unfinished (`terminating`);
 * - every dead-lettered message carries a reason (`deadLettersWithoutReason`);
 * - every pod that has not converged has a Warning Event saying why (`stuckWithoutEvent`).
 *
 * Each problem is also one line in `violations`, naming the pod or group.
 */
import type { EciContainerGroup, EciKeyValue } from '../../shared/domain/eci.js';
import type { Pod } from '../../shared/domain/k8s.js';
import { decodeBody } from '../../shared/domain/messages-codec.js';
import { TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID } from '../../shared/domain/names.js';
import { groupToPodStatus } from '../../shared/domain/status.js';

export interface Observation {
  /** every pod of the campaign that still exists */
  pods: readonly Pod[];
  /** every container group of the bridge's cluster and virtual node */
  groups: readonly EciContainerGroup[];
  /** every group ECI ever created for the bridge's cluster and virtual node (the emulator's create record) */
  creates: readonly CreatedGroup[];
  /** dead-letter queue bodies */
  deadLetters: readonly string[];
  /** pods that are gone although nobody deleted them (`namespace/name`) */
  vanished?: readonly string[];
  /** Warning Event reasons by involved pod UID */
  warnings: ReadonlyMap<string, readonly string[]>;
  nowIso: string;
}

export interface CreatedGroup {
  id: string;
  clientToken?: string;
  tags: readonly EciKeyValue[];
}

export interface Verdict {
  /** groups created beyond one per pod over the whole run (transient ones included) */
  duplicates: number;
  /** pods whose one group the spot → on-demand fallback variant created */
  fallbacks: number;
  orphans: number;
  lost: number;
  mismatched: number;
  terminating: number;
  deadLetters: number;
  deadLettersWithoutReason: number;
  stuckWithoutEvent: number;
  /** everything converged (dead letters and Events aside) */
  converged: boolean;
  violations: string[];
}

const FINISHED = new Set(['Succeeded', 'Failed', 'Expired', 'ScheduleFailed', 'StartingFailed', 'WatingForDel']);

function tag(g: { Tags?: readonly EciKeyValue[] }, key: string): string | undefined {
  return g.Tags?.find((t) => t.Key === key)?.Value;
}

/** The fallback variant's ClientToken for a pod (podSync.ts capacityVariants). */
export function fallbackToken(uid: string): string {
  return `${uid}-f1`;
}

/** Groups ever created per pod: extra ones are duplicates, fallback-variant ones are counted apart. */
function checkCreates(o: Observation, v: Verdict): void {
  const byUid = new Map<string, CreatedGroup[]>();
  for (const c of o.creates) {
    const uid = tag({ Tags: c.tags }, TAG_POD_UID) ?? '';
    byUid.set(uid, [...(byUid.get(uid) ?? []), c]);
  }
  for (const [uid, created] of byUid) {
    const fallback = created.filter((c) => c.clientToken === fallbackToken(uid));
    const first = created.filter((c) => c.clientToken === uid);
    const other = created.filter((c) => c.clientToken !== uid && c.clientToken !== fallbackToken(uid));
    if (fallback.length > 0) v.fallbacks++;
    const extra = created.length - 1;
    const who = `${tag({ Tags: created[0]?.tags }, TAG_NAMESPACE) ?? '?'}/${tag({ Tags: created[0]?.tags }, TAG_POD_NAME) ?? '?'}`;
    const list = created.map((c) => `${c.id} token ${c.clientToken ?? '(none)'}`).join(', ');
    if (extra > 0) {
      v.duplicates += extra;
      v.violations.push(
        `duplicate: ${who} uid ${uid || '(none)'} had ${created.length} container groups created over the run ` +
          `(${first.length} with its UID as ClientToken, ${fallback.length} by the fallback variant, ${other.length} other): ${list}`,
      );
    } else if (other.length > 0) {
      v.duplicates++;
      v.violations.push(`duplicate: ${who} uid ${uid || '(none)'} got a group created with a ClientToken that is neither its UID nor the fallback's: ${list}`);
    }
  }
}

function key(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

function ready(status: Pod['status']): string {
  return status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'absent';
}

/** Does the dead letter carry pod-sync's wrapper with a non-empty reason? */
export function deadLetterReason(body: string): string | undefined {
  try {
    const v = decodeBody(body) as { deadLetter?: { reason?: unknown } } | null;
    const r = v?.deadLetter?.reason;
    return typeof r === 'string' && r.trim() !== '' ? r : undefined;
  } catch {
    return undefined;
  }
}

export function checkInvariants(o: Observation): Verdict {
  const v: Verdict = {
    duplicates: 0,
    fallbacks: 0,
    orphans: 0,
    lost: 0,
    mismatched: 0,
    terminating: 0,
    deadLetters: o.deadLetters.length,
    deadLettersWithoutReason: 0,
    stuckWithoutEvent: 0,
    converged: false,
    violations: [],
  };
  const byUid = new Map<string, EciContainerGroup[]>();
  for (const g of o.groups) {
    const uid = tag(g, TAG_POD_UID) ?? '';
    const list = byUid.get(uid) ?? [];
    list.push(g);
    byUid.set(uid, list);
  }
  const live = new Set(o.pods.map((p) => p.metadata.uid ?? ''));
  const unconverged: Pod[] = [];

  for (const pod of o.pods) {
    const uid = pod.metadata.uid ?? '';
    const groups = byUid.get(uid) ?? [];
    const phase = pod.status?.phase ?? 'Pending';
    const why = [pod.status?.reason, pod.status?.message].filter(Boolean).join(': ');
    // two groups at once were both created: checkCreates counts them
    let ok = groups.length <= 1;
    if (pod.metadata.deletionTimestamp) {
      v.terminating++;
      v.violations.push(`terminating: ${key(pod)} was deleted at ${pod.metadata.deletionTimestamp} and still exists (${groups.length} group(s))`);
      unconverged.push(pod);
      continue;
    }
    const group = groups.find((g) => !FINISHED.has(g.Status)) ?? groups[0];
    if (!group) {
      if (phase === 'Succeeded') continue;
      if (phase === 'Failed') {
        v.mismatched++;
        v.violations.push(`mismatch: ${key(pod)} is Failed without a container group (${why || 'no reason'})`);
      } else {
        v.lost++;
        v.violations.push(`lost: ${key(pod)} is ${phase} and has no container group${why ? ` (${why})` : ''}`);
      }
      unconverged.push(pod);
      continue;
    }
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    // A terminal pod is never rewritten, so compare it with what its group alone implies.
    const expected = groupToPodStatus(group, terminal ? { ...pod, status: {} } : pod, o.nowIso);
    const expectedReady = terminal ? undefined : ready(expected);
    if (expected.phase !== phase || (expectedReady !== undefined && expectedReady !== ready(pod.status))) {
      v.mismatched++;
      v.violations.push(
        `mismatch: ${key(pod)} is ${phase} (Ready ${ready(pod.status)}) but its group ${group.ContainerGroupId} is ${group.Status}, ` +
          `which means ${expected.phase}${expectedReady ? ` (Ready ${expectedReady})` : ''}${why ? `; pod says ${why}` : ''}`,
      );
      ok = false;
    }
    if (!ok) unconverged.push(pod);
  }

  checkCreates(o, v);

  for (const k of o.vanished ?? []) {
    v.lost++;
    v.violations.push(`lost: ${k} disappeared although nobody deleted it`);
  }

  for (const [uid, groups] of byUid) {
    if (live.has(uid)) continue;
    for (const g of groups) {
      v.orphans++;
      v.violations.push(
        `orphan: group ${g.ContainerGroupId} (${g.Status}) of ${tag(g, TAG_NAMESPACE) ?? '?'}/${tag(g, TAG_POD_NAME) ?? '?'} uid ${uid || '(none)'} outlived its pod`,
      );
    }
  }

  for (const [i, body] of o.deadLetters.entries()) {
    if (deadLetterReason(body) !== undefined) continue;
    v.deadLettersWithoutReason++;
    v.violations.push(`dead letter #${i + 1} carries no reason: ${body.slice(0, 80)}`);
  }

  for (const pod of unconverged) {
    if ((o.warnings.get(pod.metadata.uid ?? '') ?? []).length > 0) continue;
    v.stuckWithoutEvent++;
    v.violations.push(`stuck without an Event: ${key(pod)} has not converged and no Warning Event says why`);
  }

  v.converged = v.duplicates + v.orphans + v.lost + v.mismatched + v.terminating === 0;
  return v;
}
