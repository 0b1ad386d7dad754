/**
 * Reading an Alibaba Cloud RPC-style request, as the ECI and BSS emulators both receive it: the whole body (the
 * signature covers it) and the query string as a plain record (the signed parameters). One reader, so both
 * emulators see the same body bytes and the same parameters the real services would.
 */
import type { IncomingMessage } from 'node:http';

export interface RpcRequest {
  body: Buffer;
  url: URL;
  query: Record<string, string>;
}

/** Reads the request to its end; a repeated query parameter keeps its last value. */
export async function readRpcRequest(req: IncomingMessage): Promise<RpcRequest> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://emulator');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  return { body, url, query };
}
