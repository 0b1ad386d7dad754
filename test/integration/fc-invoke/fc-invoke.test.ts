/**
 * The FC invokers drive the real SDKs (@alicloud/fc20230330, @alicloud/fc2) against a loopback HTTP server
 * that plays the FC API: it checks the path, method and headers each SDK sends and verifies the signature
 * (ACS3-HMAC-SHA256 for FC 3.0, `FC ak:hmac-sha256` for FC 2.0) with the secret it knows, refusing a bad
 * one with 403 as FC does. No SDK is mocked.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../shared/domain/config.js';
import {
  createFunctionInvoker,
  Fc2FunctionInvoker,
  Fc3FunctionInvoker,
  InvokeError,
  LocalFunctionInvoker,
} from '../../../shared/adapters/fc-invoke/index.js';

const AK = 'STS.testAccessKeyId';
const SECRET = 'test-secret-value';
const TOKEN = 'test-sts-token';
const ACCOUNT = '1234567890';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  signatureOk: boolean;
}

function fc2StringToSign(req: IncomingMessage, path: string): string {
  const h = req.headers;
  const fcHeaders = Object.keys(h)
    .filter((k) => k.startsWith('x-fc-'))
    .sort()
    .map((k) => `${k}:${String(h[k])}\n`)
    .join('');
  return `${req.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${fcHeaders}${path}`;
}

function verifyFc2(req: IncomingMessage, path: string, secret: string): boolean {
  const m = /^FC ([^:]+):(.+)$/.exec(String(req.headers.authorization ?? ''));
  if (!m || m[1] !== AK) return false;
  const expected = createHmac('sha256', secret).update(fc2StringToSign(req, path), 'utf8').digest('base64');
  return m[2] === expected;
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function verifyAcs3(req: IncomingMessage, path: string, query: URLSearchParams, body: Buffer, secret: string): boolean {
  const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(
    String(req.headers.authorization ?? ''),
  );
  if (!m || m[1] !== AK) return false;
  const signed = (m[2] ?? '').split(';');
  // Everything that can change the request's meaning must be covered.
  for (const must of ['host', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-security-token']) {
    if (!signed.includes(must)) return false;
  }
  const payloadHash = createHash('sha256').update(body).digest('hex');
  if (req.headers['x-acs-content-sha256'] !== payloadHash) return false;
  const canonicalQuery = [...query.keys()]
    .sort()
    .map((k) => `${k}=${rfc3986(query.get(k) ?? '')}`)
    .join('&');
  const canonicalHeaders = signed.map((k) => `${k}:${String(req.headers[k] ?? '').trim()}\n`).join('');
  const canonical = `${req.method}\n${path}\n${canonicalQuery}\n${canonicalHeaders}\n${signed.join(';')}\n${payloadHash}`;
  const sts = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  return m[3] === createHmac('sha256', secret).update(sts).digest('hex');
}

describe('FC invokers against a loopback FC API', () => {
  let server: Server;
  let endpoint: string;
  const seen: Seen[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://x');
        const v3 = /^\/2023-03-30\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
        const v2 = /^\/2016-08-15\/services\/([^/]+)\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
        const signatureOk = v3
          ? verifyAcs3(req, url.pathname, url.searchParams, body, SECRET)
          : verifyFc2(req, url.pathname, SECRET);
        seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body, signatureOk });
        const json = (status: number, obj: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-fc-request-id': 'req-1' });
          res.end(JSON.stringify(obj));
        };
        const fn = v3?.[1] ?? v2?.[2];
        if (req.method !== 'POST' || !fn) return json(404, { Code: 'PathNotSupported', ErrorCode: 'PathNotSupported' });
        if (!signatureOk) {
          return json(403, { Code: 'InvalidSignature', Message: 'signature mismatch', ErrorCode: 'InvalidSignature', ErrorMessage: 'signature mismatch' });
        }
        if (fn === 'missing') {
          return json(404, { Code: 'FunctionNotFound', Message: 'no such function', ErrorCode: 'FunctionNotFound', ErrorMessage: 'no such function' });
        }
        if (req.headers['x-fc-invocation-type'] === 'Async') {
          res.writeHead(202, { 'x-fc-request-id': 'req-async' });
          return res.end();
        }
        if (fn === 'boom') {
          res.writeHead(200, { 'x-fc-error-type': 'UnhandledInvocationError', 'x-fc-request-id': 'req-2' });
          return res.end(JSON.stringify({ errorMessage: 'kaboom', errorType: 'Error' }));
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-fc-request-id': 'req-3' });
        res.end(Buffer.concat([Buffer.from(`${fn}:`), body]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const creds = (secret = SECRET) => () => ({ accessKeyId: AK, accessKeySecret: secret, securityToken: TOKEN });

  describe('FC 3.0 (@alicloud/fc20230330)', () => {
    it('invokes synchronously with a signed POST and returns the function body', async () => {
      // Prepare
      const inv = new Fc3FunctionInvoker({ accountId: ACCOUNT, region: 'cn-hangzhou', endpoint, credentials: creds() });
      const payload = JSON.stringify({ triggerName: 'manual', payload: '{"mode":"full"}' });
      // Act
      const res = await inv.invoke('status-sync', payload);
      // Assess
      const req = seen.at(-1);
      assert.ok(req);
      assert.equal(req.method, 'POST');
      assert.equal(req.path, '/2023-03-30/functions/status-sync/invocations');
      assert.equal(req.signatureOk, true);
      assert.equal(req.headers['x-acs-security-token'], TOKEN);
      assert.equal(req.headers['x-acs-version'], '2023-03-30');
      assert.equal(req.headers['x-acs-action'], 'InvokeFunction');
      assert.equal(req.headers['x-fc-invocation-type'], undefined);
      assert.equal(req.body.toString(), payload);
      assert.equal(res.status, 200);
      assert.equal(res.body?.toString(), `status-sync:${payload}`);
      assert.equal(res.functionError, undefined);
    });

    it('sends x-fc-invocation-type: Async and reports 202 without a body', async () => {
      const inv = new Fc3FunctionInvoker({ accountId: ACCOUNT, region: 'cn-hangzhou', endpoint, credentials: creds() });
      const res = await inv.invoke('gc', Buffer.from('{}'), { async: true });
      assert.equal(seen.at(-1)?.headers['x-fc-invocation-type'], 'Async');
      assert.equal(res.status, 202);
      assert.equal(res.body, undefined);
    });

    it('reports a function error from x-fc-error-type instead of throwing', async () => {
      const inv = new Fc3FunctionInvoker({ accountId: ACCOUNT, region: 'cn-hangzhou', endpoint, credentials: creds() });
      const res = await inv.invoke('boom', '{}');
      assert.equal(res.functionError, 'UnhandledInvocationError');
      assert.match(res.body?.toString() ?? '', /kaboom/);
    });

    it('rejects with InvokeError carrying FC code and status (unknown function, bad signature)', async () => {
      const good = new Fc3FunctionInvoker({ accountId: ACCOUNT, region: 'cn-hangzhou', endpoint, credentials: creds() });
      await assert.rejects(good.invoke('missing', '{}'), (e: unknown) => {
        assert.ok(e instanceof InvokeError);
        assert.equal(e.code, 'FunctionNotFound');
        assert.equal(e.status, 404);
        return true;
      });
      const bad = new Fc3FunctionInvoker({ accountId: ACCOUNT, region: 'cn-hangzhou', endpoint, credentials: creds('wrong') });
      await assert.rejects(bad.invoke('gc', '{}'), (e: unknown) => {
        assert.ok(e instanceof InvokeError);
        assert.equal(e.code, 'InvalidSignature');
        assert.equal(e.status, 403);
        assert.ok(!e.message.includes('wrong'), 'the secret must not leak into the message');
        return true;
      });
      assert.equal(seen.at(-1)?.signatureOk, false);
    });
  });

  describe('FC 2.0 (@alicloud/fc2)', () => {
    it('invokes service/function with an FC signature and the STS token header', async () => {
      const inv = new Fc2FunctionInvoker({ accountId: ACCOUNT, region: 'cn-hangzhou', endpoint, service: 'eci-bridge', credentials: creds() });
      const res = await inv.invoke('pod-sync', Buffer.from('[{"data":{}}]'));
      const req = seen.at(-1);
      assert.ok(req);
      assert.equal(req.method, 'POST');
      assert.equal(req.path, '/2016-08-15/services/eci-bridge/functions/pod-sync/invocations');
      assert.equal(req.signatureOk, true);
      assert.equal(req.headers['x-fc-security-token'], TOKEN);
      assert.equal(req.headers['x-fc-account-id'], ACCOUNT);
      assert.equal(res.status, 200);
      assert.equal(res.body?.toString(), 'pod-sync:[{"data":{}}]');
    });

    it('passes Async and maps refusals to InvokeError', async () => {
      const inv = new Fc2FunctionInvoker({ accountId: ACCOUNT, region: 'cn-hangzhou', endpoint, service: 'eci-bridge', credentials: creds() });
      const res = await inv.invoke('gc', '{}', { async: true });
      assert.equal(seen.at(-1)?.headers['x-fc-invocation-type'], 'Async');
      assert.equal(res.status, 202);
      await assert.rejects(inv.invoke('missing', '{}'), (e: unknown) => {
        assert.ok(e instanceof InvokeError);
        assert.equal(e.code, 'FunctionNotFound');
        assert.equal(e.status, 404);
        return true;
      });
      const bad = new Fc2FunctionInvoker({ accountId: ACCOUNT, region: 'cn-hangzhou', endpoint, service: 'eci-bridge', credentials: creds('nope') });
      await assert.rejects(bad.invoke('gc', '{}'), (e: unknown) => e instanceof InvokeError && e.status === 403);
    });
  });

  describe('createFunctionInvoker', () => {
    const env = {
      ALIBABA_CLOUD_ACCESS_KEY_ID: AK,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
      ALIBABA_CLOUD_SECURITY_TOKEN: TOKEN,
      ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT,
    };

    it('chooses FC 3.0 by default and FC 2.0 with FC_API=fc2 (service from FC_SERVICE)', async () => {
      await createFunctionInvoker(parseConfig({ ...env, FC_ENDPOINT: endpoint })).invoke('gc', '{}');
      assert.equal(seen.at(-1)?.path, '/2023-03-30/functions/gc/invocations');
      await createFunctionInvoker(parseConfig({ ...env, FC_ENDPOINT: endpoint, FC_API: 'fc2', FC_SERVICE: 'svc-x' })).invoke('gc', '{}');
      assert.equal(seen.at(-1)?.path, '/2016-08-15/services/svc-x/functions/gc/invocations');
    });

    it('refuses to build an API invoker without an account id or keys', () => {
      assert.throws(() => createFunctionInvoker(parseConfig({ FC_ENDPOINT: endpoint })), InvokeError);
      assert.throws(() => createFunctionInvoker(parseConfig({ FC_API: 'local' })), InvokeError);
    });
  });
});

describe('LocalFunctionInvoker', () => {
  const calls: { name: string; event: string; fn: string; requestId: string }[] = [];
  const inv = new LocalFunctionInvoker({
    region: 'cn-hangzhou',
    load: async (name) => {
      if (name === 'echo') {
        return async (event, ctx) => {
          calls.push({ name, event: event.toString(), fn: ctx.function.name, requestId: ctx.requestId });
          return { got: JSON.parse(event.toString()) as unknown };
        };
      }
      if (name === 'fail') {
        return async () => {
          throw new TypeError('bad input');
        };
      }
      return undefined;
    },
  });

  it('passes a Buffer event and an FC-shaped context, and JSON-encodes the result', async () => {
    const res = await inv.invoke('echo', '{"a":1}');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body?.toString() ?? 'null'), { got: { a: 1 } });
    assert.equal(calls.at(-1)?.fn, 'echo');
    assert.equal(calls.at(-1)?.requestId, res.requestId);
  });

  it("reports a thrown error as FC does: UnhandledInvocationError with {errorMessage, errorType}", async () => {
    const res = await inv.invoke('fail', '{}');
    assert.equal(res.functionError, 'UnhandledInvocationError');
    assert.deepEqual(JSON.parse(res.body?.toString() ?? 'null'), { errorMessage: 'bad input', errorType: 'TypeError' });
  });

  it('answers 202 to an async call and runs it later; unknown functions are FunctionNotFound', async () => {
    const before = calls.length;
    const res = await inv.invoke('echo', '{"b":2}', { async: true });
    assert.equal(res.status, 202);
    await inv.drain();
    assert.equal(calls.length, before + 1);
    await assert.rejects(inv.invoke('nope', '{}'), (e: unknown) => e instanceof InvokeError && e.code === 'FunctionNotFound');
  });
});
