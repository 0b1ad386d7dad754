/**
 * No secret value (Secret data, registry passwords, tokens) reaches a warning, a violation, a redacted request
 * or the CLI's output and error lines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Io } from '../../../scripts/commands/_manifests.js';
import { translateCommand } from '../../../scripts/commands/translate.js';
import { validateCommand } from '../../../scripts/commands/validate.js';
import type { Pod, Secret } from '../../../shared/domain/k8s.js';
import { tokenKey } from '../../../shared/domain/references.js';
import { REDACTED, redactRequest, translatePod } from '../../../shared/domain/translate.js';
import { b64, baseCtx, basePod } from './helpers.js';

const SECRETS = ['db-pass-Zq9', 'reg-pass-Xk2', 'token-Jw7', 'tls-key-Vb3', 'broken-Hn5', 'cfg-pass-Lp4'];

function leaks(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s) || text.includes(b64(s)));
}

function secretPod(): Pod {
  const p = basePod();
  p.spec.imagePullSecrets = [{ name: 'reg' }, { name: 'broken' }, { name: 'cfg' }];
  p.spec.containers[0] = {
    name: 'app',
    image: 'i',
    command: ['run', '--password=$(DB)'],
    env: [
      { name: 'DB', valueFrom: { secretKeyRef: { name: 'app', key: 'db' } } },
      { name: 'MISSING', valueFrom: { secretKeyRef: { name: 'app', key: 'nope', optional: true } } },
    ],
    envFrom: [{ secretRef: { name: 'app' }, prefix: 'S_' }],
    volumeMounts: [{ name: 'tls', mountPath: '/tls' }, { name: 'tok', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
  };
  p.spec.volumes = [
    { name: 'tls', secret: { secretName: 'app', items: [{ key: 'tls', path: 'tls.key' }, { key: 'absent', path: 'x' }], optional: true } },
    { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
  ];
  return p;
}

const secrets = new Map<string, Secret>([
  ['app', { metadata: { name: 'app' }, data: { db: b64('db-pass-Zq9'), tls: b64('tls-key-Vb3') } }],
  ['reg', { metadata: { name: 'reg' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'r.example.com': { auth: b64('u:reg-pass-Xk2') } } })) } }],
  ['broken', { metadata: { name: 'broken' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths": broken-Hn5') } }],
  ['cfg', { metadata: { name: 'cfg' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'q.example.com': { username: 'u', password: 'cfg-pass-Lp4' } })) } }],
]);
const tokens = new Map([[tokenKey({ serviceAccountName: 'default', expirationSeconds: 3600 }), 'token-Jw7']]);

describe('secrets never leak', () => {
  it('the unredacted request carries them (so the checks below are meaningful)', () => {
    const r = translatePod(secretPod(), baseCtx({ secrets, tokens }));
    assert.ok(r.ok);
    assert.deepEqual(leaks(JSON.stringify(r.request)).sort(), ['cfg-pass-Lp4', 'db-pass-Zq9', 'reg-pass-Xk2', 'tls-key-Vb3', 'token-Jw7']);
  });

  it('redactRequest hides every one, exactly, and warnings carry none', () => {
    const r = translatePod(secretPod(), baseCtx({ secrets, tokens }));
    assert.ok(r.ok);
    const red = redactRequest(r.request);
    assert.deepEqual(leaks(JSON.stringify(red)), []);
    assert.deepEqual(leaks(JSON.stringify(r.warnings)), []);
    assert.equal(red.Container[0]?.Command?.[0], 'run', 'non-secret values are kept');
    assert.equal(red.Container[0]?.Command?.[1], REDACTED);
    assert.equal(red.ImageRegistryCredential?.[0]?.UserName, 'u');
    assert.deepEqual(leaks(JSON.stringify(redactRequest(structuredClone(r.request)))), [], 'conservative without a record');
  });

  it('violations carry none', () => {
    const p = secretPod();
    p.spec.hostNetwork = true;
    (p.spec.volumes ?? []).push({ name: 'h', hostPath: { path: '/db-pass-Zq9' } });
    const r = translatePod(p, baseCtx({ secrets, tokens }));
    assert.ok(!r.ok);
    assert.deepEqual(leaks(JSON.stringify(r.violations).replace('/db-pass-Zq9', '')), []);
    assert.ok(!JSON.stringify(r.violations).includes('db-pass-Zq9'), 'the hostPath path is not echoed');
  });

  it('the CLI prints none unless --show-secrets', () => {
    const yaml = [
      'apiVersion: v1\nkind: Secret\nmetadata: {name: app}\nstringData: {db: db-pass-Zq9, tls: tls-key-Vb3}',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: i\n    env:\n    - name: DB\n      valueFrom: {secretKeyRef: {name: app, key: db}}\n  volumes:\n  - name: t\n    secret: {secretName: app}',
    ].join('\n---\n');
    const io: Io = { readFile: () => yaml, env: {} };
    const t = translateCommand(['-f', 'x.yaml'], io);
    assert.equal(t.code, 0);
    assert.deepEqual(leaks(t.stdout + t.stderr), []);
    const v = validateCommand(['-f', 'x.yaml'], io);
    assert.deepEqual(leaks(v.stdout + v.stderr), []);
    const shown = translateCommand(['-f', 'x.yaml', '--show-secrets'], io);
    assert.deepEqual(leaks(shown.stdout).sort(), ['db-pass-Zq9', 'tls-key-Vb3']);
  });
});
