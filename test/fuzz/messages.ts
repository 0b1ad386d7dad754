/**
 * Queue-message campaign: malformed, oversized and hostile FC events through the real pod-sync handler
 * (functions/pod-sync createHandler, middy included), built with the in-memory port fakes the unit tests use and an
 * embedded queue (MNS limits: 64 KiB per message) as the dead-letter queue. No network.
 *
 * Every message of every event must end in one typed outcome:
 * - `processed`: a valid nudge or status tick, handed to pod-sync / status-sync;
 * - `dead-lettered: <reason>`: a malformed message, on the dead-letter queue with its reason (not-base64, not-json,
 *   schema, too-large; `envelope` for an element that is not a CloudEvent);
 * - `envelope dead-lettered`: an event that is not a CloudEvents batch at all (not JSON, empty, no CloudEvent): the
 *   handler dead-letters the whole event as one message (reason `envelope`) and resolves — it neither crashes the
 *   runtime nor makes EventBridge retry a batch that can never parse.
 * The handler must resolve for every event (a rejection would make EventBridge repeat the whole batch: counted as a
 * crash, `batch-rejected`), within a time bound (a hang is a crash), with no unhandled rejection.
 *
 * Over 400 lines: one generator per message kind and its mutations, sharing the arbitraries.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createHandler } from '../../functions/pod-sync/index.js';
import { EmbeddedQueue } from '../../shared/adapters/queue/embedded.js';
import { bridgeFactory } from '../../shared/compose.js';
import { parseConfig } from '../../shared/domain/config.js';
import type { FcContextLike } from '../../shared/sim/fc.js';
import { decodeBody } from '../../shared/domain/messages-codec.js';
import { encodeMessage, MAX_PODS_PER_TICK, type PodNudge, type StatusTick } from '../../shared/domain/messages.js';
import type { OutgoingMessage, QueueSender } from '../../shared/ports/index.js';
import type { BatchReport, DeadLetterBody } from '../../shared/usecases/queueBatch.js';
import { FakeClock, FakeCluster, FakeEci, FakeQueue, makePod, silentLogger } from '../unit/usecases/fakes.js';
import { HUGE_UNICODE, nestedJson, oddStrings, prototypePolluted } from './hostile.js';
import { type CampaignResult, count, crash, describe, guarded, newResult } from './report.js';

/** What a message (or a whole event) should become. `reason` undefined: malformed, any reason. */
type Expect = { valid: true } | { valid: false; reason?: string };

interface Element {
  /** the JSON value of the element, or its JSON text when it must be written verbatim (too deep to stringify) */
  value?: unknown;
  text?: string;
  expect: Expect;
}

interface EventCase {
  /** raw event bytes; when absent, the elements serialised as an array (or as one object when `single`) */
  raw?: () => Buffer;
  elements: Element[];
  single: boolean;
  /** expectation for a raw event */
  rawExpect?: 'envelope' | 'empty';
}

const PODS = 8;
const VNODE = 'fuzz-vnode';
const MiB = 1 << 20;

const podsArb = fc.integer({ min: 0, max: PODS - 1 });
/** the seeded pods, by index (same names and uids in every world) */
const seeded = Array.from({ length: PODS }, (_, i) =>
  makePod({ name: `fz-${i}`, spec: { nodeName: VNODE, containers: [{ name: 'app', image: 'nginx' }] } }),
);

const nudgeArb: fc.Arbitrary<PodNudge> = fc
  .record({
    pod: podsArb,
    known: fc.boolean(),
    reason: fc.constantFrom<PodNudge['reason']>('bound', 'changed', 'deleting', 'deleted', 'resync', 'retry'),
    attempt: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
  })
  .map(({ pod, known, reason, attempt }) => {
    const p = seeded[pod] ?? seeded[0];
    const md = p?.metadata ?? {};
    return {
      v: 1,
      kind: 'pod',
      namespace: md.namespace ?? 'default',
      name: known ? (md.name ?? 'x') : `gone-${pod}`,
      uid: known ? (md.uid ?? 'u') : `00000000-dead-4000-8000-00000000000${pod}`,
      reason,
      ...(attempt !== undefined ? { attempt } : {}),
    };
  });

const tickArb: fc.Arbitrary<StatusTick> = fc.integer({ min: 1, max: MAX_PODS_PER_TICK }).map((n) => ({
  v: 1,
  kind: 'status-tick',
  at: '2026-01-01T00:00:00.000Z',
  pods: Array.from({ length: n }, (_, i) => {
    const md = seeded[i % PODS]?.metadata ?? {};
    return { namespace: md.namespace ?? 'default', name: i < PODS ? (md.name ?? 'x') : `other-${i}`, uid: i < PODS ? (md.uid ?? 'u') : `uid-${i}` };
  }),
}));

