/**
 * Kubelet API authentication and authorization: the kubelet's path → nodes/<subresource> mapping (create forced
 * for exec/attach/portForward), verified client certificates before tokens, 401 without either, 403 with the
 * reason, and the webhook caches (token 2 min, allow 5 min, deny 30 s) over an in-memory KubeletSupport.
 */
import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import type { KubeletSupport, KubeletUser } from '../../../../shared/ports/index.js';
import { KubeletAuth } from '../../../../watcher/kubelet/auth.js';
import { parseExecQuery } from '../../../../watcher/kubelet/exec.js';
import { authzAttributes, parseLogQuery, parseRoute } from '../../../../watcher/kubelet/paths.js';
import { parsePorts } from '../../../../watcher/kubelet/portForward.js';

function fakeSupport(tokens: Record<string, KubeletUser>, allow: (u: KubeletUser, a: { verb: string; subresource: string }) => boolean) {
  const calls = { tokenReviews: 0, accessReviews: 0 };
  const support: Pick<KubeletSupport, 'reviewToken' | 'reviewAccess'> = {
    async reviewToken(token) {
      calls.tokenReviews++;
      return tokens[token];
    },
    async reviewAccess(user, attrs) {
      calls.accessReviews++;
      assert.equal(attrs.name, 'vn');
      return allow(user, attrs) ? { allowed: true, reason: '' } : { allowed: false, reason: 'no RBAC rule' };
    },
  };
  return { support: support as KubeletSupport, calls };
}

const socket = (cert?: { CN: string; O?: string | string[] }, authorized = true) =>
  ({ authorized: authorized && cert !== undefined, getPeerCertificate: () => (cert ? { subject: cert } : {}) }) as unknown as TLSSocket;

