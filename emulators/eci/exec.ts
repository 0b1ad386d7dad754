/**
 * The emulator's exec WebSocket: what the `WebSocketUri` of ExecContainerCommand points at. Single-use tokens,
 * valid 30 s (as ECI's HttpUrl). Frames use Kubernetes' channel framing, the protocol the bridge assumes for ECI
 * (shared/adapters/eci/exec.ts): 0 stdin, 1 stdout, 2 stderr, 3 the final metav1.Status, 4 resize, 255+0 stdin EOF.
 *
 * A tiny command set: `echo ARGS`, `cat` (stdin back to stdout until EOF), `sh -c "echo X; echo Y >&2; exit N"`,
 * `stty size` (the last resize, "rows cols"; with a tty it waits briefly for the first one), `hostname`; anything
 * else writes "command not found" to stderr and exits 127. With a tty stderr goes to stdout and "\n" becomes "\r\n".
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';

export interface ExecTicket {
  groupName: string;
  command: string[];
  tty: boolean;
  stdin: boolean;
  expiresAt: number;
}

const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => [...offered][0] ?? false });

function status(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command ${JSON.stringify(command)}, exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function serveExec(req: IncomingMessage, socket: Duplex, head: Buffer, ticket: ExecTicket | undefined): void {
  if (!ticket) {
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => run(ws, ticket));
}

function run(ws: WebSocket, t: ExecTicket): void {
  let size: { rows: number; cols: number } | undefined;
  let onStdin: ((d: Buffer) => void) | undefined;
  let onEof: (() => void) | undefined;
  let onResize: (() => void) | undefined;
  let done = false;
  const send = (ch: number, data: string | Buffer) => {
    if (ws.readyState !== 1) return;
    const out = ch === 3 ? ch : t.tty && ch === 2 ? 1 : ch;
    const body = typeof data === 'string' && t.tty && ch !== 3 ? data.replace(/\n/g, '\r\n') : data;
    ws.send(Buffer.concat([Buffer.from([out]), Buffer.from(body)]));
  };
  const exit = (code: number) => {
    if (done) return;
    done = true;
    send(3, JSON.stringify(status(code, t.command)));
    ws.close(1000);
  };
  ws.on('message', (raw: RawData) => {
    const buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    const ch = buf[0];
    const body = buf.subarray(1);
    if (ch === 0) onStdin?.(body);
    else if (ch === 255 && body[0] === 0) onEof?.();
    else if (ch === 4) {
      const s = JSON.parse(body.toString()) as { Width: number; Height: number };
      size = { rows: s.Height, cols: s.Width };
      onResize?.();
    }
  });
  ws.on('close', () => onEof?.());

  const [cmd = '', ...args] = t.command;
  const name = cmd.split('/').pop() ?? cmd;
  if (name === 'echo') {
    send(1, `${args.join(' ')}\n`);
    exit(0);
  } else if (name === 'hostname') {
    send(1, `${t.groupName}\n`);
    exit(0);
  } else if (name === 'cat' && args.length === 0) {
    onStdin = (d) => send(1, d);
    onEof = () => exit(0);
  } else if (name === 'stty' && args[0] === 'size') {
    const print = () => {
      send(1, `${size?.rows ?? 24} ${size?.cols ?? 80}\n`);
      exit(0);
    };
    if (size || !t.tty) print();
    else {
      onResize = print;
      setTimeout(print, 1000).unref();
    }
  } else if ((name === 'sh' || name === 'bash') && args[0] === '-c') {
    for (const part of (args[1] ?? '').split(';').map((x) => x.trim())) {
      const ex = /^exit\s+(\d+)$/.exec(part);
      if (ex) {
        exit(Number(ex[1]));
        return;
      }
      const echo = /^echo\s+(.*?)(\s*>&2)?$/.exec(part);
      if (echo) send(echo[2] ? 2 : 1, `${echo[1]}\n`);
    }
    exit(0);
  } else {
    send(2, `eci-sim: ${cmd}: command not found\n`);
    exit(127);
  }
}
