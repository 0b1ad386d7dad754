/**
 * The emulator's container-group store: every group by id in creation order, indexes by name and by tag (for
 * DescribeContainerGroups' filters), a wake-up heap so `sweep` advances only the groups with a lifecycle step due,
 * and the retention of finished groups. No validation and no wire formats: the service (service.ts) does those.
 */
import type { SimGroup as Group } from './lifecycle.js';

/** A binary min-heap of (time, group): which groups have a lifecycle step due. Stale entries are skipped. */
class WakeHeap {
  private readonly items: { at: number; g: Group }[] = [];

  get size(): number {
    return this.items.length;
  }

  push(at: number, g: Group): void {
    const a = this.items;
    a.push({ at, g });
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if ((a[up] as { at: number }).at <= at) break;
      [a[i], a[up]] = [a[up] as { at: number; g: Group }, a[i] as { at: number; g: Group }];
      i = up;
    }
  }

  peekAt(): number | undefined {
    return this.items[0]?.at;
  }

  pop(): { at: number; g: Group } | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && (a[l] as { at: number }).at < (a[m] as { at: number }).at) m = l;
        if (r < a.length && (a[r] as { at: number }).at < (a[m] as { at: number }).at) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as { at: number; g: Group }, a[i] as { at: number; g: Group }];
        i = m;
      }
    }
    return top;
  }
}

const tagKey = (key: string, value?: string): string => (value === undefined ? `k\u0000${key}` : `kv\u0000${key}\u0000${value}`);

export class GroupStore {
  /** Every group, in creation order (= `seq` order: a group is inserted once, at creation). */
  readonly groups = new Map<string, Group>();
  /** Groups by tag key and by tag key + value, each in creation order (DescribeContainerGroups' Tag filter). */
  private readonly byTag = new Map<string, Set<Group>>();
  /** Groups by name, in creation order. */
  private readonly byName = new Map<string, Set<Group>>();
  /** When each group's next lifecycle step is due; `sweep` advances only the groups whose time has come. */
  private readonly wake = new WakeHeap();
  private readonly wakeAt = new Map<Group, number>();
  /** Finished groups, oldest first (by finishedAt, then newest creation first): the retention order. */
  private readonly finished: Group[] = [];
  private readonly finishedSet = new Set<Group>();

  /**
   * Advances every group that has a step due (the others are unchanged by advancing), drops deleted ones,
   * applies the retention of finished groups: beyond the latest `keepLatestFinished`, those finished more
   * than `retainFinishedMs` ago go.
   */
  sweep(now: number, keepLatestFinished: number, retainFinishedMs: number): void {
    for (let at = this.wake.peekAt(); at !== undefined && at <= now; at = this.wake.peekAt()) {
      const { g } = this.wake.pop() as { at: number; g: Group };
      if (this.wakeAt.get(g) !== at) continue; // stale: rescheduled or dropped since
      this.wakeAt.delete(g);
      g.advance(now);
      this.settle(g);
    }
    const keep = keepLatestFinished;
    while (this.finished.length > keep) {
      const oldest = this.finished[0] as Group;
      if ((oldest.finishedAt ?? 0) + retainFinishedMs > now) break;
      this.drop(oldest);
    }
  }

  /** After a group changed: drop it if gone, file it as finished, schedule its next step. */
  settle(g: Group): void {
    if (g.gone) {
      this.drop(g);
      return;
    }
    if (g.finishedAt !== undefined && !this.finishedSet.has(g)) {
      this.finishedSet.add(g);
      // oldest first; among equal times the newest creation first (it is the first to go)
      const f = this.finished;
      let i = f.length;
      while (i > 0) {
        const o = f[i - 1] as Group;
        const oa = o.finishedAt ?? 0;
        const ga = g.finishedAt;
        if (oa < ga || (oa === ga && o.init.seq > g.init.seq)) break;
        i--;
      }
      f.splice(i, 0, g);
    }
    const next = g.nextAt;
    if (next === undefined) this.wakeAt.delete(g);
    else if (this.wakeAt.get(g) !== next) {
      this.wakeAt.set(g, next);
      this.wake.push(next, g);
    }
  }

  add(g: Group): void {
    this.groups.set(g.id, g);
    const index = (m: Map<string, Set<Group>>, k: string) => {
      let set = m.get(k);
      if (!set) {
        set = new Set();
        m.set(k, set);
      }
      set.add(g);
    };
    index(this.byName, g.init.name);
    for (const t of g.init.tags) {
      index(this.byTag, tagKey(t.Key));
      index(this.byTag, tagKey(t.Key, t.Value));
    }
    this.settle(g);
  }

  drop(g: Group): void {
    if (this.groups.get(g.id) !== g) return;
    this.groups.delete(g.id);
    const unindex = (m: Map<string, Set<Group>>, k: string) => {
      const set = m.get(k);
      if (!set) return;
      set.delete(g);
      if (set.size === 0) m.delete(k);
    };
    unindex(this.byName, g.init.name);
    for (const t of g.init.tags) {
      unindex(this.byTag, tagKey(t.Key));
      unindex(this.byTag, tagKey(t.Key, t.Value));
    }
    this.wakeAt.delete(g);
    if (this.finishedSet.delete(g)) this.finished.splice(this.finished.indexOf(g), 1);
  }

  /**
   * The smallest index that must contain every group named `name` (when given) carrying all of `tags` (a tag
   * without a value matches any value): a superset of the matches, in creation order. The caller filters.
   */
  candidates(name: string | undefined, tags: readonly { Key: string; Value: string | undefined }[]): Iterable<Group> {
    let candidates: Iterable<Group> = this.groups.values();
    let size = this.groups.size;
    const narrow = (set: Set<Group> | undefined) => {
      const n = set?.size ?? 0;
      if (n < size) {
        candidates = set ?? [];
        size = n;
      }
    };
    if (name) narrow(this.byName.get(name));
    for (const t of tags) narrow(this.byTag.get(tagKey(t.Key, t.Value)));
    return candidates;
  }
}
