/**
 * `eci-bridge replay [--max N] [--dry-run]`: drains the dead-letter queue (MNS_DEAD_LETTER_QUEUE) through the
 * PodQueue port. Each message is shown with why it was dead-lettered; the valid ones are re-sent to the pod queue
 * (MNS_QUEUE) and then deleted from the DLQ; the invalid ones stay there (visible again a second later) and are listed.
 * `--dry-run` only shows what would happen (every message is made visible again).
 *
 * A DLQ holds three shapes, all handled:
 * - pod-sync's dead letters: base64(JSON `{deadLetter: {reason, detail, messageId, at, source}, body}`), `body`
 *   being the original message as received;
 * - MNS's queue DLQ policy: the original body (base64 JSON) after MaxReceiveCount receives;
 * - EventBridge's dead letter after its push retries: the CloudEvent (or an array of them) whose
 *   `data.messageBody` is the original body (the exact shape is not documented; parsed defensively).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config.js';
import { decodeMessage, encodeMessage, MessageError, type QueueMessage } from '../../shared/domain/messages.js';
import type { PodQueue, ReceivedMessage } from '../../shared/ports/index.js';
import { cliQueues } from './_factory.js';

export const summary = 'replay the dead-letter queue into the pod queue (replay [--max N] [--dry-run])';

const usage = 'usage: eci-bridge replay [--max N] [--dry-run]';

export type Verdict =
  | { valid: true; message: QueueMessage; origin: string; why: string }
  | { valid: false; origin: string; why: string; error: string };

function fromBase64OrText(body: string): string {
  const t = body.trim();
  if (t.startsWith('{') || t.startsWith('[')) return t;
  try {
    const text = Buffer.from(t, 'base64').toString('utf8');
    return text.trim().startsWith('{') || text.trim().startsWith('[') ? text : t;
  } catch {
    return t;
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeInner(body: string, origin: string, why: string): Verdict {
  try {
    return { valid: true, message: decodeMessage(body), origin, why };
  } catch (err) {
    const reason = err instanceof MessageError ? `${err.reason}: ${err.message}` : (err as Error).message;
    return { valid: false, origin, why, error: reason.split('\n').slice(0, 4).join(' ') };
  }
}

/** Classifies one DLQ body: where it came from, why it was dead-lettered, and whether it is valid now. */
export function classifyDeadLetter(body: string): Verdict {
  const value = tryJson(fromBase64OrText(body));
  if (isObj(value) && isObj(value.deadLetter) && typeof value.body === 'string') {
    const d = value.deadLetter;
    const why = `${String(d.reason ?? 'unknown')}${d.detail ? `: ${String(d.detail).slice(0, 200)}` : ''}`;
    return decodeInner(value.body, `${String(d.source ?? 'bridge')} at ${String(d.at ?? '?')}`, why);
  }
  const events = Array.isArray(value) ? value : [value];
  const first = events[0];
  if (isObj(first) && isObj(first.data) && typeof first.data.messageBody === 'string') {
    if (events.length !== 1) {
      return { valid: false, origin: 'EventBridge', why: 'push retries exhausted', error: `${events.length} events in one dead letter` };
    }
    return decodeInner(first.data.messageBody, 'EventBridge', 'push retries exhausted (pod-sync failed the batch)');
  }
  return decodeInner(body, 'MNS', 'received more than MaxReceiveCount times without being deleted');
}

function describe(m: QueueMessage): string {
  return m.kind === 'pod' ? `nudge ${m.namespace}/${m.name} (${m.reason})` : `status tick of ${m.pods.length} pod(s)`;
}

export interface ReplayResult {
  replayed: number;
  kept: { messageId: string; why: string; error: string }[];
  failed: number;
}

/** The replay loop, over the ports (tested against the MNS emulator). */
export async function replay(
  dlq: PodQueue,
  main: PodQueue,
  opts: { max: number; dryRun: boolean; print: (line: string) => void },
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: 0, kept: [], failed: 0 };
  const seen = new Set<string>();
  const toRelease: string[] = [];
  let count = 0;
  while (count < opts.max) {
    const batch: ReceivedMessage[] = await dlq.receive(Math.min(16, opts.max - count), 0);
    const fresh = batch.filter((m) => !seen.has(m.messageId));
    // Seen again (its visibility ran out during this replay): release the new handle too.
    toRelease.push(...batch.filter((m) => seen.has(m.messageId)).map((m) => m.receiptHandle));
    if (fresh.length === 0) break;
    for (const m of fresh) {
      seen.add(m.messageId);
      count++;
      const v = classifyDeadLetter(m.body);
      const head = `${m.messageId}  received ${m.dequeueCount}x  from ${v.origin}: ${v.why}`;
      if (!v.valid) {
        opts.print(`${head}\n    KEPT (invalid): ${v.error}`);
        result.kept.push({ messageId: m.messageId, why: v.why, error: v.error });
        toRelease.push(m.receiptHandle);
        continue;
      }
      if (opts.dryRun) {
        opts.print(`${head}\n    would replay: ${describe(v.message)}`);
        result.replayed++;
        toRelease.push(m.receiptHandle);
        continue;
      }
      try {
        await main.send([{ body: encodeMessage(v.message) }]);
        await dlq.delete(m.receiptHandle);
        opts.print(`${head}\n    replayed: ${describe(v.message)}`);
        result.replayed++;
      } catch (err) {
        opts.print(`${head}\n    FAILED to replay: ${(err as Error).message}`);
        result.failed++;
        toRelease.push(m.receiptHandle);
      }
    }
  }
  // What stays in the DLQ becomes visible again after a second (MNS's minimum visibility timeout), for the next
  // replay or an inspection, instead of after the queue's full visibility timeout.
  for (const h of toRelease) {
    try {
      await dlq.changeVisibility(h, 1);
    } catch {
      // a stale handle: the message becomes visible when its visibility timeout ends anyway
    }
  }
  return result;
}

export async function run(argv: string[]): Promise<number> {
  let v: { max?: string; 'dry-run'?: boolean };
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: { max: { type: 'string' }, 'dry-run': { type: 'boolean' } },
    }).values;
  } catch (err) {
    process.stderr.write(`replay: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const max = v.max === undefined ? 1000 : Number(v.max);
  if (!Number.isInteger(max) || max < 1) {
    process.stderr.write(`replay: --max must be a positive integer\n${usage}\n`);
    return 2;
  }
  const config = loadConfig();
  const { queue, deadLetter } = cliQueues(config);
  const dryRun = v['dry-run'] ?? false;
  process.stdout.write(`replay: ${config.MNS_DEAD_LETTER_QUEUE} -> ${config.MNS_QUEUE}${dryRun ? ' (dry run)' : ''}\n`);
  const res = await replay(deadLetter, queue, { max, dryRun, print: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(
    `replay: ${res.replayed} ${dryRun ? 'would be replayed' : 'replayed'}, ${res.kept.length} kept (invalid), ${res.failed} failed\n`,
  );
  return res.failed > 0 ? 1 : 0;
}