describe('kubelet API auth', () => {
  it('maps paths and methods like the kubelet, forcing create for streaming subresources', () => {
    assert.deepEqual(authzAttributes('GET', '/containerLogs/ns/p/c'), { verb: 'get', subresource: 'proxy' });
    assert.deepEqual(authzAttributes('GET', '/stats/summary'), { verb: 'get', subresource: 'stats' });
    assert.deepEqual(authzAttributes('GET', '/metrics/resource'), { verb: 'get', subresource: 'metrics' });
    assert.deepEqual(authzAttributes('GET', '/logs/'), { verb: 'get', subresource: 'log' });
    assert.deepEqual(authzAttributes('GET', '/exec/ns/p/c'), { verb: 'create', subresource: 'proxy' });
    assert.deepEqual(authzAttributes('POST', '/portForward/ns/p'), { verb: 'create', subresource: 'proxy' });
    assert.deepEqual(parseRoute('/containerLogs/ns/p%2Dx/c'), { kind: 'containerLogs', namespace: 'ns', pod: 'p-x', container: 'c' });
    assert.deepEqual(parseRoute('/portForward/ns/p'), { kind: 'portForward', namespace: 'ns', pod: 'p' });
    assert.deepEqual(parseRoute('/containerLogs/ns/p'), { kind: 'unknown' });
  });

  it('parses PodLogOptions and refuses contradictions with 400', () => {
    const q = parseLogQuery(new URLSearchParams('follow=true&timestamps=true&tailLines=5&limitBytes=10&sinceTime=2026-01-01T00:00:00Z'));
    assert.deepEqual(q, { follow: true, previous: false, timestamps: true, tailLines: 5, limitBytes: 10, sinceSeconds: undefined, sinceTime: Date.parse('2026-01-01T00:00:00Z') });
    for (const bad of ['sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z', 'tailLines=-1', 'limitBytes=0', 'sinceTime=yesterday', 'follow=true&previous=true']) {
      assert.throws(() => parseLogQuery(new URLSearchParams(bad)), (e: Error & { status?: number }) => e.status === 400, bad);
    }
  });

  it('parses exec and port-forward queries; ECI\'s command limits and bad ports are 400', () => {
    assert.deepEqual(parseExecQuery(new URLSearchParams('command=sh&command=-c&command=x&input=1&output=1&error=1&tty=1')), {
      command: ['sh', '-c', 'x'],
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
    });
    const q = (cmd: string[]) => new URLSearchParams(cmd.map((c): [string, string] => ['command', c]));
    assert.equal(parseExecQuery(q(Array.from({ length: 20 }, () => 'a'))).command.length, 20);
    assert.throws(() => parseExecQuery(q(Array.from({ length: 21 }, () => 'a'))), (e: Error & { status?: number }) => e.status === 400);
    assert.throws(() => parseExecQuery(q(['a'.repeat(257)])), /at most 256 characters/);
    assert.throws(() => parseExecQuery(q([])), /at least one command/);
    assert.deepEqual(parsePorts(new URLSearchParams('port=80&port=8080')), [80, 8080]);
    assert.deepEqual(parsePorts(new URLSearchParams('ports=80,443')), [80, 443]);
    assert.throws(() => parsePorts(new URLSearchParams('port=99999')), (e: Error & { status?: number }) => e.status === 400);
    assert.throws(() => parsePorts(new URLSearchParams('')), /at least one port/);
  });

  it('a verified client certificate is the user (CN, O); an unverified one falls back to the token; neither is 401', async () => {
    const { support, calls } = fakeSupport({ good: { username: 'sa', groups: ['g'] } }, () => true);
    const auth = new KubeletAuth({ support, nodeName: 'vn', now: () => 0 });
    assert.deepEqual(await auth.authenticate(socket({ CN: 'kube-apiserver-kubelet-client', O: 'system:masters' }), undefined), {
      username: 'kube-apiserver-kubelet-client',
      groups: ['system:masters'],
    });
    assert.equal(calls.tokenReviews, 0);
    await assert.rejects(auth.authenticate(socket({ CN: 'mallory' }, false), undefined), (e: Error & { status?: number }) => e.status === 401);
    assert.equal((await auth.authenticate(socket({ CN: 'mallory' }, false), 'Bearer good')).username, 'sa');
    await assert.rejects(auth.authenticate(socket(), 'Bearer bad'), (e: Error & { status?: number }) => e.status === 401 && /not valid/.test(e.message));
    await assert.rejects(auth.authenticate(socket(), 'Basic x'), (e: Error & { status?: number }) => e.status === 401);
  });

  it('caches token reviews 2 min, allows 5 min, denials 30 s; a denial is 403 naming user, verb and subresource', async () => {
    let now = 0;
    let granted = false;
    const { support, calls } = fakeSupport({ t: { username: 'bob', groups: [] } }, (_u, a) => granted || a.subresource === 'metrics');
    const auth = new KubeletAuth({ support, nodeName: 'vn', now: () => now });
    const bob = await auth.authenticate(socket(), 'Bearer t');
    await auth.authenticate(socket(), 'Bearer t');
    assert.equal(calls.tokenReviews, 1);
    now = 120_000;
    await auth.authenticate(socket(), 'Bearer t');
    assert.equal(calls.tokenReviews, 2);

    await auth.authorize(bob, { verb: 'get', subresource: 'metrics' });
    await assert.rejects(auth.authorize(bob, { verb: 'create', subresource: 'proxy' }), (e: Error & { status?: number }) =>
      e.status === 403 && e.message === 'Forbidden (user=bob, verb=create, resource=nodes, subresource=proxy): no RBAC rule',
    );
    granted = true;
    now += 29_999;
    await assert.rejects(auth.authorize(bob, { verb: 'create', subresource: 'proxy' }), 'the denial is cached 30 s');
    now += 1;
    await auth.authorize(bob, { verb: 'create', subresource: 'proxy' });
    const before = calls.accessReviews;
    now += 299_999;
    await auth.authorize(bob, { verb: 'get', subresource: 'metrics' });
    await auth.authorize(bob, { verb: 'create', subresource: 'proxy' });
    assert.equal(calls.accessReviews, before + 1, 'the metrics allow expired (5 min since it was cached), the proxy allow did not');
  });
});
