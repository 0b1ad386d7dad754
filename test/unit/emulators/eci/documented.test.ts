/**
 * The emulator's list of documented CreateContainerGroup parameters (emulators/eci/documented.ts) against the
 * request model of @alicloud/eci20180808 2.0.3: every name the SDK can send is accepted (no typo in the list), the
 * three documented fields the SDK lacks are accepted, and names ECI does not document are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as eciSdk from '@alicloud/eci20180808';
import { CREATE_CONTAINER_GROUP_PARAMS, undocumentedParameter } from '../../../../emulators/eci/documented.js';

interface Model {
  names(): Record<string, string>;
  types(): Record<string, unknown>;
}

function isModel(t: unknown): t is Model {
  return typeof t === 'function' && typeof (t as { names?: unknown }).names === 'function';
}

/** Every flattened leaf name a model can put on the wire (lists as `.1`). */
function leafNames(model: Model, prefix = ''): string[] {
  const out: string[] = [];
  const types = model.types();
  for (const [ts, wire] of Object.entries(model.names())) {
    const name = prefix ? `${prefix}.${wire}` : wire;
    let t = types[ts];
    let path = name;
    while (typeof t === 'object' && t !== null && (t as { type?: unknown }).type === 'array') {
      t = (t as { itemType: unknown }).itemType;
      path = `${path}.1`;
    }
    if (isModel(t)) out.push(...leafNames(t, path));
    else out.push(path);
  }
  return out;
}

const none = new Set<string>();

describe('documented CreateContainerGroup parameters', () => {
  it('accept every name the 2.0.3 SDK request model can send', () => {
    const names = leafNames(eciSdk.default.CreateContainerGroupRequest as unknown as Model);
    assert.ok(names.length > 150, `walked ${names.length} names`);
    assert.equal(undocumentedParameter(names, CREATE_CONTAINER_GROUP_PARAMS, none), undefined);
  });

  it('accept the fields documented beyond the SDK', () => {
    assert.equal(undocumentedParameter(['GpuDriverVersion', 'ComputeCategory.1', 'ComputeCategory.2', 'MaxPendingMinute'], CREATE_CONTAINER_GROUP_PARAMS, none), undefined);
  });

  it('refuse misspelt, invented and misshapen names', () => {
    for (const bad of ['MaxPendingMinutes', 'GPUDriverVersion', 'Container.1.Foo', 'Container.Name', 'Container.0.Name', 'Container.1', 'Tag.1.Kay', 'ComputeCategory', 'Cpu.1', 'constructor', '__proto__']) {
      assert.equal(undocumentedParameter([bad], CREATE_CONTAINER_GROUP_PARAMS, none), bad, bad);
    }
  });

  it('skip the signature parameters it is told to', () => {
    assert.equal(undocumentedParameter(['Signature', 'RegionId'], CREATE_CONTAINER_GROUP_PARAMS, new Set(['Signature'])), undefined);
  });
});
