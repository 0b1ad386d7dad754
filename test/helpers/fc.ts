/** FC-shaped inputs for tests that call the function handlers as Function Compute would. */
import { randomUUID } from 'node:crypto';
import { DEFAULT_CREDENTIAL } from '../../emulators/eci/index.js';
import { buildMnsCloudEvents, serializeEvents } from '../../shared/sim/eventbridge.js';
import type { FcContextLike } from '../../shared/sim/fc.js';
import type { Logger, OutgoingMessage, QueueSender } from '../../shared/ports/index.js';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };

/** A queue that keeps what was sent (re-nudges, dead letters) for the test to inspect or deliver. */
export class RecordingQueue implements QueueSender {
  sent: OutgoingMessage[] = [];
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    this.sent.push(...messages);
  }
  take(): OutgoingMessage[] {
    const out = this.sent;
    this.sent = [];
    return out;
  }
}

/** An FC context as FC passes it (STS credentials of the function role: here the emulator's key pair). */
export function fcContext(fn: string, size: { memory: number; timeout: number } = { memory: 1024, timeout: 120 }): FcContextLike {
  return {
    requestId: randomUUID(),
    credentials: { accessKeyId: DEFAULT_CREDENTIAL.accessKeyId, accessKeySecret: DEFAULT_CREDENTIAL.accessKeySecret, securityToken: '' },
    function: { name: fn, handler: 'index.handler', ...size },
    region: 'cn-hangzhou',
    accountId: '1234567890',
  };
}

/** The Buffer EventBridge pushes for these queue bodies (IsBase64Decode: true, event streaming). */
export function queueEvent(bodies: string[]): Buffer {
  const events = buildMnsCloudEvents(
    bodies.map((body) => ({ messageId: randomUUID().replace(/-/g, '').toUpperCase(), body, enqueueTime: Date.now() })),
    { region: 'cn-hangzhou', accountId: '1234567890', queueName: 'eci-bridge-pods', source: 'MNS-pod-sync-pods-queue' },
    { base64Decode: true, now: Date.now(), newId: randomUUID },
  );
  return Buffer.from(serializeEvents(events), 'utf8');
}

/** A timer trigger's event. */
export function timerEvent(name: string, payload = '{}'): Buffer {
  return Buffer.from(JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: name, payload }));
}
