import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GoneError, isGone, isTransient, TransientError } from '../../../../shared/adapters/kube/errors.js';
import {
  applyWatchEvent,
  backoffDelay,
  diffRelist,
  type ListResult,
  objectKey,
  startListWatch,
  type ViewEvent,
  type WatchSource,
} from '../../../../shared/adapters/kube/watch.js';

interface Obj {
  metadata: { namespace: string; name: string; uid: string; resourceVersion: string };
}
const obj = (name: string, rv: string, uid = `uid-${name}`): Obj => ({
  metadata: { namespace: 'ns', name, uid, resourceVersion: rv },
});

/** Applies delivered events the way a consumer would, returning its view. */
function consume(view: Map<string, Obj>, events: ViewEvent<Obj>[]): Map<string, Obj> {
  for (const ev of events) {
    const k = objectKey(ev.object);
    if (ev.type === 'ADDED') {
      assert.ok(!view.has(k), `ADDED for ${k}, which the consumer already has`);
      view.set(k, ev.object);
    } else if (ev.type === 'MODIFIED') {
      assert.ok(view.has(k), `MODIFIED for ${k}, which the consumer does not have`);
      view.set(k, ev.object);
    } else {
      assert.ok(view.has(k), `DELETED for ${k}, which the consumer does not have`);
      view.delete(k);
    }
  }
  return view;
}

