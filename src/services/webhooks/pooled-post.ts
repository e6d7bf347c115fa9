import { connect as netConnect, type Socket } from 'node:net';
import { parseHttp1Head } from '../../lib/http1-head.js';

export interface PostAnswer {
  status: number;
  /** The start of the answer's body, as text. */
  body: string;
}

export interface PooledPostOptions {
  /** The whole exchange (connection, request, answer) within this, or a timeout error. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Bytes of the answer's body kept (the rest is read and dropped). */
  keep: number;
  /** On a new connection, not a kept-alive one (the retry after a `StaleConnection`). */
  fresh?: boolean;
}

/** A kept-alive connection closed by its peer before it read the request: safe to send again on a new one. */
export class StaleConnection extends Error {}

const idleMs = 30_000;
const maxHead = 64 * 1024;

/**
 * HTTP/1.1 POSTs to plain-http webhook targets over kept-alive connections (docs/webhooks.md): the
 * request is one buffer written in one call, the answer's head is parsed by hand and its body read by its
 * Content-Length or chunks. Node's http client costs a ClientRequest, header checks, an agent queue and
 * a parser per request: about a third of the delivery thread's CPU per delivery. `https:` targets stay on
 * node:https (TLS costs more than either client).
 */
export class PooledPost {
  private readonly idle = new Map<string, Socket[]>();
  private closed = false;

  post(url: URL, headers: Record<string, string>, body: Buffer, o: PooledPostOptions): Promise<PostAnswer> {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port || 80);
    const key = `${host}:${port}`;
    const reused = o.fresh ? undefined : this.take(key);
    const socket = reused ?? netConnect({ host, port, noDelay: true });
    return new Promise<PostAnswer>((resolve, reject) => {
      let head: Buffer | undefined = Buffer.alloc(0) as Buffer;
      let answer: { status: number; length: number; chunked: boolean; close: boolean } | undefined;
      let rest: Buffer = Buffer.alloc(0);
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
      const onAbort = () => fail(new Error('aborted'));
      const cleanup = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      function fail(err: Error) {
        if (settled) return;
        settled = true;
        cleanup();
        socket.destroy();
        reject(err);
      }
      const done = (reusable: boolean) => {
        if (settled) return;
        settled = true;
        cleanup();
        if (reusable && !answer!.close) this.give(key, socket);
        else socket.destroy();
        resolve({ status: answer!.status, body: Buffer.concat(kept).toString('utf8') });
      };
      const keep = (b: Buffer) => {
        if (keptBytes < o.keep) kept.push(b.subarray(0, o.keep - keptBytes));
        keptBytes += b.length;
      };
      const onError = (err: NodeJS.ErrnoException) => {
        const stale =
          reused &&
          head !== undefined &&
          head.length === 0 &&
          (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        fail(stale && !o.signal?.aborted ? new StaleConnection(err.message) : err);
      };
      const onClose = () => {
        // An answer without length or chunks ends with the connection.
        if (answer && !answer.chunked && answer.length < 0) return done(false);
        const nothing = head !== undefined && head.length === 0;
        fail(
          reused && nothing
            ? new StaleConnection('the connection was closed')
            : new Error('the target closed the connection'),
        );
      };
      const onData = (chunk: Buffer) => {
        if (head !== undefined) {
          head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > maxHead) fail(new Error('the answer head is too large'));
            return;
          }
          const parsed = parseHead(head.subarray(0, end).toString('latin1'));
          if (!parsed) return fail(new Error('the target answered something other than HTTP/1.x'));
          const after = head.subarray(end + 4);
          if (parsed.status >= 100 && parsed.status < 200) {
            // 100 Continue and other interim answers: the final answer follows.
            head = Buffer.alloc(0);
            if (after.length > 0) onData(after);
            return;
          }
          head = undefined;
          answer = parsed;
          chunk = after;
        }
        const a = answer!;
        if (a.chunked) {
          rest = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
          for (;;) {
            const eol = rest.indexOf('\r\n');
            if (eol < 0) return;
            const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
            if (!Number.isFinite(size)) return fail(new Error('a malformed chunk in the answer'));
            if (size === 0) {
              // The last chunk: trailers (rare) end with an empty line.
              const end = rest.indexOf('\r\n\r\n', eol);
              const bare = rest.subarray(eol, eol + 4).toString('latin1') === '\r\n\r\n';
              if (bare || end >= 0) return done(true);
              return;
            }
            if (rest.length < eol + 2 + size + 2) return;
            keep(rest.subarray(eol + 2, eol + 2 + size));
            rest = rest.subarray(eol + 2 + size + 2);
          }
        }
        if (a.length < 0) return keep(chunk);
        const take = chunk.subarray(0, a.length);
        keep(take);
        a.length -= take.length;
        if (a.length === 0) done(chunk.length === take.length);
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      if (o.signal) {
        if (o.signal.aborted) return onAbort();
        o.signal.addEventListener('abort', onAbort, { once: true });
      }
      let request: Buffer;
      try {
        request = requestBytes(url, headers, body);
      } catch (err) {
        return fail(err as Error);
      }
      socket.write(request);
    });
  }

  close(): void {
    this.closed = true;
    for (const sockets of this.idle.values()) for (const s of sockets) s.destroy();
    this.idle.clear();
  }

  /** An idle connection to `key`, if one is open. */
  private take(key: string): Socket | undefined {
    const sockets = this.idle.get(key);
    for (let s = sockets?.pop(); s; s = sockets?.pop()) {
      s.removeAllListeners('close');
      s.removeAllListeners('error');
      s.removeAllListeners('timeout');
      s.setTimeout(0);
      s.ref();
      if (!s.destroyed) return s;
    }
    return undefined;
  }

  private give(key: string, socket: Socket): void {
    if (this.closed) return void socket.destroy();
    let sockets = this.idle.get(key);
    if (!sockets) this.idle.set(key, (sockets = []));
    sockets.push(socket);
    const forget = () => {
      socket.destroy();
      const at = sockets.indexOf(socket);
      if (at >= 0) sockets.splice(at, 1);
    };
    socket.once('close', forget);
    socket.once('error', forget);
    socket.setTimeout(idleMs, forget);
    socket.unref();
  }
}

