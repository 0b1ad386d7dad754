/**
 * Mean and p99 time to translate one realistic pod (the web Deployment golden case: probes, ConfigMap and Secret
 * volumes, env from both, pull secret, projected token). Target: mean under 1 ms.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contextFor, parseOptions, readInput } from '../scripts/commands/_manifests.js';
import { tokenKey } from '../shared/domain/references.js';
import { redactRequest, translatePod } from '../shared/domain/translate.js';
import { figure, writeResult } from './results.js';

const file = join(import.meta.dirname, '..', 'test', 'fixtures', 'golden', 'web-deployment.yaml');
const io = { readFile: (p: string) => readFileSync(p, 'utf8'), env: {} };
const opts = parseOptions(['-f', file], io, true);
const input = readInput(opts.files, io);
const pod = input.pods[0];
if (!pod) throw new Error('no pod in the fixture');
pod.spec.volumes?.push({
  name: 'kube-api-access-abcde',
  projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] },
});
const base = contextFor(opts.ctx, input, pod);
const ctx = {
  ...base,
  offline: undefined,
  configMaps: new Map([...(base.configMaps ?? new Map()), ['kube-root-ca.crt', { metadata: {}, data: { 'ca.crt': 'x'.repeat(1200) } }]]),
  tokens: new Map([[tokenKey({ serviceAccountName: 'default', expirationSeconds: 3607 }), 'ey'.repeat(400)]]),
};

const arg = process.argv.indexOf('--iterations');
const n = arg > 0 ? Number(process.argv[arg + 1]) : 20_000;
for (let i = 0; i < 2000; i++) translatePod(pod, ctx);
const times: number[] = [];
let ok = 0;
for (let i = 0; i < n; i++) {
  const t = process.hrtime.bigint();
  const r = translatePod(pod, ctx);
  times.push(Number(process.hrtime.bigint() - t) / 1000);
  if (r.ok) ok++;
}
times.sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / times.length;
const p99 = times[Math.floor(times.length * 0.99)] ?? 0;
const r = translatePod(pod, ctx);
const t0 = process.hrtime.bigint();
for (let i = 0; i < 1000 && r.ok; i++) redactRequest(r.request);
const redact = Number(process.hrtime.bigint() - t0) / 1000 / 1000;
process.stdout.write(
  `translate one pod (web Deployment + token volume), ${n} runs, ${ok} ok\n` +
    `  mean ${mean.toFixed(1)} µs   p99 ${p99.toFixed(1)} µs   target: mean < 1000 µs\n` +
    `  redactRequest mean ${redact.toFixed(1)} µs\n`,
);
writeResult('translate', [
  figure('translate.mean', 'translate one pod, mean', mean, 'µs', { op: '<=', value: 1000 }),
  figure('translate.p99', 'translate one pod, p99', p99, 'µs'),
  figure('translate.redact.mean', 'redactRequest, mean', redact, 'µs'),
]);