describe('diffRelist', () => {
  it('delivers exactly the differences', () => {
    const known = new Map([
      ['ns/a', obj('a', '1')],
      ['ns/b', obj('b', '2')],
      ['ns/c', obj('c', '3')],
      ['ns/d', obj('d', '4')],
    ]);
    const fresh = [obj('a', '1'), obj('b', '9'), obj('d', '10', 'uid-d2'), obj('e', '11')];
    const events = diffRelist(known, fresh);
    assert.deepStrictEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`),
      ['DELETED c@3', 'MODIFIED b@9', 'DELETED d@4', 'ADDED d@10', 'ADDED e@11'],
    );
  });

  it('property: applying the diff to any view yields the fresh list, each event valid for the consumer', () => {
    const arbObj = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      rv: fc.integer({ min: 1, max: 4 }).map(String),
      uid: fc.constantFrom('1', '2'),
    });
    const arbSet = fc.uniqueArray(arbObj, { selector: (o) => o.name, maxLength: 6 });
    fc.assert(
      fc.property(arbSet, arbSet, (before, after) => {
        const known = new Map(before.map((o) => [`ns/${o.name}`, obj(o.name, o.rv, o.uid)]));
        const fresh = after.map((o) => obj(o.name, o.rv, o.uid));
        const view = consume(new Map(known), diffRelist(known, fresh));
        assert.deepStrictEqual(view, new Map(fresh.map((o) => [objectKey(o), o])));
      }),
    );
  });
});

describe('applyWatchEvent', () => {
  it('drops duplicates and fixes event types against the view', () => {
    const view = new Map<string, Obj>();
    assert.equal(applyWatchEvent(view, { type: 'MODIFIED', object: obj('a', '1') })?.type, 'ADDED');
    assert.equal(applyWatchEvent(view, { type: 'ADDED', object: obj('a', '1') }), undefined);
    assert.equal(applyWatchEvent(view, { type: 'ADDED', object: obj('a', '2') })?.type, 'MODIFIED');
    assert.equal(applyWatchEvent(view, { type: 'DELETED', object: obj('a', '3') })?.type, 'DELETED');
    assert.equal(applyWatchEvent(view, { type: 'DELETED', object: obj('a', '3') }), undefined);
    assert.equal(view.size, 0);
  });
});

describe('backoffDelay', () => {
  const opts = { baseMs: 500, maxMs: 30_000 };
  it('doubles from the base up to the cap, with jitter in [d/2, d)', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const d = Math.min(30_000, 500 * 2 ** attempt);
      assert.equal(backoffDelay(attempt, opts, () => 0), d / 2);
      const hi = backoffDelay(attempt, opts, () => 0.999999);
      assert.ok(hi < d && hi >= d - 1, `attempt ${attempt}: ${hi} vs ${d}`);
    }
  });
  it('never exceeds the cap, even for huge attempt numbers', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.double({ min: 0, max: 0.9999, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, opts, () => r);
        return d >= 250 && d < 30_000;
      }),
    );
  });
});

/**
 * A scripted in-memory server: lists return the current objects; each watch call runs the next step of a script.
 * It checks the loop's control flow (relist after 410, backoff after errors, resume from the last RV).
 */
class ScriptedSource implements WatchSource<Obj> {
  objects = new Map<string, Obj>();
  rv = 1;
  lists = 0;
  watchedFrom: string[] = [];
  constructor(private readonly steps: ((emit: (t: string, o: unknown) => void) => Promise<void>)[]) {}
  put(name: string): Obj {
    const o = obj(name, String(++this.rv));
    this.objects.set(objectKey(o), o);
    return o;
  }
  async list(): Promise<ListResult<Obj>> {
    this.lists++;
    return { items: [...this.objects.values()], resourceVersion: String(this.rv) };
  }
  async watch(rv: string, onEvent: (type: string, o: unknown) => void, signal: AbortSignal): Promise<void> {
    this.watchedFrom.push(rv);
    const step = this.steps.shift();
    if (step) return step(onEvent);
    await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
  }
}

describe('startListWatch control flow', () => {
  it('lists, watches, relists on a 410 ERROR event, backs off on errors, resumes from the last resourceVersion', async () => {
    // Prepare
    const sleeps: number[] = [];
    const errors: Error[] = [];
    let src!: ScriptedSource;
    src = new ScriptedSource([
      async (emit) => {
        const b = src.put('b');
        emit('ADDED', b);
        emit('BOOKMARK', { metadata: { resourceVersion: '50' } });
      },
      async () => {
        throw new TransientError('connection refused');
      },
      async (emit) => {
        // While "down": a deleted, b changed, c created. The server says our RV is too old.
        src.objects.delete('ns/a');
        src.put('b');
        src.put('c');
        emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
      },
    ]);
    src.put('a');
    const view = new Map<string, Obj>();
    const seen: string[] = [];
    const h = startListWatch<Obj>(
      src,
      'test',
      (ev) => {
        seen.push(`${ev.type} ${ev.object.metadata.name}`);
        consume(view, [ev]);
      },
      (e) => errors.push(e),
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0 },
    );
    // Act
    await h.synced;
    for (let i = 0; i < 200 && src.watchedFrom.length < 4; i++) await new Promise((r) => setImmediate(r));
    await h.stop();
    // Assess
    assert.deepStrictEqual(seen, ['ADDED a', 'ADDED b', 'DELETED a', 'MODIFIED b', 'ADDED c']);
    assert.deepStrictEqual(view, src.objects);
    assert.equal(src.lists, 2);
    assert.deepStrictEqual(src.watchedFrom.slice(0, 3), ['2', '50', '50']);
    assert.equal(src.watchedFrom[3], String(src.rv));
    assert.ok(errors.some(isTransient) && errors.some(isGone));
    assert.deepStrictEqual(sleeps, [250]);
  });

  it('an HTTP 410 from the watch call relists too; stop() before the first list rejects synced', async () => {
    let src!: ScriptedSource;
    src = new ScriptedSource([
      async () => {
        throw new GoneError('gone', { status: 410 });
      },
    ]);
    src.put('a');
    const h = startListWatch<Obj>(src, 'test', () => {}, () => {}, { sleep: async () => {} });
    await h.synced;
    for (let i = 0; i < 50 && src.lists < 2; i++) await new Promise((r) => setImmediate(r));
    await h.stop();
    assert.equal(src.lists, 2);

    const never: WatchSource<Obj> = { list: () => new Promise(() => {}), watch: async () => {} };
    const h2 = startListWatch<Obj>(never, 'test', () => {});
    await h2.stop();
    await assert.rejects(h2.synced, /stopped before the first list/);
  });
});
