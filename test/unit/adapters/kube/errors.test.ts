import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import {
  AlreadyExistsError,
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidError,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  isTransient,
  KubeError,
  NotFoundError,
  TransientError,
  toKubeError,
} from '../../../../shared/adapters/kube/errors.js';
import { BridgeError } from '../../../../shared/errors.js';

function apiException(code: number, reason: string, message: string): ApiException<string> {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
  return new ApiException(code, `HTTP-Code: ${code}`, body, {});
}

describe('toKubeError', () => {
  const cases: [number, string, new (...a: never[]) => KubeError][] = [
    [404, 'NotFound', NotFoundError],
    [409, 'AlreadyExists', AlreadyExistsError],
    [409, 'Conflict', ConflictError],
    [410, 'Expired', GoneError],
    [403, 'Forbidden', ForbiddenError],
    [401, 'Unauthorized', ForbiddenError],
    [422, 'Invalid', InvalidError],
    [415, 'UnsupportedMediaType', InvalidError],
    [400, 'BadRequest', InvalidError],
    [500, 'InternalError', TransientError],
    [503, 'ServiceUnavailable', TransientError],
    [429, 'TooManyRequests', TransientError],
  ];
  for (const [code, reason, cls] of cases) {
    it(`HTTP ${code} ${reason} → ${cls.name}`, () => {
      const cause = apiException(code, reason, `pods "p" ${reason}`);
      const err = toKubeError(cause, 'get pod ns/p');
      assert.ok(err instanceof cls, `${err.name} is not ${cls.name}`);
      assert.ok(err instanceof BridgeError);
      assert.equal(err.name, cls.name);
      assert.equal(err.status, code);
      assert.equal(err.reason, reason);
      assert.equal(err.cause, cause);
      assert.equal(err.message, `get pod ns/p: pods "p" ${reason}`);
    });
  }

  it('AlreadyExists is a Conflict too', () => {
    const err = toKubeError(apiException(409, 'AlreadyExists', 'exists'), 'create');
    assert.ok(isConflict(err) && isAlreadyExists(err));
    assert.ok(!isAlreadyExists(toKubeError(apiException(409, 'Conflict', 'modified'), 'update')));
  });

  it('maps network failures (node-fetch FetchError, socket codes) to TransientError', () => {
    const refused = Object.assign(new Error('request to https://127.0.0.1:1/api failed, reason: connect ECONNREFUSED'), {
      name: 'FetchError',
      type: 'system',
      code: 'ECONNREFUSED',
    });
    assert.ok(toKubeError(refused, 'list') instanceof TransientError);
    assert.ok(toKubeError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'watch') instanceof TransientError);
    assert.ok(toKubeError(new Error('Premature close'), 'watch') instanceof TransientError);
  });

  it('maps a watch failure with statusCode (client-node Watch) by status', () => {
    assert.ok(toKubeError(Object.assign(new Error('Gone'), { statusCode: 410 }), 'watch') instanceof GoneError);
  });

  it('passes KubeErrors through and keeps unknown errors as KubeError with cause', () => {
    const nf = new NotFoundError('x');
    assert.equal(toKubeError(nf, 'ctx'), nf);
    const odd = new Error('odd');
    const k = toKubeError(odd, 'ctx');
    assert.equal(k.constructor, KubeError);
    assert.equal(k.cause, odd);
  });
});

describe('is* helpers walk the cause chain', () => {
  it('finds a NotFoundError wrapped twice', () => {
    const inner = new NotFoundError('gone');
    const outer = new Error('use-case failed', { cause: new Error('adapter', { cause: inner }) });
    assert.ok(isNotFound(outer));
    assert.ok(!isGone(outer));
    assert.ok(!isTransient(outer));
    assert.ok(!isNotFound(new Error('plain')));
    assert.ok(!isNotFound(undefined));
  });
});
