/**
 * The HTTPS admission webhook server (AdmissionReview v1) the watcher runs for eci-profile:
 *   POST /mutate-pods        → mutatePod
 *   POST /validate-pods      → validatePodAdmission
 *   POST /validate-workloads → validateWorkloadAdmission
 *   POST /validate-services  → validateServiceAdmission
 * Never throws at the apiserver: a failure inside a decision answers `allowed: true` with a warning (the
 * configurations use failurePolicy Ignore for the same reason: a bridge outage must never block the
 * cluster's own workloads). Requests are bounded in size and time.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/ports/index.js';
import {
  type AdmissionDeps,
  type AdmissionRequest,
  type AdmissionResponse,
  mutatePod,
  validatePodAdmission,
  validateServiceAdmission,
  validateWorkloadAdmission,
} from '../../shared/usecases/admission.js';
import type { TlsMaterial } from './certs.js';

const ROUTES: Record<string, (req: AdmissionRequest, deps: AdmissionDeps) => Promise<AdmissionResponse>> = {
  '/mutate-pods': mutatePod,
  '/validate-pods': validatePodAdmission,
  '/validate-workloads': validateWorkloadAdmission,
  '/validate-services': validateServiceAdmission,
};

/** The paths served (deploy/webhook.yaml points at them; a test keeps both in step). */
export const WEBHOOK_PATHS = Object.keys(ROUTES);

const MAX_BODY = 3 * 1024 * 1024;

export interface WebhookServer {
  port: number;
  counts(): Record<string, number>;
  close(): Promise<void>;
}

export async function startWebhookServer(opts: {
  tls: TlsMaterial;
  deps: AdmissionDeps;
  logger: Logger;
  host?: string;
  port?: number;
}): Promise<WebhookServer> {
  const counts: Record<string, number> = {};
  const server = https.createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const route = ROUTES[path];
    if (req.method !== 'POST' || !route) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      let review: { apiVersion?: string; request?: AdmissionRequest };
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('body is not an AdmissionReview');
        return;
      }
      const request = review.request;
      if (!request?.uid) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('AdmissionReview without request.uid');
        return;
      }
      const answer = (response: AdmissionResponse): void => {
        counts[`${path}:${response.allowed ? 'allowed' : 'denied'}`] = (counts[`${path}:${response.allowed ? 'allowed' : 'denied'}`] ?? 0) + 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      };
      route(request, opts.deps).then(answer, (err: unknown) => {
        opts.logger.error({ err: err instanceof Error ? err.message : String(err), path, kind: request.kind?.kind }, 'admission decision failed; allowing');
        answer({ uid: request.uid, allowed: true, warnings: ['eci-bridge could not check this object; it was admitted unchecked'] });
      });
    });
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '0.0.0.0', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
