/** A consumer of watchPods that checks each event is valid for its view (no duplicate ADDED, no unknown DELETED). */
import assert from 'node:assert/strict';
import type { Pod } from '../../../shared/domain/k8s.js';

export class PodView {
  private readonly pods = new Map<string, Pod>();
  readonly log: { type: string; name: string; rv: string }[] = [];

  apply(ev: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Pod }): void {
    const key = `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
    this.log.push({ type: ev.type, name: ev.object.metadata.name ?? '', rv: ev.object.metadata.resourceVersion ?? '' });
    if (ev.type === 'ADDED') assert.ok(!this.pods.has(key), `duplicate ADDED for ${key}`);
    else assert.ok(this.pods.has(key), `${ev.type} for ${key}, which the consumer never had`);
    if (ev.type === 'MODIFIED') {
      assert.notEqual(this.pods.get(key)?.metadata.resourceVersion, ev.object.metadata.resourceVersion, `duplicate MODIFIED for ${key}`);
    }
    if (ev.type === 'DELETED') this.pods.delete(key);
    else this.pods.set(key, ev.object);
  }

  get(key: string): Pod | undefined {
    return this.pods.get(key);
  }

  names(): string[] {
    return [...this.pods.keys()].sort();
  }

  /** Same keys and resourceVersions as the server's list. */
  matches(server: Pod[]): boolean {
    if (server.length !== this.pods.size) return false;
    return server.every(
      (p) => this.pods.get(`${p.metadata.namespace}/${p.metadata.name}`)?.metadata.resourceVersion === p.metadata.resourceVersion,
    );
  }
}
