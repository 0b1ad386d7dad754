/**
 * port-forward over WebSocket (the kubelet's channel protocol for it): for the i-th requested port, channel 2i
 * carries data and 2i+1 errors; the first frame the kubelet sends on each is the port number (uint16, little
 * endian). The watcher runs in the VPC, so it dials the pod IP directly: one TCP connection per forwarded port per
 * WebSocket. A port only bound to the container's loopback cannot be reached this way. SPDY (kubectl) is in
 * spdyExec.ts.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RawData } from 'ws';
import type { Pod } from '../../shared/domain/k8s.js';
import { KubeletError } from './errors.js';
import { acceptChannels } from './exec.js';

export function parsePorts(q: URLSearchParams): number[] {
  const raw = [...q.getAll('port'), ...q.getAll('ports')].flatMap((p) => p.split(','));
  const ports = raw.map((p) => Number(p.trim()));
  if (ports.length === 0) throw new KubeletError('at least one port must be given (port=N)', 400);
  for (const [i, p] of ports.entries()) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new KubeletError(`port "${raw[i]}" is not a valid port number`, 400);
  }
  return ports;
}

export function portForwardOverWebSocket(pod: Pod, query: URLSearchParams, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const ports = parsePorts(query);
  const ip = pod.status?.podIP;
  if (!ip) throw new KubeletError(`pod "${pod.metadata.name}" has no IP yet`, 400);
  acceptChannels(req, socket, head, (client, send) => {
    const conns: Socket[] = [];
    const le16 = (n: number) => {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(n);
      return b;
    };
    for (const [i, port] of ports.entries()) {
      send(2 * i, le16(port));
      send(2 * i + 1, le16(port));
      const conn = connect({ host: ip, port });
      conn.on('data', (d: Buffer) => send(2 * i, d));
      conn.on('error', (err) => send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${pod.metadata.name}: ${err.message}`)));
      conn.on('close', () => client.close(1000));
      conns.push(conn);
    }
    client.on('message', (raw: RawData) => {
      const buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      const ch = buf[0] ?? 255;
      if (ch % 2 === 0) conns[ch / 2]?.write(buf.subarray(1));
    });
    client.on('close', () => {
      for (const c of conns) c.destroy();
    });
  });
}