/** Headers this client writes itself. */
const framing = new Set(['host', 'content-length', 'user-agent', 'connection', 'transfer-encoding']);

/** The request line, headers and body in one buffer; a header carrying CR or LF is refused. */
function requestBytes(url: URL, headers: Record<string, string>, body: Buffer): Buffer {
  let text = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (framing.has(name.toLowerCase())) continue;
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`invalid header ${name}`);
    text += `${name}: ${value}\r\n`;
  }
  text += `Content-Length: ${body.length}\r\nUser-Agent: Go-http-client/1.1\r\nConnection: keep-alive\r\n\r\n`;
  const headBytes = Buffer.byteLength(text, 'latin1');
  const out = Buffer.allocUnsafe(headBytes + body.length);
  out.write(text, 0, 'latin1');
  body.copy(out, headBytes);
  return out;
}

function parseHead(
  text: string,
): { status: number; length: number; chunked: boolean; close: boolean } | undefined {
  const head = parseHttp1Head(text);
  if (!head) return undefined;
  const { status, headers } = head;
  const connection = headers['connection']?.toLowerCase() ?? '';
  const chunked = (headers['transfer-encoding']?.toLowerCase() ?? '').includes('chunked');
  const close = connection.includes('close') || (head.http10 && !connection.includes('keep-alive'));
  // No body: 204, 304. A length that is not one whole number reads to the connection's end.
  let length = status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? -1);
  if (chunked || !Number.isSafeInteger(length) || length < -1) length = -1;
  return { status, length, chunked, close: close || (length < 0 && !chunked) };
}
