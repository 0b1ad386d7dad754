/**
 * The kubelet API's routes over the ports: the pod (Cluster.getPod: its group id, containers and their state),
 * ECI's logs and metrics, the log archive. Errors are KubeletErrors worded like the kubelet's, so kubectl prints
 * what a user of a real node would see.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from '../../shared/domain/k8s.js';
import { errorKind } from '../../shared/errors.js';
import type { Cluster, ContainerGroups, EciExecHandlers, EciExecSession, Logger } from '../../shared/ports/index.js';
import { acceptChannels, type ExecDeps, execOverWebSocket, prepareExec } from './exec.js';
import { portForwardOverWebSocket } from './portForward.js';
import { acceptSpdyChannels, bridgeExecSpdy, portForwardOverSpdy } from './spdyExec.js';
import { GROUP_ANNOTATION } from '../podState.js';
import type { LogArchive } from './archive.js';
import { KubeletError } from './errors.js';
import { ByteLimit, formatLine, LineCursor, type LogLine, msToNs, selectLines } from './logLines.js';
import { ECI_MAX_BYTES, ECI_MAX_TAIL, fetchLines, type LogBudget, type LogFollowers } from './logs.js';
import { parseLogQuery, type Route } from './paths.js';
import type { RouteHandlers } from './server.js';
import { renderResourceMetrics, renderSummary, type StatsCache } from './stats.js';

export interface HandlerDeps {
  cluster: Pick<Cluster, 'getPod'>;
  eci: Pick<ContainerGroups, 'logs' | 'exec'>;
  openExec(uri: string, handlers: EciExecHandlers): Promise<EciExecSession>;
  budget: LogBudget;
  followers: LogFollowers;
  archive?: LogArchive;
  stats: StatsCache;
  nodeName: string;
  startedAt: string;
  now: () => number;
  log: Logger;
}

const isNotFoundErr = (err: unknown): boolean => errorKind(err) === 'notFound';

async function podOf(d: HandlerDeps, ns: string, name: string): Promise<Pod> {
  let pod: Pod;
  try {
    pod = await d.cluster.getPod(ns, name);
  } catch (err) {
    if (isNotFoundErr(err)) throw new KubeletError(`pod "${name}" in namespace "${ns}" not found`, 404, { cause: err });
    throw err;
  }
  if (pod.spec?.nodeName !== d.nodeName) throw new KubeletError(`pod "${name}" in namespace "${ns}" is not on node ${d.nodeName}`, 404);
  return pod;
}

function containerTerminated(pod: Pod, container: string): boolean {
  const st = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((c) => c.name === container);
  return st?.state?.terminated !== undefined;
}

export function routeHandlers(d: HandlerDeps): RouteHandlers {
  return {
    async containerLogs(route: Extract<Route, { kind: 'containerLogs' }>, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
      const q = parseLogQuery(query);
      const pod = await podOf(d, route.namespace, route.pod);
      const names = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c) => c.name);
      if (!names.includes(route.container)) {
        throw new KubeletError(`container ${route.container} is not valid for pod ${route.pod}`, 400);
      }
      const uid = pod.metadata.uid ?? '';
      const groupId = pod.metadata.annotations?.[GROUP_ANNOTATION];
      const sinceNs = q.sinceTime !== undefined ? msToNs(q.sinceTime) : q.sinceSeconds !== undefined ? msToNs(d.now() - q.sinceSeconds * 1000) : undefined;
      const select = (lines: LogLine[]) => selectLines(lines, { sinceNs, tail: q.tailLines });

      // 1. what there is now: ECI (all it gives: 2000 lines / 1 MiB at most), else the archive
      let fetched: LogLine[] | undefined;
      let fromArchive = false;
      if (groupId) {
        try {
          fetched = await fetchLines(d.eci, d.budget, { groupId, container: route.container }, {
            // always the most ECI gives, then the exact filters here: a follow must know every line of its cursor second
            tail: q.follow ? ECI_MAX_TAIL : Math.min(q.tailLines ?? ECI_MAX_TAIL, ECI_MAX_TAIL),
            limitBytes: ECI_MAX_BYTES,
            previous: q.previous || undefined,
            ...(sinceNs !== undefined && !q.follow ? { startTime: new Date(Number(sinceNs / 1_000_000n)).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
          });
        } catch (err) {
          if (!isNotFoundErr(err) || !d.archive) throw asKubelet(err);
        }
      }
      if (!fetched && d.archive && !q.previous) {
        fetched = await d.archive.read(uid, route.container);
        fromArchive = fetched !== undefined;
      }
      if (!fetched) {
        if (!groupId) throw new KubeletError(`container "${route.container}" in pod "${route.pod}" is waiting to start: ContainerCreating`, 400);
        throw new KubeletError(`the container group of pod "${route.pod}" is gone and no log archive was kept`, 404);
      }
      const limit = new ByteLimit(q.limitBytes);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', ...(fromArchive ? { 'x-eci-bridge-log-source': 'archive' } : {}) });
      const write = (lines: LogLine[]): void => {
        if (lines.length === 0 || limit.reached) return;
        res.write(limit.take(lines.map((l) => formatLine(l, q.timestamps)).join('')));
      };
      if (!q.follow || !groupId || fromArchive) {
        write(select(fetched));
        res.end();
        return;
      }

      // 2. follow: subscribe first (the poller's lines are held back), then write the selection, then what came
      const cursor = new LineCursor();
      cursor.accept(fetched);
      let held: LogLine[] | undefined = [];
      let ended = false;
      const finish = (): void => {
        if (ended) return;
        ended = true;
        unsubscribe();
        res.end();
      };
      const unsubscribe = d.followers.follow(
        { groupId, container: route.container },
        {
          lines: (lines) => {
            if (held) {
              held.push(...lines);
              return;
            }
            write(cursor.accept(lines));
            if (limit.reached) finish();
          },
          end: () => {
            if (held) held = undefined;
            finish();
          },
        },
        async () => {
          try {
            const now = await d.cluster.getPod(route.namespace, route.pod);
            return now.metadata.uid !== uid || now.metadata.annotations?.[GROUP_ANNOTATION] !== groupId || containerTerminated(now, route.container);
          } catch (err) {
            if (isNotFoundErr(err)) return true;
            throw err;
          }
        },
      );
      req.on('close', finish);
      res.on('close', finish);
      write(select(fetched));
      const pending = held ?? [];
      held = undefined;
      if (!ended) write(cursor.accept(pending));
      if (limit.reached) finish();
    },

    async execWebSocket(route, query, req, socket, head): Promise<void> {
      await execOverWebSocket(execDeps(d), route, query, req, socket, head);
    },

    async execSpdy(route, query, req, socket, head): Promise<void> {
      const { ask, uri } = await prepareExec(execDeps(d), route, query);
      acceptSpdyChannels(req, socket, head, ask, d.log, (ch) => bridgeExecSpdy(ch, ask, (h) => d.openExec(uri, h), d.log));
    },

    async attachWebSocket(route, query, req, socket, head): Promise<void> {
      const target = await attachTarget(d, route, query);
      acceptChannels(req, socket, head, (client, send) => {
        const stop = followAttached(d, route, target, (data) => send(1, data), () => {
          send(3, Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' })));
          client.close(1000);
        });
        client.on('close', stop);
      });
    },

    async attachSpdy(route, query, req, socket, head): Promise<void> {
      const target = await attachTarget(d, route, query);
      const flag = (n: string) => query.get(n) === '1' || query.get(n) === 'true';
      const tty = flag('tty');
      const want = { stdin: false, stdout: flag('output'), stderr: flag('error') && !tty, tty };
      acceptSpdyChannels(req, socket, head, want, d.log, (ch) => {
        const stop = followAttached(d, route, target, (data) => ch.stdout?.write(data), () => {
          ch.writeStatus({ metadata: {}, status: 'Success' });
          ch.finish();
        });
        ch.conn.onClose(stop);
      });
    },

    async portForwardWebSocket(route, query, req, socket, head): Promise<void> {
      portForwardOverWebSocket(await podOf(d, route.namespace, route.pod), query, req, socket, head);
    },

    async portForwardSpdy(route, req, socket, head): Promise<void> {
      portForwardOverSpdy(await podOf(d, route.namespace, route.pod), req, socket, head, d.log);
    },

    async statsSummary(res: ServerResponse): Promise<void> {
      const snap = await d.stats.get();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(renderSummary(snap, d.nodeName, d.startedAt)));
    },

    async metricsResource(res: ServerResponse): Promise<void> {
      const snap = await d.stats.get();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderResourceMetrics(snap));
    },
  };
}

const execDeps = (d: HandlerDeps): ExecDeps => ({ getPod: (ns, name) => d.cluster.getPod(ns, name), eci: d.eci, openExec: d.openExec, nodeName: d.nodeName, log: d.log });

/**
 * attach, read-only: the container's output from now on (the log follow), until it ends. ECI cannot attach to a
 * running container's stdin, so `-i` is refused with the alternatives.
 */