const validMessage: fc.Arbitrary<PodNudge | StatusTick> = fc.oneof({ weight: 3, arbitrary: nudgeArb }, { weight: 1, arbitrary: tickArb });

/** The three forms a body reaches the handler in: base64 (IsBase64Decode false), decoded JSON text, parsed object. */
type Form = 'base64' | 'text' | 'object';
const formArb = fc.constantFrom<Form>('base64', 'text', 'object');

function body(value: unknown, form: Form): unknown {
  if (form === 'object') return value;
  const text = JSON.stringify(value);
  return form === 'text' ? text : Buffer.from(text, 'utf8').toString('base64');
}

function cloudEvent(messageBody: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const id = randomUUID();
  return {
    id,
    source: 'MNS-pod-sync-pods-queue',
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    subject: 'acs:mns:cn-hangzhou:123:queues/eci-bridge-pods',
    time: '2026-01-01T00:00:00.000Z',
    data: { requestId: id, messageId: id.replace(/-/g, '').toUpperCase(), messageBody },
    ...extra,
  };
}

/** Schema breakers: each turns a valid message into one the strict schema must refuse. */
const breakers: fc.Arbitrary<(m: Record<string, unknown>) => Record<string, unknown>> = fc.constantFrom<(m: Record<string, unknown>) => Record<string, unknown>>(
  (m) => ({ ...m, v: 99 }),
  (m) => ({ ...m, v: '1' }),
  (m) => ({ ...m, kind: 'pods' }),
  (m) => ({ ...m, kind: undefined }),
  (m) => ({ ...m, extra: 1 }),
  (m) => ({ ...m, constructor: { prototype: { polluted: 1 } } }),
  (m) => (m.kind === 'pod' ? { ...m, attempt: 1e308 * 10 } : { ...m, pods: [] }),
  (m) => (m.kind === 'pod' ? { ...m, attempt: -1 } : { ...m, pods: 'all' }),
  (m) => (m.kind === 'pod' ? { ...m, name: 'n'.repeat(254) } : { ...m, at: 'x'.repeat(41) }),
  (m) => (m.kind === 'pod' ? { ...m, uid: '' } : { ...m, pods: [{ namespace: 'a' }] }),
  (m) => (m.kind === 'pod' ? { ...m, reason: 'because' } : { ...m, pods: [null] }),
  (m) => ({ ...m, namespace: 5, name: ['x'] }),
  () => [1, 2, 3] as unknown as Record<string, unknown>,
  () => ({ a: JSON.parse(nestedJson(2000)) }),
);

/** A tick naming 10,000 pods (the schema allows 100): as text it is also far over the size limit. */
const hugeTick = (): Record<string, unknown> => ({
  v: 1,
  kind: 'status-tick',
  at: '2026-01-01T00:00:00.000Z',
  pods: Array.from({ length: 10_000 }, (_, i) => ({ namespace: 'default', name: `p-${i}`, uid: `u-${i}` })),
});

