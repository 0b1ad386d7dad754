/**
 * Property: for arbitrary pod specs, translatePod either returns a request within ECI's documented limits or
 * returns violations; it never throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { EciCreateRequest } from '../../../shared/domain/eci.js';
import type { Pod } from '../../../shared/domain/k8s.js';
import { translatePod } from '../../../shared/domain/translate.js';
import { validatePod } from '../../../shared/domain/validate.js';
import { podArb } from './arbitraries.js';
import { baseCtx } from './helpers.js';

describe('the pod generator', () => {
  it('produces both translatable and refused pods (the property is not vacuous)', () => {
    const results = fc.sample(podArb, 500).map((p) => translatePod(p as Pod, baseCtx({ offline: 'placeholder' })).ok);
    assert.ok(results.filter(Boolean).length > 50, `only ${results.filter(Boolean).length} of 500 translated`);
    assert.ok(results.filter((x) => !x).length > 50);
  });
});

function withinLimits(req: EciCreateRequest): string[] {
  const bad: string[] = [];
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(req.ContainerGroupName) || req.ContainerGroupName.length < 2 || req.ContainerGroupName.length > 128) bad.push('name');
  if (req.Container.length < 1 || req.Container.length > 20) bad.push('containers');
  if ((req.InitContainer ?? []).length > 20) bad.push('init containers');
  if ((req.Volume ?? []).length > 20) bad.push('volumes');
  if ((req.Tag ?? []).length > 20) bad.push('tags');
  for (const t of req.Tag ?? []) if (!t.Key || t.Key.length > 128 || t.Value.length > 128) bad.push(`tag ${t.Key}`);
  if (req.ClientToken !== undefined && (req.ClientToken.length > 64 || !/^[\x21-\x7e]+$/.test(req.ClientToken))) bad.push('client token');
  for (const c of [...req.Container, ...(req.InitContainer ?? [])]) if (!c.Name || !c.Image) bad.push('container name/image');
  if (typeof req.Cpu === 'number' && req.Cpu > 64) bad.push('cpu');
  return bad;
}

describe('translatePod (property)', () => {
  it('returns a request within ECI limits or violations, and never throws', () => {
    fc.assert(
      fc.property(podArb, fc.boolean(), (pod, offline) => {
        const r = translatePod(pod as Pod, baseCtx(offline ? { offline: 'placeholder' } : {}));
        if (r.ok) assert.deepEqual(withinLimits(r.request), []);
        else {
          assert.ok(r.violations.length > 0);
          for (const v of r.violations) assert.ok(v.code && v.field && v.message && v.alternative);
        }
        const v = validatePod(pod as Pod);
        assert.ok(Array.isArray(v.violations) && Array.isArray(v.warnings));
      }),
      { numRuns: 600 },
    );
  });
});
