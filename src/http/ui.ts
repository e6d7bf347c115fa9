import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface UiDeps {
  /** The built web UI (index.html + assets/); undefined or missing: a page says how to build it. */
  dir: string | undefined;
}

/** Paths owned by other surfaces: the UI's fallback never answers for them. */
const RESERVED = ['/v2', '/api/', '/service/', '/c/', '/health', '/metrics'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

interface StaticFile {
  path: string;
  size: number;
  type: string;
  etag: string;
  /** Vite puts a content hash in every file name under assets/: those never change. */
  immutable: boolean;
}

/**
 * Serves the web UI built from web/ at `/` as the root not-found handler: a request no surface routed is
 * answered with the bundle file at that path (resolved inside the bundle directory, never outside it),
 * else index.html, so the browser router can take deep links. Files are looked up per request, so a
 * rebuilt bundle is served without a restart. Surfaces with a prefix (/api/v2.0) keep their own
 * not-found answers; the other reserved paths get a JSON 404 here.
 */
export async function uiPlugin(app: FastifyInstance, deps: UiDeps): Promise<void> {
  const root = deps.dir ? resolve(deps.dir) : undefined;

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?', 1)[0]!;
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (!read || RESERVED.some((p) => path === p.replace(/\/$/, '') || path.startsWith(p))) {
      return reply
        .code(404)
        .type('application/json')
        .send({
          errors: [{ code: 'NOT_FOUND', message: `no such endpoint: ${path.slice(0, 200)}` }],
        });
    }
    let decoded = path;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      // not a file name then; the app shell will show its not-found page
    }
    const file = root && decoded !== '/' ? await lookup(root, decoded) : undefined;
    if (file) return sendFile(req, reply, file);
    if (decoded.startsWith('/assets/') || extname(decoded) !== '') {
      return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    }
    const index = root ? await lookup(root, '/index.html') : undefined;
    if (!index) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return sendFile(req, reply, index);
  };
  app.setNotFoundHandler(handler);
}

function sendFile(req: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  reply.header('content-type', file.type);
  reply.header('etag', file.etag);
  reply.header('x-content-type-options', 'nosniff');
  // The shell must be revalidated so a new release is picked up; hashed assets are cached for a year.
  reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (file.type.startsWith('text/html')) {
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
  }
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  reply.code(200).header('content-length', file.size);
  if (req.method === 'HEAD') return reply.send();
  return reply.send(createReadStream(file.path));
}

/** The regular file at `urlPath` inside `root`, or undefined (missing, a directory, or outside root). */
async function lookup(root: string, urlPath: string): Promise<StaticFile | undefined> {
  if (urlPath.includes('\0')) return undefined;
  const path = resolve(root, '.' + urlPath);
  if (!path.startsWith(root + sep)) return undefined;
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return {
    path,
    size: st.size,
    type: TYPES[extname(path)] ?? 'application/octet-stream',
    etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
    immutable: urlPath.startsWith('/assets/'),
  };
}

/** The bundle shipped with this package: dist/web beside dist/src, found from this file's location. */
export function bundledUiDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'web');
    dir = dirname(dir);
  }
  return undefined;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Berth</title>
<h1>The web UI is not built</h1><p>Run <code>npm run build</code> (or <code>npm start</code>, which builds first).
The registry (/v2) and the API (/api/v2.0) work without it.</p>`;
