import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when it arrived. */
  at: number;
}

/**
 * A webhook receiver on 127.0.0.1, as a CI or chat tool runs one: it records every POST per path and
 * answers with what `answer` says for that path (200 by default; a status, or a delay before 200).
 */
export interface Receiver {
  url: string;
  received: Received[];
  on(path: string): Received[];
  /** The most requests to `path` that were open at once. */
  maxInFlight(path: string): number;
  /** How the next requests to `path` are answered, in turn; the last one repeats. */
  answer(path: string, ...plan: ({ status: number } | { delayMs: number })[]): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const plans = new Map<string, ({ status: number } | { delayMs: number })[]>();
  const open = new Set<ServerResponse>();
  const inFlight = new Map<string, { now: number; max: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      });
      const count = inFlight.get(path) ?? { now: 0, max: 0 };
      count.now++;
      count.max = Math.max(count.max, count.now);
      inFlight.set(path, count);
      res.on('close', () => count.now--);
      const plan = plans.get(path) ?? [];
      const step = plan.length > 1 ? plan.shift()! : (plan[0] ?? { status: 200 });
      if ('delayMs' in step) {
        open.add(res);
        const t = setTimeout(() => {
          open.delete(res);
          res.writeHead(200).end('late');
        }, step.delayMs);
        res.on('close', () => clearTimeout(t));
      } else res.writeHead(step.status).end(step.status === 200 ? 'ok' : 'receiver error');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on: (path) => received.filter((r) => r.path === path),
    maxInFlight: (path) => inFlight.get(path)?.max ?? 0,
    answer: (path, ...plan) => void plans.set(path, plan),
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The members of Harbor's CloudEvents body, in its order. */
export const cloudEventsKeys = [
  'specversion',
  'id',
  'source',
  'type',
  'datacontenttype',
  'time',
  'operator',
  'requestid',
  'data',
];
