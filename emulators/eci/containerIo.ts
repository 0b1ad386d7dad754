/**
 * A container's I/O actions: DescribeContainerLog (the simulated log lines, with ECI's Tail / SinceSeconds /
 * StartTime / LimitBytes / Timestamps rules) and ExecContainerCommand (a single-use, 30 s ticket for the exec
 * WebSocket in exec.ts, or the output at once with Sync).
 */
import { randomUUID } from 'node:crypto';
import { EciEmulatorError, invalidParameter, missingParameter } from './errors.js';
import type { ExecTicket } from './exec.js';
import type { SimContainer, SimGroup as Group } from './lifecycle.js';
import { bool, int, jsonStringArray, requireStr, str, type Wire } from './params.js';

export function containerOf(g: Group, p: Wire): SimContainer {
  const name = requireStr(p, 'ContainerName');
  const c = [...g.containers, ...g.initContainers].find((x) => x.spec.Name === name);
  if (!c) throw invalidParameter('ContainerName', `no container ${name} in ${g.id}`);
  return c;
}

export function logResponse(g: Group, p: Wire, now: number): Record<string, unknown> {
  const c = containerOf(g, p);
  const previous = bool(p, 'LastTime') ?? false;
  let lines = g.logLines(c, previous, now);
  const sinceSeconds = int(p, 'SinceSeconds');
  const startTime = str(p, 'StartTime');
  if (sinceSeconds !== undefined) lines = lines.filter((l) => l.at >= now - sinceSeconds * 1000);
  if (startTime) {
    const t = Date.parse(startTime);
    if (Number.isNaN(t)) throw invalidParameter('StartTime', 'not an RFC 3339 time');
    lines = lines.filter((l) => l.at >= t);
  }
  // ECI: Tail defaults to 500 lines and is at most 2000; LimitBytes 1..1048576; the content at most 1 MB
  const tail = int(p, 'Tail') ?? 500;
  if (tail < 0 || tail > 2000) throw invalidParameter('Tail', 'must be between 0 and 2000');
  lines = lines.slice(Math.max(0, lines.length - tail));
  const stamps = bool(p, 'Timestamps') ?? false;
  let content = lines.map((l) => `${stamps ? `${new Date(l.at).toISOString()} ` : ''}${l.line}\n`).join('');
  const given = int(p, 'LimitBytes');
  if (given !== undefined && (given < 1 || given > 1_048_576)) throw invalidParameter('LimitBytes', 'must be between 1 and 1048576');
  const limitBytes = given ?? 1_048_576;
  if (Buffer.byteLength(content) > limitBytes) {
    content = Buffer.from(content).subarray(Buffer.byteLength(content) - limitBytes).toString();
  }
  return { ContainerName: c.spec.Name, Content: content };
}

/** The exec tickets ExecContainerCommand hands out, by token (single use, 30 s). */
export class ExecTickets {
  private readonly tickets = new Map<string, ExecTicket & { groupId: string; container: string }>();

  /** ExecContainerCommand on container `p.ContainerName` of `g`: a new ticket, its URLs, and with Sync the output. */
  issue(g: Group, p: Wire, host: string, now: number): Record<string, unknown> {
    const c = containerOf(g, p);
    const command = jsonStringArray(p, 'Command', 20);
    if (!command || command.length === 0) throw missingParameter('Command');
    if (command.some((x) => x.length > 256)) throw invalidParameter('Command', 'each item at most 256 characters');
    const sync = bool(p, 'Sync') ?? false;
    const tty = bool(p, 'TTY') ?? false;
    if (sync && tty) throw invalidParameter('TTY', 'Sync requires TTY=false');
    if (c.state.State !== 'Running') {
      throw new EciEmulatorError('IncorrectStatus', `The container ${c.spec.Name} is not running.`);
    }
    const token = randomUUID();
    const base = `${host}/exec/${g.id}/${c.spec.Name}?token=${token}`;
    for (const [k, v] of this.tickets) if (v.expiresAt < now) this.tickets.delete(k);
    this.tickets.set(token, {
      groupId: g.id,
      container: c.spec.Name,
      groupName: g.init.name,
      command,
      tty,
      stdin: bool(p, 'Stdin') ?? true,
      expiresAt: now + 30_000,
    });
    const out: Record<string, unknown> = { WebSocketUri: `ws://${base}`, HttpUrl: `http://${base}` };
    if (sync) out.SyncResponse = execOutput(g, command);
    return out;
  }

  /** The exec WebSocket's ticket for `/exec/<group>/<container>?token=…` (taken once; undefined when unknown or late). */
  take(groupId: string, container: string, token: string, now: number): ExecTicket | undefined {
    const t = this.tickets.get(token);
    this.tickets.delete(token);
    if (!t || t.groupId !== groupId || t.container !== container || t.expiresAt < now) return undefined;
    return t;
  }
}

function execOutput(g: Group, command: string[]): string {
  const [cmd, ...args] = command;
  if (cmd === 'echo') return `${args.join(' ')}\n`;
  if (cmd === 'hostname') return `${g.init.name}\n`;
  if (cmd === 'env') return '';
  return `eci-sim: executed ${JSON.stringify(command)}\n`;
}
