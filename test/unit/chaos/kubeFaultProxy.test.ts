import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startKubeFaultProxy, type KubeFaultProxy } from '../../../scripts/chaos/kubeFaultProxy.js';

// A tiny upstream standing in for the apiserver's HTTP behaviour (the proxy is what is under test here):
// echoes method and path, and serves a never-ending "watch" stream.
let upstream: http.Server;
let upstreamUrl: string;
let proxy: KubeFaultProxy;

async function call(method: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${proxy.url}${path}`, { method, body: method === 'GET' ? undefined : '{}' });
  return { status: res.status, body: await res.text() };
}

describe('kube fault proxy', () => {
  before(async () => {
    upstream = http.createServer((req, res) => {
      if (req.url?.includes('watch=1')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        const t = setInterval(() => res.write('{"type":"BOOKMARK","object":{}}\n'), 10);
        res.on('close', () => clearInterval(t));
        return;
      }
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, path: req.url }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    proxy = await startKubeFaultProxy({ upstream: upstreamUrl, seed: 7 });
  });
  after(async () => {
    await proxy.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  it('forwards requests unchanged when no fault is set', async () => {
    const r = await call('PATCH', '/api/v1/namespaces/a/pods/p/status');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { method: 'PATCH', path: '/api/v1/namespaces/a/pods/p/status' });
  });

  it('counts every request by Kubernetes verb and kind: get, list, watch, create, patch, delete', async () => {
    const before = proxy.requests();
    await call('GET', '/api/v1/namespaces/a/pods/p');
    await call('GET', '/api/v1/namespaces/a/pods?labelSelector=x');
    await call('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn');
    await call('POST', '/api/v1/namespaces/a/serviceaccounts/default/token');
    await call('PATCH', '/api/v1/namespaces/a/pods/p/status');
    await call('DELETE', '/api/v1/namespaces/a/pods/p');
    await call('GET', '/apis/coordination.k8s.io/v1/namespaces/a/leases/l');
    const w = await fetch(`${proxy.url}/api/v1/namespaces/a/pods?watch=1`);
    await w.body?.cancel();
    const after = proxy.requests();
    const moved = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => Number(v) > 0));
    assert.deepEqual(moved, {
      'get pods': 1,
      'list pods': 2,
      'create serviceaccounts/token': 1,
      'patch pods/status': 1,
      'delete pods': 1,
      'get leases': 1,
      'watch pods': 1,
    });
  });

  it('answers writes with a Kubernetes 409 Status at the conflict rate, and never reads', async () => {
    proxy.setFaults({ conflictRate: 1 });
    const w = await call('PUT', '/api/v1/namespaces/a/pods/p');
    assert.equal(w.status, 409);
    assert.equal(JSON.parse(w.body).reason, 'Conflict');
    const r = await call('GET', '/api/v1/namespaces/a/pods/p');
    assert.equal(r.status, 200);
    proxy.setFaults({ conflictRate: 0 });
  });

  it('injects 500s at roughly the configured rate (seeded)', async () => {
    proxy.setFaults({ errorRate: 0.5 });
    let errors = 0;
    for (let i = 0; i < 200; i++) if ((await call('GET', `/x/${i}`)).status === 500) errors++;
    proxy.setFaults({ errorRate: 0 });
    assert.ok(errors > 60 && errors < 140, `errors=${errors}`);
    assert.equal(proxy.counts().errors, errors);
  });

  it('cuts watch streams when asked', async () => {
    proxy.setFaults({ dropWatchRate: 1, dropWatchAfterMs: 50 });
    const res = await fetch(`${proxy.url}/api/v1/pods?watch=1`);
    assert.equal(res.status, 200);
    // The upstream stream never ends by itself: only the injected drop can end it, with an error.
    const outcome = await Promise.race([
      (async () => {
        try {
          for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>) {
            /* keep reading */
          }
          return 'ended cleanly';
        } catch {
          return 'cut';
        }
      })(),
      new Promise<string>((r) => setTimeout(() => r('still open'), 3000).unref()),
    ]);
    assert.equal(outcome, 'cut');
    assert.equal(proxy.counts().droppedWatches, 1);
    proxy.setFaults({ dropWatchRate: 0 });
  });

  it('counts the requests it delays, and forwards them unchanged', async () => {
    const before = proxy.counts().delayed;
    proxy.setFaults({ latencyMs: 20 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call('GET', `/delayed/${i}`)));
    proxy.setFaults({ latencyMs: 0 });
    for (const [i, r] of results.entries()) assert.deepEqual(JSON.parse(r.body), { method: 'GET', path: `/delayed/${i}` });
    const delayed = proxy.counts().delayed - before;
    // a delay is uniform in [0, 20) ms, so nearly every request waits; none without latency set
    assert.ok(delayed >= 15 && delayed <= 20, `delayed=${delayed}`);
    await call('GET', '/not-delayed');
    assert.equal(proxy.counts().delayed - before, delayed);
  });

  it('with atLeastOnce, injects each enabled fault on its first chance even at a tiny rate', async () => {
    const before = proxy.counts();
    proxy.setFaults({ conflictRate: 1e-9, errorRate: 1e-9, atLeastOnce: true });
    const w = await call('PATCH', '/api/v1/namespaces/a/pods/first');
    assert.equal(w.status, 409, 'the first write after enabling conflicts');
    const r = await call('GET', '/api/v1/namespaces/a/pods/first');
    assert.equal(r.status, 500, 'the first read after enabling errors');
    // once each kind has fired, the (tiny) rate decides again
    for (let i = 0; i < 20; i++) assert.equal((await call('PATCH', `/api/v1/namespaces/a/pods/p${i}`)).status, 200);
    proxy.setFaults({ conflictRate: 0, errorRate: 0, atLeastOnce: false });
    assert.equal(proxy.counts().conflicts - before.conflicts, 1);
    assert.equal(proxy.counts().errors - before.errors, 1);
  });

  it('delays only a share of the requests when latencyRate is set', async () => {
    const before = proxy.counts().delayed;
    proxy.setFaults({ latencyMs: 5, latencyRate: 0.3 });
    for (let i = 0; i < 100; i++) await call('GET', `/some-delayed/${i}`);
    proxy.setFaults({ latencyMs: 0, latencyRate: 1 });
    const delayed = proxy.counts().delayed - before;
    assert.ok(delayed > 10 && delayed < 55, `delayed=${delayed}`);
  });
});
