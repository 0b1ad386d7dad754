/**
 * MNS queue semantics as an in-memory model (MNS API reference, docs/architecture.md#sources), shared by the MNS emulator and the embedded
 * queue so both behave the same: delay, visibility timeout, a new receipt handle on every receive (older handles
 * stop working), DequeueCount, priority (1 highest … 16), retention, and a dead-letter policy (a message received
 * `maxReceiveCount` times moves to the dead-letter target instead of being received again).
 * No I/O and no timers: time and ids are injected, so callers (and tests) own the clock. Waiting (long polling) is
 * the caller's business.
 */

export const MNS_LIMITS = {
  maxBatch: 16,
  maxMessageBytes: 65536,
  maxWaitSeconds: 30,
  minPriority: 1,
  maxPriority: 16,
  defaultPriority: 8,
  maxDelaySeconds: 604800,
  minVisibilityTimeout: 1,
  maxVisibilityTimeout: 43200,
} as const;

export interface QueueSettings {
  delaySeconds: number;
  visibilityTimeout: number;
  maximumMessageSize: number;
  messageRetentionPeriod: number;
  pollingWaitSeconds: number;
  /** DLQ policy: a message that has been received this many times moves to the dead letter on its next turn. */
  maxReceiveCount?: number;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  delaySeconds: 0,
  visibilityTimeout: 30,
  maximumMessageSize: MNS_LIMITS.maxMessageBytes,
  messageRetentionPeriod: 345600,
  pollingWaitSeconds: 0,
};

export interface StoredMessage {
  messageId: string;
  body: string;
  /** upper-case hex MD5 of the body as sent (computed by the caller) */
  bodyMd5: string;
  priority: number;
  /** epoch ms */
  enqueueTime: number;
  /** epoch ms; 0 until the first receive */
  firstDequeueTime: number;
  dequeueCount: number;
  /** epoch ms at which the message becomes receivable */
  visibleAt: number;
  receiptHandle?: string;
}

/** A message as a receive returns it (a snapshot). */
export interface MessageView {
  messageId: string;
  body: string;
  bodyMd5: string;
  priority: number;
  enqueueTime: number;
  firstDequeueTime: number;
  dequeueCount: number;
  nextVisibleTime: number;
  /** absent on peek */
  receiptHandle?: string;
}

export interface QueueModelDeps {
  now(): number;
  /** 32 upper-case hex characters */
  newMessageId(): string;
  /** an opaque handle, unique, safe in a URL query without encoding */
  newReceiptHandle(): string;
  md5Hex(body: string): string;
  /** called with a message that exhausted `maxReceiveCount` (removed from this queue) */
  onDeadLetter?(msg: StoredMessage): void;
}

export type HandleResult<T> = { ok: true; value: T } | { ok: false; reason: 'invalid-handle' };

export interface QueueCounts {
  active: number;
  inactive: number;
  delayed: number;
}

function view(m: StoredMessage, withHandle: boolean): MessageView {
  const v: MessageView = {
    messageId: m.messageId,
    body: m.body,
    bodyMd5: m.bodyMd5,
    priority: m.priority,
    enqueueTime: m.enqueueTime,
    firstDequeueTime: m.firstDequeueTime,
    dequeueCount: m.dequeueCount,
    nextVisibleTime: m.visibleAt,
  };
  if (withHandle && m.receiptHandle) v.receiptHandle = m.receiptHandle;
  return v;
}

export class QueueModel {
  readonly name: string;
  settings: QueueSettings;
  /** one insertion-ordered map per priority (index 0 = priority 1) */
  readonly #buckets: Map<string, StoredMessage>[] = [];
  readonly #handles = new Map<string, StoredMessage>();
  readonly #deps: QueueModelDeps;
  #size = 0;

  constructor(name: string, settings: QueueSettings, deps: QueueModelDeps) {
    this.name = name;
    this.settings = settings;
    this.#deps = deps;
    for (let p = MNS_LIMITS.minPriority; p <= MNS_LIMITS.maxPriority; p++) this.#buckets.push(new Map());
  }

  get size(): number {
    return this.#size;
  }

  /** Enqueues a message. A delayed message gets a receipt handle (valid until it becomes visible), as in MNS. */
  send(input: { body: string; delaySeconds?: number; priority?: number }): MessageView {
    const now = this.#deps.now();
    const delay = input.delaySeconds ?? this.settings.delaySeconds;
    const m: StoredMessage = {
      messageId: this.#deps.newMessageId(),
      body: input.body,
      bodyMd5: this.#deps.md5Hex(input.body),
      priority: input.priority ?? MNS_LIMITS.defaultPriority,
      enqueueTime: now,
      firstDequeueTime: 0,
      dequeueCount: 0,
      visibleAt: now + delay * 1000,
    };
    if (delay > 0) this.#mintHandle(m);
    this.#insert(m);
    return view(m, true);
  }

  /** Takes a message from another queue (dead-lettering): same id, body, priority and enqueue time. */
  adopt(msg: StoredMessage): void {
    const m: StoredMessage = {
      messageId: msg.messageId,
      body: msg.body,
      bodyMd5: msg.bodyMd5,
      priority: msg.priority,
      enqueueTime: msg.enqueueTime,
      firstDequeueTime: 0,
      dequeueCount: 0,
      visibleAt: this.#deps.now(),
    };
    this.#insert(m);
  }

