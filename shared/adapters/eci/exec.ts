/**
 * ECI's exec WebSocket (the `WebSocketUri` ExecContainerCommand returns), behind the `EciExecSession` port.
 *
 * ECI does not document the frame protocol. What this module assumes, from the evidence (a third-party ECI client
 * strips a leading channel byte 0-4 from binary frames; ECI runs a kubelet-like agent): Kubernetes' channel
 * framing (channel.k8s.io) — every binary message is one channel byte and its payload: 0 stdin, 1 stdout,
 * 2 stderr, 3 the final status (a metav1.Status JSON, v4), 4 resize (JSON {Width,Height}); 255 + 0 closes stdin
 * (v5). docs/kubelet-api.md lists what must be confirmed on a real account; only this file changes if it differs.
 */
import { WebSocket } from 'ws';
import type { EciExecHandlers, EciExecSession } from '../../ports/index.js';

export const ECI_EXEC_SUBPROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'];

export function openEciExec(uri: string, h: EciExecHandlers, opts: { timeoutMs?: number } = {}): Promise<EciExecSession> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(uri, ECI_EXEC_SUBPROTOCOLS, { handshakeTimeout: opts.timeoutMs ?? 10_000 });
    let open = false;
    const send = (channel: number, data: Buffer) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
    };
    ws.on('message', (raw, isBinary) => {
      const buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      if (!isBinary || buf.length === 0) return;
      const ch = buf[0];
      const body = buf.subarray(1);
      if (ch === 1 || ch === 2) h.output(ch, body);
      else if (ch === 3) {
        try {
          h.status(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
        } catch {
          h.output(2, body);
        }
      }
    });
    ws.on('close', (code, reason) => {
      const why = code === 1000 || code === 1005 ? undefined : `closed with ${code} ${reason.toString()}`.trim();
      if (open) h.closed(why);
      else reject(new Error(`the ECI exec WebSocket closed before opening: ${why ?? code}`));
    });
    ws.on('error', (err) => {
      if (!open) reject(new Error(`the ECI exec WebSocket failed: ${err.message}`, { cause: err }));
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(new Error(`the ECI exec WebSocket was refused: HTTP ${res.statusCode ?? 0}`));
      ws.terminate();
    });
    ws.once('open', () => {
      open = true;
      resolve({
        stdin: (data) => send(0, data),
        closeStdin: () => send(255, Buffer.from([0])),
        resize: (width, height) => send(4, Buffer.from(JSON.stringify({ Width: width, Height: height }))),
        close: () => ws.close(1000),
      });
    });
  });
}
