import type { Clock } from '../../../../shared/ports/index.js';

/** A clock that moves only when told; sleeps resolve when `advance` passes their time. */
export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; resolve: () => void }[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const t = { at: this.#now + ms, resolve };
      this.#timers.push(t);
      signal?.addEventListener('abort', () => {
        this.#timers = this.#timers.filter((x) => x !== t);
        resolve();
      });
    });
  }

  advance(ms: number): void {
    this.#now += ms;
    const due = this.#timers.filter((t) => t.at <= this.#now);
    this.#timers = this.#timers.filter((t) => t.at > this.#now);
    for (const t of due) t.resolve();
  }
}