  /** Receives up to `max` visible messages: each gets DequeueCount + 1, a new receipt handle, and hides until now + visibility. */
  receive(max: number): MessageView[] {
    const now = this.#deps.now();
    const out: MessageView[] = [];
    const limit = this.settings.maxReceiveCount;
    for (const bucket of this.#buckets) {
      if (out.length >= max) break;
      const taken: StoredMessage[] = [];
      for (const m of bucket.values()) {
        if (out.length + taken.length >= max) break;
        if (this.#expired(m, now)) {
          this.#remove(m);
          continue;
        }
        if (m.visibleAt > now) continue;
        if (limit !== undefined && m.dequeueCount >= limit) {
          this.#remove(m);
          this.#deps.onDeadLetter?.(m);
          continue;
        }
        taken.push(m);
      }
      for (const m of taken) {
        m.dequeueCount++;
        if (m.firstDequeueTime === 0) m.firstDequeueTime = now;
        m.visibleAt = now + this.settings.visibilityTimeout * 1000;
        this.#mintHandle(m);
        // move to the end so the next scan meets visible messages first
        bucket.delete(m.messageId);
        bucket.set(m.messageId, m);
        out.push(view(m, true));
      }
    }
    return out;
  }

  /** Up to `max` visible messages without changing anything (no receipt handle). */
  peek(max: number): MessageView[] {
    const now = this.#deps.now();
    const out: MessageView[] = [];
    for (const bucket of this.#buckets) {
      for (const m of bucket.values()) {
        if (out.length >= max) return out;
        if (m.visibleAt <= now && !this.#expired(m, now)) out.push(view(m, false));
      }
    }
    return out;
  }

  /** Deletes by receipt handle. A superseded, expired (past NextVisibleTime) or unknown handle is invalid. */
  delete(handle: string): HandleResult<void> {
    const m = this.#live(handle);
    if (!m) return { ok: false, reason: 'invalid-handle' };
    this.#remove(m);
    return { ok: true, value: undefined };
  }

  /** Hides the message for `seconds` from now; the old handle stops working and a new one is returned. */
  changeVisibility(handle: string, seconds: number): HandleResult<{ receiptHandle: string; nextVisibleTime: number }> {
    const m = this.#live(handle);
    if (!m) return { ok: false, reason: 'invalid-handle' };
    m.visibleAt = this.#deps.now() + seconds * 1000;
    const receiptHandle = this.#mintHandle(m);
    return { ok: true, value: { receiptHandle, nextVisibleTime: m.visibleAt } };
  }

  /** Moves messages that exhausted the DLQ policy and drops expired ones, then counts. */
  counts(): QueueCounts {
    const now = this.#deps.now();
    const c: QueueCounts = { active: 0, inactive: 0, delayed: 0 };
    const limit = this.settings.maxReceiveCount;
    for (const bucket of this.#buckets) {
      for (const m of [...bucket.values()]) {
        if (this.#expired(m, now)) {
          this.#remove(m);
        } else if (m.visibleAt > now) {
          if (m.dequeueCount === 0) c.delayed++;
          else c.inactive++;
        } else if (limit !== undefined && m.dequeueCount >= limit) {
          this.#remove(m);
          this.#deps.onDeadLetter?.(m);
        } else c.active++;
      }
    }
    return c;
  }

  /** Every stored message, for inspection (a dead-letter queue, tests). */
  all(): MessageView[] {
    return this.#buckets.flatMap((b) => [...b.values()].map((m) => view(m, false)));
  }

  clear(): void {
    for (const b of this.#buckets) b.clear();
    this.#handles.clear();
    this.#size = 0;
  }

  #live(handle: string): StoredMessage | undefined {
    const m = this.#handles.get(handle);
    if (!m || m.receiptHandle !== handle) return undefined;
    if (m.visibleAt <= this.#deps.now()) {
      this.#handles.delete(handle);
      m.receiptHandle = undefined;
      return undefined;
    }
    return m;
  }

  #mintHandle(m: StoredMessage): string {
    if (m.receiptHandle) this.#handles.delete(m.receiptHandle);
    const h = this.#deps.newReceiptHandle();
    m.receiptHandle = h;
    this.#handles.set(h, m);
    return h;
  }

  #expired(m: StoredMessage, now: number): boolean {
    return m.enqueueTime + this.settings.messageRetentionPeriod * 1000 <= now;
  }

  #bucket(priority: number): Map<string, StoredMessage> {
    const b = this.#buckets[priority - 1];
    if (!b) throw new RangeError(`priority ${priority} out of range`);
    return b;
  }

  #insert(m: StoredMessage): void {
    this.#bucket(m.priority).set(m.messageId, m);
    this.#size++;
  }

  #remove(m: StoredMessage): void {
    if (this.#bucket(m.priority).delete(m.messageId)) this.#size--;
    if (m.receiptHandle) this.#handles.delete(m.receiptHandle);
    m.receiptHandle = undefined;
  }
}
