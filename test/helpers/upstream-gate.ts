import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny HTTP proxy in front of an upstream registry, for proxy-cache tests: it forwards every request
 * (streaming both ways), counts them by `METHOD path`, and can be told to answer every request with a
 * status instead (429, 503) to play an upstream that sheds load or fails.
 */
export interface UpstreamGate {
  url: string;
  /** Requests seen, as `GET /v2/x/blobs/sha256:…`. */
  seen: string[];
  /** Answer every request with this status (and an OCI error body) instead of forwarding; null forwards. */
  failWith: number | null;
  /** While set, blob GETs are held (not forwarded) until it settles: a slow download, on demand. */
  holdBlobs: Promise<void> | null;
  /**
   * Answers a request itself when this returns an answer (e.g. an OCI referrers page, which Debian's
   * docker-registry has no API for); undefined forwards.
   */
  answer: ((method: string, url: string) => GateAnswer | undefined) | null;
  count(pattern: RegExp): number;
  close(): Promise<void>;
}

export interface GateAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export async function startUpstreamGate(upstream: string): Promise<UpstreamGate> {
  const target = new URL(upstream);
  const gate: UpstreamGate = {
    url: '',
    seen: [],
    failWith: null,
    holdBlobs: null,
    answer: null,
    count: (pattern) => gate.seen.filter((s) => pattern.test(s)).length,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    gate.seen.push(`${req.method} ${req.url}`);
    if (gate.failWith !== null) {
      req.resume();
      res.writeHead(gate.failWith, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }));
      return;
    }
    const own = gate.answer?.(req.method ?? 'GET', req.url ?? '/');
    if (own) {
      req.resume();
      res.writeHead(own.status, { 'content-type': 'application/json', ...own.headers });
      res.end(own.body);
      return;
    }
    const hold = req.method === 'GET' && req.url?.includes('/blobs/') ? gate.holdBlobs : null;
    if (hold) void hold.then(() => forward(req, res));
    else forward(req, res);
  });
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.keepAliveTimeout = 1000;
  return gate;
}
