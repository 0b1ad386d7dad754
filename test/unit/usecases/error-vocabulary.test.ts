/**
 * The one error vocabulary (shared/errors.ts): every adapter family carries its kind, and the use-cases' and the
 * watcher's classifiers read only that kind — a Kubernetes 404 wrapped by a use-case error is still NotFound, a
 * Kubernetes 403 is Forbidden (not an ECI auth failure), and only ECI's (or the use-cases' own) failures count
 * against ECI's health.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EciError } from '../../../shared/adapters/eci/index.js';
import { InvokeError, isRetryableInvokeError } from '../../../shared/adapters/fc-invoke/index.js';
import { errorFromStatus, toKubeError } from '../../../shared/adapters/kube/index.js';
import { QueueNotFoundError, QueueReceiptHandleError, QueueUnavailableError } from '../../../shared/adapters/queue/index.js';
import { errorKind, hasKind } from '../../../shared/errors.js';
import { classify, isConflict, isEciError, isKubeForbidden, isNotFound, PodReferenceError } from '../../../shared/usecases/errors.js';
import * as watcherErrors from '../../../watcher/errors.js';

const eci = (kind: 'retryable' | 'capacity' | 'permanent' | 'notFound', code: string): EciError =>
  new EciError(`ECI CreateContainerGroup failed: ${code}`, { kind, code, action: 'CreateContainerGroup', attempts: 1, statusCode: 403 });

describe('the error vocabulary', () => {
  it('gives every Kubernetes answer its kind', () => {
    const cases: [number, string | undefined, string][] = [
      [404, 'NotFound', 'notFound'],
      [409, 'Conflict', 'conflict'],
      [409, 'AlreadyExists', 'conflict'],
      [403, 'Forbidden', 'forbidden'],
      [401, 'Unauthorized', 'forbidden'],
      [422, 'Invalid', 'invalid'],
      [410, 'Expired', 'retryable'],
      [503, 'ServiceUnavailable', 'retryable'],
      [429, 'TooManyRequests', 'retryable'],
    ];
    for (const [status, reason, kind] of cases) {
      assert.equal(errorKind(errorFromStatus('get pod a/b', status, { reason })), kind, `${status} ${reason}`);
    }
    assert.equal(errorKind(toKubeError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'list pods')), 'retryable');
  });

  it('gives the queue and FC invocation errors their kinds', () => {
    assert.equal(errorKind(new QueueNotFoundError('no queue', { code: 'QueueNotExist', operation: 'send' })), 'notFound');
    assert.equal(errorKind(new QueueUnavailableError('503', { code: 'Network', operation: 'send' })), 'retryable');
    assert.equal(errorKind(new QueueReceiptHandleError('stale', { code: 'ReceiptHandleError', operation: 'delete' })), 'conflict');
    const throttled = new InvokeError('throttled', 'TooManyRequests', 429);
    assert.equal(throttled.kind, 'retryable');
    assert.ok(isRetryableInvokeError(throttled));
    assert.equal(new InvokeError('no function', 'FunctionNotFound', 404).kind, 'notFound');
    assert.equal(new InvokeError('denied', 'AccessDenied', 403).kind, 'permanent');
    assert.ok(!isRetryableInvokeError(new InvokeError('denied', 'AccessDenied', 403)));
  });

  it('finds a kind anywhere on the cause chain', () => {
    const gone = errorFromStatus('get configmap a/b', 404, { reason: 'NotFound' });
    const wrapped = new PodReferenceError('ConfigMap b of pod a/p could not be read', { cause: gone });
    assert.ok(hasKind(wrapped, 'notFound'));
    assert.ok(isNotFound(wrapped));
    assert.ok(watcherErrors.isNotFound(wrapped));
    assert.equal(classify(wrapped), 'retryable', 'the outermost class wins');
  });

  it('classifies for the pod sync as it always did', () => {
    assert.equal(classify(eci('capacity', 'OperationDenied.NoStock')), 'capacity');
    assert.equal(classify(eci('permanent', 'Forbidden.RAM')), 'permanent');
    assert.equal(classify(errorFromStatus('get pod', 404, {})), 'notFound');
    // Kubernetes refusals and conflicts are retried (bounded by the attempts), never the pod's permanent failure
    for (const status of [403, 409, 422, 500]) assert.equal(classify(errorFromStatus('patch pod', status, {})), 'retryable', String(status));
    assert.equal(classify(new Error('something odd')), 'retryable');
  });

  it('tells a Kubernetes Forbidden from an ECI auth failure, and conflicts apart', () => {
    assert.ok(isKubeForbidden(errorFromStatus('get pod', 403, { reason: 'Forbidden' })));
    assert.ok(!isKubeForbidden(eci('permanent', 'Forbidden.RAM')), 'ECI says 403 too, but it is not the namespace');
    assert.ok(isConflict(errorFromStatus('replace lease', 409, { reason: 'Conflict' })));
    assert.ok(watcherErrors.isConflict(errorFromStatus('create node', 409, { reason: 'AlreadyExists' })));
    assert.ok(!isConflict(eci('retryable', 'OperationConflict')));
    assert.ok(!watcherErrors.isNotFound(errorFromStatus('get pod', 500, {})));
  });

  it('counts ECI failures, not Kubernetes or queue ones, against ECI health', () => {
    assert.ok(isEciError(eci('retryable', 'ServiceUnavailable')));
    assert.ok(!isEciError(errorFromStatus('patch pod', 500, {})));
    assert.ok(!isEciError(new QueueUnavailableError('503', { code: 'Network', operation: 'send' })));
    assert.ok(!isEciError(new Error('plain')));
  });
});
