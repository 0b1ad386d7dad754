/**
 * The part of `ws` 8 (CommonJS, no bundled types) the exec bridge and the ECI emulator use, as read from
 * node_modules/ws/lib/{websocket,websocket-server}.js.
 */
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';
  import type { Duplex } from 'node:stream';

  type RawData = Buffer | ArrayBuffer | Buffer[];

  class WebSocket extends EventEmitter {
    static readonly OPEN: 1;
    constructor(address: string, protocols?: string | string[], options?: { headers?: Record<string, string>; handshakeTimeout?: number; rejectUnauthorized?: boolean });
    readonly protocol: string;
    readonly readyState: 0 | 1 | 2 | 3;
    send(data: Buffer | string, cb?: (err?: Error) => void): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
    on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'open', listener: () => void): this;
    on(event: 'unexpected-response', listener: (req: unknown, res: IncomingMessage) => void): this;
    once(event: 'open', listener: () => void): this;
    once(event: 'error', listener: (err: Error) => void): this;
    once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  }

  class WebSocketServer extends EventEmitter {
    constructor(options: { noServer: true; handleProtocols?: (protocols: Set<string>, req: IncomingMessage) => string | false; maxPayload?: number });
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WebSocket, req: IncomingMessage) => void): void;
    close(cb?: () => void): void;
  }

  export { WebSocket, WebSocketServer, type RawData };
  export default WebSocket;
}