const elementArb: fc.Arbitrary<Element> = fc.oneof(
  // valid
  {
    weight: 10,
    arbitrary: fc.tuple(validMessage, fc.constantFrom<Form>('base64', 'text', 'object', 'base64')).map(([m, form]) => ({
      value: cloudEvent(form === 'base64' ? encodeMessage(m) : body(m, form)),
      expect: { valid: true } as Expect,
    })),
  },
  // valid, with CloudEvent fields missing or extra (the envelope is parsed loosely)
  {
    weight: 2,
    arbitrary: validMessage.map((m) => {
      const ce = cloudEvent(encodeMessage(m), { extension: { a: 1 }, specversion: 99 });
      delete ce.id;
      delete ce.subject;
      return { value: ce, expect: { valid: true } as Expect };
    }),
  },
  // valid, with an own __proto__ key (as JSON.parse makes it): zod leaves it out of the message, nothing is polluted
  {
    weight: 1,
    arbitrary: fc.tuple(validMessage, formArb).map(([m, form]) => {
      const withProto = JSON.parse(`{"__proto__":{"polluted":1},${JSON.stringify(m).slice(1)}`);
      // parsed by EventBridge, the key becomes the body's prototype when zod copies the record, so the message is
      // valid; as text, the strict schema refuses the unknown key
      return { value: cloudEvent(body(withProto, form)), expect: (form === 'object' ? { valid: true } : { valid: false, reason: 'schema' }) as Expect };
    }),
  },
  // schema breakers, in each body form
  {
    weight: 6,
    arbitrary: fc.tuple(validMessage, breakers, formArb).map(([m, brk, form]) => {
      const broken = brk(m as unknown as Record<string, unknown>);
      // a body that is a JSON array is no message object: as a parsed value it is no CloudEvent body either, and as
      // decoded text it does not start with '{', so it is read as (invalid) base64
      const reason = !Array.isArray(broken) ? 'schema' : form === 'object' ? 'envelope' : form === 'text' ? 'not-base64' : 'schema';
      return { value: cloudEvent(body(broken, form)), expect: { valid: false, reason } as Expect };
    }),
  },
  // a tick naming 10,000 pods
  {
    weight: 1,
    arbitrary: formArb.map((form) => ({
      value: cloudEvent(body(hugeTick(), form)),
      expect: { valid: false, reason: form === 'object' ? 'schema' : 'too-large' } as Expect,
    })),
  },
  // bodies that are not base64 / not UTF-8 / not JSON
  {
    weight: 4,
    arbitrary: fc
      .constantFrom<[string, string | undefined]>(
        ['%%%', 'not-base64'],
        ['not base64 at all', 'not-base64'],
        [Buffer.from([0xff, 0xfe, 0xc3, 0x28]).toString('base64'), 'not-base64'],
        [Buffer.from('\ud800', 'utf16le').toString('base64'), 'not-base64'],
        [Buffer.from('hello').toString('base64'), 'not-json'],
        ['{"v":1,', 'not-json'],
        ['{', 'not-json'],
        [nestedJson(5000), 'not-base64'],
        [`{"a":${nestedJson(5000)}}`, 'schema'],
        [`{"attempt":1e309,"v":1,"kind":"pod"}`, 'schema'],
        ['', undefined],
        ['   ', undefined],
        ['\u0000', 'not-base64'],
      )
      .map(([b, reason]) => ({ value: cloudEvent(b), expect: { valid: false, ...(reason ? { reason } : {}) } as Expect })),
  },
  // odd and hostile strings as bodies
  { weight: 2, arbitrary: oddStrings.map((s) => ({ value: cloudEvent(s), expect: { valid: false } as Expect })) },
  // oversized bodies: just over 64 KiB (valid base64 of zeros), 128 KiB+, 3 MB, heavy unicode, an object of 1 MB
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<() => Element>(
        () => ({ value: cloudEvent('A'.repeat(70_000)), expect: { valid: false, reason: 'not-json' } }),
        () => ({ value: cloudEvent('A'.repeat(140_000)), expect: { valid: false, reason: 'too-large' } }),
        () => ({ value: cloudEvent('x'.repeat(3 * MiB)), expect: { valid: false, reason: 'too-large' } }),
        () => ({ value: cloudEvent(HUGE_UNICODE.slice(0, 60_000)), expect: { valid: false, reason: 'not-base64' } }),
        () => ({ value: cloudEvent('\u0001'.repeat(60_000)), expect: { valid: false, reason: 'not-base64' } }),
        () => ({ value: cloudEvent({ v: 1, kind: 'pod', pad: 'y'.repeat(MiB) }), expect: { valid: false, reason: 'schema' } }),
      )
      .map((f) => f()),
  },
  // deeply nested message bodies (parsed objects): a JSON bomb EventBridge could hand over already parsed
  {
    weight: 1,
    arbitrary: fc.integer({ min: 2_000, max: 30_000 }).map((d) => ({
      text: `{"id":"deep","data":{"messageId":"DEEP","messageBody":{"v":1,"kind":"pod","x":${nestedJson(d)}}}}`,
      expect: { valid: false, reason: 'schema' } as Expect,
    })),
  },
  // elements that are not CloudEvents
  {
    weight: 3,
    arbitrary: fc
      .constantFrom<() => Element>(
        () => ({ value: 5, expect: { valid: false, reason: 'envelope' } }),
        () => ({ value: 'str', expect: { valid: false, reason: 'envelope' } }),
        () => ({ value: null, expect: { valid: false, reason: 'envelope' } }),
        () => ({ value: [], expect: { valid: false, reason: 'envelope' } }),
        () => ({ value: { data: {} }, expect: { valid: false, reason: 'envelope' } }),
        () => ({ value: { data: { messageBody: 5 } }, expect: { valid: false, reason: 'envelope' } }),
        () => ({ value: { data: { messageBody: null } }, expect: { valid: false, reason: 'envelope' } }),
        () => ({ value: { data: 'x' }, expect: { valid: false, reason: 'envelope' } }),
        () => ({ value: JSON.parse('{"__proto__":{"data":{"messageBody":"e30="}}}'), expect: { valid: false, reason: 'envelope' } }),
        () => ({ text: nestedJson(50_000), expect: { valid: false, reason: 'envelope' } }),
        () => ({ text: nestedJson(50_000, 'object'), expect: { valid: false, reason: 'envelope' } }),
      )
      .map((f) => f()),
  },
);

