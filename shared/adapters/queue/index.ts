export { type EmbeddedDeliveryOptions, startEmbeddedDelivery } from './embedded-delivery.js';
export { EmbeddedQueue, type EmbeddedQueueOptions, type EmbeddedQueueStats, systemClock } from './embedded.js';
export {
  QueueAuthError,
  QueueBatchError,
  QueueError,
  QueueInvalidRequestError,
  QueueMessageTooLargeError,
  QueueNotFoundError,
  QueueReceiptHandleError,
  QueueUnavailableError,
} from './errors.js';
export { MnsQueue, type MnsQueueAttributes, type MnsQueueOptions, mnsErrorCode } from './mns.js';
export { MNS_ACTIONS, type MnsActionSpec, mnsRamGrants, SENDER_METHODS } from './actions.js';
