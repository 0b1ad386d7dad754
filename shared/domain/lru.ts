/** An insertion-ordered Map used as an LRU: the one insert the bounded caches share. */

/** Sets `key` as the newest entry of `map` (Map order is the LRU order) and drops the oldest beyond `max`. */
export function lruSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}
