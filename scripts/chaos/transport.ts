/**
 * Transport faults between the watcher and the pod queue: a `QueueSender` wrapper that, by seeded chance per
 * message, drops it, corrupts it (the body is no longer a message: pod-sync must dead-letter it with a reason),
 * delays it by a few seconds so later messages overtake it (reordering), and sends it twice (duplicated delivery).
 * Each batch is also shuffled. Every injected fault is counted. The wrapper never fails on its own: a send fails
 * only when the queue behind it does.
 */
import type { OutgoingMessage, QueueSender } from '../../shared/ports/index.js';

export interface TransportFaults {
  /** probability a message is lost */
  dropRate: number;
  /** probability a message is sent twice */
  duplicateRate: number;
  /** probability a message is held back 1-`maxReorderDelaySeconds` s, so later ones overtake it */
  reorderRate: number;
  maxReorderDelaySeconds: number;
  /** probability a message's body is mangled (it cannot be parsed any more) */
  corruptRate: number;
  /**
   * Apply each enabled fault (rate > 0) to one of the first messages after `setFaults`, then by chance: a short run
   * then cannot miss a fault by bad luck.
   */
  atLeastOnce?: boolean;
}

type Kind = 'drop' | 'corrupt' | 'reorder' | 'duplicate';

export const NO_TRANSPORT_FAULTS: TransportFaults = { dropRate: 0, duplicateRate: 0, reorderRate: 0, maxReorderDelaySeconds: 3, corruptRate: 0 };

export interface TransportCounts {
  messages: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
}

export class FaultyQueueSender implements QueueSender {
  readonly #inner: QueueSender;
  readonly #random: () => number;
  #faults: TransportFaults;
  readonly #counts: TransportCounts = { messages: 0, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0 };
  /** kinds still to be forced once (atLeastOnce), in this order */
  #pending: Kind[] = [];

  constructor(inner: QueueSender, random: () => number, faults: Partial<TransportFaults> = {}) {
    this.#inner = inner;
    this.#random = random;
    this.#faults = { ...NO_TRANSPORT_FAULTS };
    this.setFaults(faults);
  }

  setFaults(faults: Partial<TransportFaults>): void {
    const f = { ...this.#faults, ...faults };
    this.#faults = f;
    const rates: [Kind, number][] = [
      ['drop', f.dropRate],
      ['corrupt', f.corruptRate],
      ['reorder', f.reorderRate],
      ['duplicate', f.duplicateRate],
    ];
    this.#pending = f.atLeastOnce ? rates.filter(([, r]) => r > 0).map(([k]) => k) : [];
  }

  counts(): TransportCounts {
    return { ...this.#counts };
  }

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const f = this.#faults;
    const rnd = this.#random;
    const out: OutgoingMessage[] = [];
    for (const m of messages) {
      this.#counts.messages++;
      // a forced fault applies alone to its message; otherwise each fault by chance
      const force = this.#pending.shift();
      const hit = (kind: Kind, rate: number): boolean => (force ? force === kind : rnd() < rate);
      if (hit('drop', f.dropRate)) {
        this.#counts.dropped++;
        continue;
      }
      if (hit('corrupt', f.corruptRate)) {
        this.#counts.corrupted++;
        out.push({ ...m, body: corrupt(m.body) });
        continue;
      }
      let sent: OutgoingMessage = m;
      if (hit('reorder', f.reorderRate)) {
        this.#counts.reordered++;
        const extra = 1 + Math.floor(rnd() * Math.max(1, f.maxReorderDelaySeconds));
        sent = { ...m, delaySeconds: (m.delaySeconds ?? 0) + extra };
      }
      out.push(sent);
      if (hit('duplicate', f.duplicateRate)) {
        this.#counts.duplicated++;
        // the copy arrives now or a little later: a redelivery is not always back to back
        out.push({ ...m, delaySeconds: (m.delaySeconds ?? 0) + Math.floor(rnd() * 2) });
      }
    }
    if (f.reorderRate > 0) shuffle(out, rnd);
    if (out.length > 0) await this.#inner.send(out);
  }
}

/** Cuts the body in half and appends garbage: neither base64 of JSON nor JSON any more. */
export function corrupt(body: string): string {
  return `${body.slice(0, Math.floor(body.length / 2))}~!chaos`;
}

function shuffle<T>(a: T[], rnd: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = a[i] as T;
    a[i] = a[j] as T;
    a[j] = t;
  }
}