/** Whole events that are not a CloudEvents batch. */
const rawArb: fc.Arbitrary<EventCase> = fc
  .constantFrom<[() => Buffer, 'envelope' | 'empty']>(
    [() => Buffer.alloc(0), 'envelope'],
    [() => Buffer.from('garbage'), 'envelope'],
    [() => Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]), 'envelope'],
    [() => Buffer.from('null'), 'envelope'],
    [() => Buffer.from('5'), 'envelope'],
    [() => Buffer.from('"a string"'), 'envelope'],
    [() => Buffer.from('{}'), 'envelope'],
    [() => Buffer.from('[1,2,3]'), 'envelope'],
    [() => Buffer.from('{"__proto__":{"data":{"messageBody":"x"}}}'), 'envelope'],
    [() => Buffer.from('[]'), 'empty'],
    [() => Buffer.from(nestedJson(200_000)), 'envelope'],
    [() => Buffer.from(`[${nestedJson(200_000, 'object')}]`), 'envelope'],
    [() => Buffer.alloc(10 * MiB, 0x78), 'envelope'],
    [() => Buffer.alloc(10 * MiB, 0xff), 'envelope'],
    [() => Buffer.from(`[${'1,'.repeat(5 * MiB)}1]`), 'envelope'],
  )
  .map(([raw, rawExpect]) => ({ raw, elements: [], single: false, rawExpect }));

export const eventCaseArb: fc.Arbitrary<EventCase> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ elements: fc.array(elementArb, { minLength: 1, maxLength: 12 }), single: fc.constant(false) }) },
  // event mode: one CloudEvent, not in an array (an element that is itself an array would be read as a batch)
  {
    weight: 2,
    arbitrary: fc.record({ elements: elementArb.filter((e) => !Array.isArray(e.value) && e.text === undefined).map((e) => [e]), single: fc.constant(true) }),
  },
  { weight: 1, arbitrary: rawArb },
);

function eventBytes(c: EventCase): Buffer {
  if (c.raw) return c.raw();
  const texts = c.elements.map((e) => e.text ?? JSON.stringify(e.value) ?? 'null');
  return Buffer.from(c.single ? (texts[0] ?? '') : `[${texts.join(',')}]`, 'utf8');
}

/** The dead-letter queue: an embedded queue (MNS limits), replaced per case so each case reads only its own. */
class DeadLetterSink implements QueueSender {
  queue = new EmbeddedQueue({ name: 'fuzz-dlq' });
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    await this.queue.send(messages);
  }
  take(): DeadLetterBody[] {
    const out = this.queue.messages().map((m) => decodeBody(m.body) as DeadLetterBody);
    this.queue.close();
    this.queue = new EmbeddedQueue({ name: 'fuzz-dlq' });
    return out;
  }
}

export interface MessageWorld {
  handler: ReturnType<typeof createHandler>;
  dlq: DeadLetterSink;
  eci: FakeEci;
  cluster: FakeCluster;
}

/** The pod-sync handler over fakes: the composition root does the wiring (real domain, real use-cases). */
export function messageWorld(): MessageWorld {
  const clock = new FakeClock();
  const cluster = new FakeCluster();
  for (const p of seeded) cluster.put(p);
  const eci = new FakeEci(clock);
  const dlq = new DeadLetterSink();
  const config = parseConfig({ CLUSTER_NAME: 'fuzz-cluster', VNODE_NAME: VNODE, QUEUE_KIND: 'embedded', LOG_LEVEL: 'silent' });
  const bridges = bridgeFactory(config, { cluster, eci, queue: new FakeQueue(), deadLetter: dlq, clock, logger: silentLogger });
  return { handler: createHandler(bridges, () => silentLogger), dlq, eci, cluster };
}

function context(): FcContextLike {
  return {
    requestId: randomUUID(),
    credentials: { accessKeyId: '', accessKeySecret: '', securityToken: '' },
    function: { name: 'pod-sync', handler: 'index.handler', memory: 512, timeout: 120 },
    region: 'cn-hangzhou',
    accountId: '1234567890',
  };
}

