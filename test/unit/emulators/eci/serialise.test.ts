/** The emulator's response serialiser splices cached group JSON in and otherwise writes what JSON.stringify writes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Prejson, stringifyResponse } from '../../../../emulators/eci/wire.js';

describe('stringifyResponse', () => {
  it('equals JSON.stringify for any response without cached fragments (undefined values left out)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.jsonValue(), fc.constant(undefined))), (payload) => {
        assert.equal(stringifyResponse(payload), JSON.stringify(payload));
      }),
    );
  });

  it('splices cached fragments into their array as they are, in order, beside plain values', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 5 }), fc.string(), fc.integer(), (groups, next, total) => {
        const plain = { RequestId: 'R', ContainerGroups: groups, NextToken: next, TotalCount: total, Skipped: undefined };
        const cached = { ...plain, ContainerGroups: groups.map((g) => new Prejson(JSON.stringify(g))) };
        const text = stringifyResponse(cached);
        assert.equal(text, JSON.stringify(plain));
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(plain)));
      }),
    );
  });
});