async function attachTarget(d: HandlerDeps, route: { namespace: string; pod: string; container: string }, query: URLSearchParams): Promise<{ groupId: string; uid?: string }> {
  if (query.get('input') === '1' || query.get('input') === 'true') {
    throw new KubeletError('ECI cannot attach to a container\'s stdin: attach without -i (read-only), or use kubectl exec -i to run a new process', 400);
  }
  const pod = await podOf(d, route.namespace, route.pod);
  if (!(pod.spec?.containers ?? []).some((c) => c.name === route.container)) {
    throw new KubeletError(`container ${route.container} is not valid for pod ${route.pod}`, 400);
  }
  const groupId = pod.metadata.annotations?.[GROUP_ANNOTATION];
  if (!groupId) throw new KubeletError(`container "${route.container}" in pod "${route.pod}" is waiting to start`, 400);
  return { groupId, uid: pod.metadata.uid };
}

/** Follows the attached container's new lines into `write` until it ends (`end`); returns the unsubscribe. */
function followAttached(
  d: HandlerDeps,
  route: { namespace: string; pod: string; container: string },
  target: { groupId: string; uid?: string },
  write: (data: Buffer) => void,
  end: () => void,
): () => void {
  const cursor = new LineCursor(msToNs(d.now()));
  let done = false;
  const unsubscribe = d.followers.follow(
    { groupId: target.groupId, container: route.container },
    {
      lines: (lines) => {
        const fresh = cursor.accept(lines);
        if (fresh.length > 0) write(Buffer.from(fresh.map((l) => formatLine(l, false)).join('')));
      },
      end: () => {
        done = true;
        end();
      },
    },
    async () => {
      const now = await d.cluster.getPod(route.namespace, route.pod).catch(() => undefined);
      return !now || now.metadata.uid !== target.uid || containerTerminated(now, route.container);
    },
  );
  return () => {
    if (!done) unsubscribe();
  };
}

function asKubelet(err: unknown): KubeletError {
  if (err instanceof KubeletError) return err;
  const e = err as Error & { kind?: string; code?: string };
  if (e.code?.startsWith('Throttling')) return new KubeletError(`ECI throttled DescribeContainerLog (its quota is 500 calls/min per account): ${e.message}`, 429, { cause: err });
  if (e.code === 'IncorrectStatus') return new KubeletError(`ECI cannot read this container's log now: ${e.message}`, 400, { cause: err });
  return new KubeletError(`DescribeContainerLog failed: ${e.message}`, 502, { cause: err });
}
