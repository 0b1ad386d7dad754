/**
 * What one pod-sync instance (one FC instance, one process) last learned of each pod it read or wrote, as the
 * apiserver answered without managedFields, keyed by UID: an LRU of at most `max` pods (a few KiB each).
 *
 * A status tick names each pod with the resourceVersion the watcher sees (tick version 4). When this instance holds
 * the pod at exactly that version — it wrote the pod last, or read it since the last write — the tick converges
 * the pod from memory instead of reading it. The copy is as current as a read would have been when the watcher
 * sent the tick; in case it changed since, the copy is marked (`markCopy`) and the first status write to it is
 * conditional on its resourceVersion: a Conflict makes the tick read the pod and converge again
 * (StatusSync.one). So memory saves reads and never decides anything a read would have decided otherwise.
 */
import type { Pod } from '../domain/k8s.js';
import { lruSet } from '../domain/lru.js';
import { markCopy } from './context.js';

export const POD_MEMORY_MAX = 2048;

export class PodMemory {
  private readonly pods = new Map<string, Pod>();
  constructor(private readonly max = POD_MEMORY_MAX) {}

  /** Keeps a copy of `pod` (an answer of the apiserver: a read, or a write's result) as the newest known. */
  remember(pod: Pod): void {
    const uid = pod.metadata.uid;
    if (!uid || !pod.metadata.resourceVersion) return;
    // without managedFields (the largest part of most pods, nothing the bridge reads): a smaller copy, made faster
    const { managedFields: _m, ...metadata } = pod.metadata as Pod['metadata'] & { managedFields?: unknown };
    lruSet(this.pods, uid, structuredClone({ ...pod, metadata }), this.max);
  }

  /** A copy of the pod when it is held at exactly `resourceVersion` (marked: its first write is conditional). */
  recall(uid: string, resourceVersion: string): Pod | undefined {
    const held = this.pods.get(uid);
    if (held?.metadata.resourceVersion !== resourceVersion) return undefined;
    return markCopy(structuredClone(held));
  }

  forget(uid: string): void {
    this.pods.delete(uid);
  }

  get size(): number {
    return this.pods.size;
  }
}
