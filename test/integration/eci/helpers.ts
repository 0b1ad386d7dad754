/** Shared helpers of the ECI tests: real SDK clients pointed at the emulator, polling, a tampering proxy. */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as eciSdk from '@alicloud/eci20180808';
import * as openapi from '@alicloud/openapi-client';
import type { EciEmulator } from '../../../emulators/eci/index.js';

export const EciClient = eciSdk.default.default;
export type EciClient = InstanceType<typeof EciClient>;
export { eciSdk, openapi };

export function sdkClient(
  emu: EciEmulator,
  opts: {
    accessKeyId?: string;
    accessKeySecret?: string;
    securityToken?: string;
    signatureAlgorithm?: 'v2';
    endpoint?: string;
    globalHeaders?: Record<string, string>;
  } = {},
): EciClient {
  const cred = emu.credentials[0];
  return new EciClient(
    new openapi.Config({
      accessKeyId: opts.accessKeyId ?? cred?.accessKeyId,
      accessKeySecret: opts.accessKeySecret ?? cred?.accessKeySecret,
      securityToken: opts.securityToken,
      endpoint: opts.endpoint ?? emu.endpoint,
      protocol: 'http',
      regionId: 'cn-hangzhou',
      signatureAlgorithm: opts.signatureAlgorithm,
      globalParameters: opts.globalHeaders ? new openapi.GlobalParameters({ headers: opts.globalHeaders }) : undefined,
    }),
  );
}

/** What the SDK throws for an error answer (a Tea ResponseError). */
export interface SdkError {
  code: string;
  statusCode: number;
  message: string;
  data: Record<string, unknown>;
}

export async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}

/** Polls until `fn` returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A loopback proxy that lets a test rewrite each request's headers before it reaches the emulator. */
export async function tamperingProxy(
  target: string,
  rewrite: (headers: Record<string, string | string[] | undefined>) => void,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const [host, port] = target.split(':');
  const server: Server = createServer((req, res) => {
    const headers = { ...req.headers };
    rewrite(headers);
    const up = request({ host, port: Number(port), method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export function createRequest(fields: Record<string, unknown>): InstanceType<typeof eciSdk.CreateContainerGroupRequest> {
  return new eciSdk.CreateContainerGroupRequest({
    regionId: 'cn-hangzhou',
    container: [{ name: 'app', image: 'nginx:1.25' }],
    ...fields,
  });
}
