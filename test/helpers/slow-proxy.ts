import { createServer, connect, type Socket } from 'node:net';
import { Transform } from 'node:stream';

export interface SlowProxy {
  /** host:port of the proxy, on 127.0.0.1. */
  host: string;
  url: string;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `target` (host:port) that lets client→target bytes through at about `bytesPerSecond`,
 * so an upload through it takes predictably long (a slow link at the network edge).
 */
export async function startSlowProxy(target: string, bytesPerSecond: number): Promise<SlowProxy> {
  return startProxy(target, (client, upstream) => {
    client.pipe(throttle(bytesPerSecond)).pipe(upstream);
    upstream.pipe(client);
  });
}

/**
 * A TCP proxy to `target` that holds every target→client chunk for `delayMs` (order kept), so each answer
 * starts at least that late and long ones trickle: a slow server (an overloaded object store).
 */
export async function startDelayProxy(target: string, delayMs: number): Promise<SlowProxy> {
  return startProxy(target, (client, upstream) => {
    client.pipe(upstream);
    upstream.pipe(delay(delayMs)).pipe(client);
  });
}

async function startProxy(
  target: string,
  wire: (client: Socket, upstream: Socket) => void,
): Promise<SlowProxy> {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(targetPort), targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    wire(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function throttle(bytesPerSecond: number): Transform {
  const slice = Math.max(1, Math.floor(bytesPerSecond / 20));
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const parts: Buffer[] = [];
      for (let i = 0; i < chunk.length; i += slice) parts.push(chunk.subarray(i, i + slice));
      const next = () => {
        const part = parts.shift();
        if (!part) return done();
        this.push(part);
        setTimeout(next, (part.length / bytesPerSecond) * 1000);
      };
      next();
    },
  });
}

function delay(ms: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      setTimeout(() => done(null, chunk), ms);
    },
  });
}
