import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake HTTP peer on 127.0.0.1 for adapter unit tests: it answers a provider's API with recorded
 * response shapes and records every request it saw. Fakes are allowed at the network edge only.
 */

export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Buffer;
}

export type FakeRoute = [
  method: string,
  path: string | RegExp,
  handler: (req: FakeRequest, m: RegExpMatchArray) => FakeReply | Promise<FakeReply>,
];

export interface FakeServer {
  url: string;
  requests: FakeRequest[];
  /** Routes may be added after start (e.g. to answer with the server's own URL). */
  routes: FakeRoute[];
  close(): Promise<void>;
}

export async function startFakeHttp(routes: FakeRoute[] = []): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const fake: FakeRequest = {
        method: req.method ?? 'GET',
        url,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(fake);
      const route = routes
        .map((r) => ({ r, m: r[0] === fake.method ? match(r[1], url.pathname) : null }))
        .find((x) => x.m);
      Promise.resolve(
        route
          ? route.r[2](fake, route.m!)
          : { status: 404, json: { message: `no fake route for ${fake.method} ${url.pathname}` } },
      )
        .then((reply) => {
          const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.body ?? '');
          const headers = {
            ...(reply.json !== undefined ? { 'content-type': 'application/json' } : {}),
            ...reply.headers,
          };
          res.writeHead(reply.status ?? 200, headers);
          res.end(fake.method === 'HEAD' ? undefined : body);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function match(path: string | RegExp, pathname: string): RegExpMatchArray | null {
  if (typeof path === 'string') return path === pathname ? ([pathname] as RegExpMatchArray) : null;
  return pathname.match(path);
}

export function basicOf(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic (.+)$/.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString();
  const i = text.indexOf(':');
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

export interface FakeV2Options {
  /** Repository → tag → manifest JSON. */
  repositories: Record<string, Record<string, object>>;
  /** Accepts the v2 Authorization header (after any token exchange). */
  authorized: (authorization: string | undefined) => boolean;
  /** Bearer challenge realm path on this server, with the basic credentials it accepts for a token. */
  bearer?: {
    realm: string;
    service: string;
    token: string;
    accepts: (authorization: string | undefined) => boolean;
  };
  /** Also serve /v2/_catalog (some providers don't). */
  catalog?: boolean;
  /** Path prefix of the v2 API (Artifactory serves it under /artifactory/api/docker/<repo>). */
  prefix?: string;
}

export const manifestType = 'application/vnd.oci.image.manifest.v1+json';

/** Routes of a small read-only v2 registry with basic or bearer auth, for provider adapter tests. */
export function fakeV2Routes(o: FakeV2Options): FakeRoute[] {
  const prefix = o.prefix ?? '';
  const challenge = (base: string): FakeReply => ({
    status: 401,
    headers: {
      'www-authenticate': o.bearer
        ? `Bearer realm="${base}${o.bearer.realm}",service="${o.bearer.service}"`
        : 'Basic realm="fake"',
    },
    json: { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
  });
  const guard = (req: FakeRequest, then: () => FakeReply): FakeReply =>
    o.authorized(req.headers.authorization) ? then() : challenge(`http://${req.headers.host}`);
  const esc = prefix.replace(/[/]/g, '\\/');
  const routes: FakeRoute[] = [
    ['GET', `${prefix}/v2/`, (req) => guard(req, () => ({ json: {} }))],
    [
      'GET',
      new RegExp(`^${esc}/v2/(.+)/tags/list$`),
      (req, m) =>
        guard(req, () => {
          const tags = o.repositories[m[1]!];
          return tags
            ? { json: { name: m[1], tags: Object.keys(tags) } }
            : { status: 404, json: { errors: [{ code: 'NAME_UNKNOWN' }] } };
        }),
    ],
    ...(['GET', 'HEAD'] as const).map((method): FakeRoute => [
      method,
      new RegExp(`^${esc}/v2/(.+)/manifests/([^/]+)$`),
      (req, m) =>
        guard(req, () => {
          const doc = o.repositories[m[1]!]?.[m[2]!];
          if (!doc) return { status: 404, json: { errors: [{ code: 'MANIFEST_UNKNOWN' }] } };
          const bytes = Buffer.from(JSON.stringify(doc));
          const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
          return {
            headers: {
              'content-type': manifestType,
              'docker-content-digest': digest,
              'content-length': String(bytes.length),
            },
            body: bytes,
          };
        }),
    ]),
  ];
  if (o.catalog) {
    routes.push([
      'GET',
      `${prefix}/v2/_catalog`,
      (req) => guard(req, () => ({ json: { repositories: Object.keys(o.repositories).sort() } })),
    ]);
  }
  if (o.bearer) {
    const b = o.bearer;
    routes.push([
      'GET',
      b.realm,
      (req) =>
        b.accepts(req.headers.authorization)
          ? { json: { token: b.token, expires_in: 300 } }
          : { status: 401, json: { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] } },
    ]);
  }
  return routes;
}

/** A manifest body whose digest differs per `seed`. */
export function fakeManifest(seed: string): object {
  return {
    schemaVersion: 2,
    mediaType: manifestType,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${createHash('sha256').update(seed).digest('hex')}`,
      size: 2,
    },
    layers: [],
  };
}