const HANG_MS = 60_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'hang'> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<'hang'>((resolve) => {
    t = setTimeout(() => resolve('hang'), ms);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

export const MESSAGE_OUTCOMES = ['processed', 'dead-lettered', 'envelope dead-lettered'] as const;

function expectedOf(c: EventCase): { valid: number; reasons: (string | undefined)[]; whole: boolean } {
  if (c.rawExpect === 'empty') return { valid: 0, reasons: [], whole: false };
  if (c.rawExpect === 'envelope') return { valid: 0, reasons: ['envelope'], whole: true };
  // a batch none of whose elements is a CloudEvent is not a batch: one envelope dead letter for the whole event
  const anyCe = c.elements.some((e) => e.expect.valid || e.expect.reason !== 'envelope');
  if (!anyCe) return { valid: 0, reasons: ['envelope'], whole: true };
  return {
    valid: c.elements.filter((e) => e.expect.valid).length,
    reasons: c.elements.flatMap((e) => (e.expect.valid ? [] : [e.expect.reason])),
    whole: false,
  };
}

/** Checks one handled event against its expectation; returns a problem or undefined. */
function check(c: EventCase, report: BatchReport, dead: DeadLetterBody[], r: CampaignResult): string | undefined {
  const exp = expectedOf(c);
  const whole = exp.whole;
  for (const d of dead) {
    if (!d?.deadLetter?.reason || !d.deadLetter.detail || typeof d.body !== 'string') return 'a dead letter without reason, detail or body';
  }
  if (dead.length !== exp.reasons.length) {
    return `${dead.length} dead letters for ${exp.reasons.length} malformed messages (reported ${report.deadLettered})`;
  }
  if (report.deadLettered !== dead.length) return `reported ${report.deadLettered} dead letters, the queue holds ${dead.length}`;
  const processed = report.messages - report.deadLettered;
  if (processed !== exp.valid) return `${processed} messages processed, ${exp.valid} valid ones sent`;
  // reasons: every expected reason present (order-free), unspecified ones matched by anything left
  const got = dead.map((d) => d.deadLetter.reason);
  const left = [...got];
  for (const want of exp.reasons) {
    if (want === undefined) continue;
    const i = left.indexOf(want);
    if (i < 0) return `expected a dead letter with reason ${want}, got ${got.join(',')}`;
    left.splice(i, 1);
  }
  if (processed > 0) count(r.outcomes, 'processed', processed);
  for (const reason of got) {
    if (whole) count(r.outcomes, 'envelope dead-lettered');
    else count(r.outcomes, 'dead-lettered');
    count(r.details, `dead-lettered: ${reason}`);
  }
  for (const [k, v] of Object.entries(report.outcomes)) count(r.details, `pod-sync ${k}`, v);
  if (report.ticks) count(r.details, 'status ticks', report.ticks);
  return undefined;
}

/** Runs `runs` events from `seed` through one pod-sync handler. */
export async function messageCampaign(opts: { seed: number; runs: number }): Promise<CampaignResult> {
  const r = newResult('queue messages', opts.seed);
  const world = messageWorld();
  await guarded(r, async () => {
    const chunk = 50;
    for (let start = 0; start < opts.runs; start += chunk) {
      const cases = fc.sample(eventCaseArb, { seed: opts.seed + start, numRuns: Math.min(chunk, opts.runs - start) });
      for (const [i, c] of cases.entries()) {
        const index = start + i;
        r.runs++;
        let bytes: Buffer;
        try {
          bytes = eventBytes(c);
        } catch (err) {
          crash(r, index, `the fuzz case could not be built: ${describe(err)}`);
          continue;
        }
        count(r.details, bytes.length > MiB ? 'events > 1 MiB' : bytes.length > 64 * 1024 ? 'events > 64 KiB' : 'events <= 64 KiB');
        let res: unknown;
        try {
          res = await withTimeout(world.handler(bytes, context()), HANG_MS);
        } catch (err) {
          count(r.outcomes, 'batch-rejected');
          crash(r, index, `the handler rejected (EventBridge would retry the whole batch): ${describe(err)}`);
          world.dlq.take();
          continue;
        }
        if (res === 'hang') {
          count(r.outcomes, 'hang');
          crash(r, index, `the handler did not finish within ${HANG_MS / 1000} s`);
          continue;
        }
        let problem: string | undefined = prototypePolluted() ? 'Object.prototype was polluted' : undefined;
        try {
          problem ??= check(c, res as BatchReport, world.dlq.take(), r);
        } catch (err) {
          problem = `checking the result threw ${describe(err)}`;
        }
        if (problem) crash(r, index, problem);
      }
    }
  });
  return r;
}
