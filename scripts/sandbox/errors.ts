/** The error family of `npm start` (the sandbox and the one-process bridge). */
import { BridgeError } from '../../shared/errors.js';

export class SandboxError extends BridgeError {}

/** The one-process bridge could not start or stop. */
export class RuntimeError extends SandboxError {}

/** A command-line or configuration problem: the message says what to set. */
export class StartUsageError extends SandboxError {}
