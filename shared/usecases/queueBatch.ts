/**
 * One delivery of the pod queue (an EventBridge batch, or the embedded loop's batch): every message on its own.
 * - A malformed message goes to the dead-letter queue with its reason (logged, counted), never into a retry loop.
 * - Nudges: duplicates within the batch are merged (one convergence per pod UID, the highest attempt kept);
 *   each pod is converged on its own, a failing pod is retried on its own (pod-sync sends a delayed re-nudge).
 * - Status ticks: all ticks of the batch are merged into one, so their groups are described together in batches;
 *   the tick runs at the same time as the nudges, never behind them.
 * The batch always resolves: EventBridge retries whole batches, which would repeat the good messages.
 */
import { encodeBody } from '../domain/messages-codec.js';
import { MAX_MESSAGE_BYTES, MESSAGE_VERSION, type PodNudge, type QueueMessage, type StatusTick } from '../domain/messages.js';
import type { Logger, QueueSender } from '../ports/index.js';
import { describeError } from './errors.js';
import type { PodSync, SyncResult } from './podSync.js';
import type { StatusReport, StatusSync } from './statusSync.js';

export type QueueItem =
  | { ok: true; messageId: string; message: QueueMessage }
  | { ok: false; messageId: string; reason: string; detail: string; body: string };

export interface DeadLetterBody {
  deadLetter: { reason: string; detail: string; messageId: string; at: string; source: string };
  /** the message body exactly as received */
  body: string;
}

export interface BatchReport {
  messages: number;
  nudges: number;
  ticks: number;
  deadLettered: number;
  outcomes: Record<string, number>;
  status?: StatusReport;
  /** an ECI failure seen in this batch, for the heartbeat */
  eciError?: string;
}

export interface QueueBatchDeps {
  podSync: PodSync;
  statusSync: StatusSync;
  deadLetter: QueueSender;
  logger: Logger;
  now: () => number;
  /** pods converged in parallel */
  concurrency?: number;
}

export async function processQueueBatch(items: readonly QueueItem[], deps: QueueBatchDeps): Promise<BatchReport> {
  const report: BatchReport = { messages: items.length, nudges: 0, ticks: 0, deadLettered: 0, outcomes: {} };
  const nudges = new Map<string, PodNudge>();
  const ticks: StatusTick[] = [];
  const dead: QueueItem[] = [];
  for (const item of items) {
    if (!item.ok) {
      dead.push(item);
      continue;
    }
    const m = item.message;
    if (m.kind === 'pod') {
      const prev = nudges.get(m.uid);
      if (!prev || (m.attempt ?? 0) >= (prev.attempt ?? 0)) nudges.set(m.uid, m);
    } else ticks.push(m);
  }

  if (dead.length > 0) await deadLetter(dead, deps, report);

  report.nudges = nudges.size;
  // The status tick runs beside the nudges, not after them: it carries the status of pods that already run, and a
  // batch of create nudges (seconds of ECI calls) must not hold it back.
  await Promise.all([convergeNudges([...nudges.values()], deps, report), statusTick(ticks, deps, report)]);
  return report;
}

async function convergeNudges(queue: PodNudge[], deps: QueueBatchDeps, report: BatchReport): Promise<void> {
  // one read of the cluster's Services per namespace for the whole batch (the service env of every create)
  const podSync = queue.length > 0 ? deps.podSync.forBatch() : deps.podSync;
  const workers = Array.from({ length: Math.min(deps.concurrency ?? 8, queue.length) }, async () => {
    for (let n = queue.shift(); n; n = queue.shift()) {
      let res: SyncResult;
      try {
        res = await podSync.handle(n);
      } catch (err) {
        // pod-sync handles its own failures; this is a bug or a queue outage while re-nudging
        deps.logger.error({ pod: `${n.namespace}/${n.name}`, err: describeError(err) }, 'pod sync crashed');
        res = { outcome: 'retry' };
      }
      report.outcomes[res.outcome] = (report.outcomes[res.outcome] ?? 0) + 1;
      if (res.eciError) report.eciError = res.eciError;
    }
  });
  await Promise.all(workers);
}

async function statusTick(ticks: StatusTick[], deps: QueueBatchDeps, report: BatchReport): Promise<void> {
  if (ticks.length === 0) return;
  report.ticks = ticks.length;
  try {
    report.status = await deps.statusSync.tick(mergeTicks(ticks));
    if (report.status.eciError) report.eciError = report.status.eciError;
  } catch (err) {
    deps.logger.error({ err: describeError(err) }, 'status tick failed');
  }
}

/** All pods of several ticks, once each (the latest tick's entry wins), and the widest steady window. */
export function mergeTicks(ticks: readonly StatusTick[]): StatusTick {
  const pods = new Map<string, StatusTick['pods'][number]>();
  for (const t of ticks) for (const p of t.pods) pods.set(p.uid, p);
  const last = ticks[ticks.length - 1];
  // the newest version among them: every field of an older entry means the same in a newer tick
  const v = Math.max(MESSAGE_VERSION, ...ticks.map((t) => t.v)) as StatusTick['v'];
  const windows = ticks.map((t) => t.since).filter((x): x is number => x !== undefined);
  const since = windows.length > 0 ? { since: Math.max(...windows) } : {};
  return { v, kind: 'status-tick', at: last?.at ?? '', ...since, pods: [...pods.values()] } as StatusTick;
}

/** The first part of a dead-lettered body kept when the whole would not fit. */
const DEAD_LETTER_BODY_CHARS = 40_000;

/**
 * The encoded dead letter, within the queue's message size (64 KiB of base64). The body is cut by characters first,
 * then halved until the encoding fits: JSON escaping (`\u0001` is six bytes) and UTF-8 (three bytes per CJK character)
 * can grow a character many times, and one oversized message would make the whole dead-letter send fail.
 */
export function fittedDeadLetter(dl: DeadLetterBody): string {
  const cut = (n: number): DeadLetterBody => ({ ...dl, body: `${dl.body.slice(0, n)}…(truncated)` });
  let keep = Math.min(dl.body.length, DEAD_LETTER_BODY_CHARS);
  let enc = encodeBody(keep < dl.body.length ? cut(keep) : dl);
  while (enc.length > MAX_MESSAGE_BYTES && keep > 0) {
    keep = Math.floor(keep / 2);
    enc = encodeBody(cut(keep));
  }
  return enc;
}

async function deadLetter(dead: QueueItem[], deps: QueueBatchDeps, report: BatchReport): Promise<void> {
  const at = new Date(deps.now()).toISOString();
  const out = dead.flatMap((d) => {
    if (d.ok) return [];
    // the body itself is never logged: it may be anything, including a secret someone pasted
    deps.logger.warn({ messageId: d.messageId, reason: d.reason, detail: d.detail.slice(0, 500) }, 'malformed message: dead-lettered');
    const body: DeadLetterBody = {
      deadLetter: { reason: d.reason, detail: d.detail.slice(0, 2000), messageId: d.messageId, at, source: 'pod-sync' },
      body: d.body,
    };
    return [{ body: fittedDeadLetter(body) }];
  });
  try {
    await deps.deadLetter.send(out);
    report.deadLettered += out.length;
  } catch (err) {
    deps.logger.error({ count: out.length, err: describeError(err) }, 'could not dead-letter malformed messages (they are dropped)');
  }
}
