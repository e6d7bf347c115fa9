import { connect as netConnect, type Socket } from 'node:net';
import type { RecyclingReadable } from '../lib/recycling.js';
import type { HttpResponse } from './http.js';
import { AnswerReader } from './http1-answer.js';

export interface PooledPutOptions {
  /** The request's headers, Content-Length among them (the body's length). */
  headers: Record<string, string>;
  body: RecyclingReadable;
  signal?: AbortSignal;
  /** No connection within this, or no answer within this once the body is sent: a timeout error. */
  timeoutMs: number;
  /** No byte taken by the connection within this while the body is sent: a timeout error. */
  idleTimeoutMs: number;
}

/** A timeout's error, with the code undici gives its own (RemoteHttp classifies by it). */
function timeout(code: string, words: string): Error {
  return Object.assign(new Error(words), { code });
}

/** A body not of its announced length, with undici's code for it. */
function lengthMismatch(words: string): Error {
  return Object.assign(new Error(words), { code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' });
}

/**
 * An HTTP/1.1 PUT of a blob's body of known length, written on the socket here so that each chunk goes back
 * to the body (`recycle`) once the socket has taken it (docs/remotes.md). undici keeps no chunk, but it
 * never hands one back either: a replication's 1 MiB file reads were then fresh buffers freed only when V8
 * collected their small objects, and V8 let ~64 MiB of them pile up before a full collection (RSS swings of
 * 35-60 MiB within 0.3 s, issue 15). Here the file reads come back to the storage's pool and are read into
 * again, and a copy holds only the chunks in flight. The answer (small: 201 or an error) is read whole,
 * also when it comes before the body is all sent (then the rest is not sent). One connection per request,
 * closed at the end. Plain HTTP only: an `https:` destination, chunked uploads and every other call stay
 * on undici.
 */
export function pooledPut(url: URL, o: PooledPutOptions): Promise<HttpResponse> {
  const length = Number(o.headers['content-length']);
  return new Promise<HttpResponse>((resolve, reject) => {
    const { body } = o;
    const answer = new AnswerReader();
    let settled = false;
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: Error | undefined, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', abort);
      body.off('data', onData);
      body.off('end', onEnd);
      socket.destroy();
      // A body not sent whole (an early answer, a failure) is not read further.
      if (!body.readableEnded) body.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const onData = (chunk: Buffer) => {
      sent += chunk.length;
      if (sent > length)
        return finish(lengthMismatch(`the body is longer than its Content-Length ${length}`));
      const more = socket.write(chunk, (err) => {
        if (!err) body.recycle(chunk);
      });
      if (!more) body.pause();
    };
    const onEnd = () => {
      if (sent !== length)
        return finish(lengthMismatch(`the body ended after ${sent} of its Content-Length ${length} bytes`));
      // The body is sent: the answer's wait begins.
      socket.setTimeout(0);
      timer = setTimeout(
        () => finish(timeout('UND_ERR_HEADERS_TIMEOUT', `no answer within ${o.timeoutMs} ms`)),
        o.timeoutMs,
      );
    };
    const abort = () => finish(o.signal?.reason instanceof Error ? o.signal.reason : new Error('aborted'));

    let head: string;
    try {
      head = requestHead(url, o.headers);
    } catch (err) {
      body.destroy();
      return reject(err as Error);
    }
    const socket: Socket = netConnect({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 80),
    });
    timer = setTimeout(
      () => finish(timeout('UND_ERR_CONNECT_TIMEOUT', `no connection within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setTimeout(o.idleTimeoutMs);
      socket.write(head);
      body.on('data', onData);
      body.once('end', onEnd);
      body.resume();
    });
    socket.on('drain', () => {
      if (!settled) body.resume();
    });
    socket.on('timeout', () =>
      finish(timeout('UND_ERR_BODY_TIMEOUT', `the connection took no data within ${o.idleTimeoutMs} ms`)),
    );
    socket.on('data', (bytes: Buffer) => {
      let res: HttpResponse | undefined;
      try {
        res = answer.feed(bytes);
      } catch (err) {
        return finish(err as Error);
      }
      if (res) finish(undefined, res);
    });
    socket.on('end', () => {
      const res = answer.end();
      finish(res ? undefined : new Error('the connection closed before a whole answer'), res);
    });
    socket.on('error', (err) => finish(err));
    // Kept after the end too: a body destroyed with an error later must not throw for want of a listener.
    body.on('error', (err) => finish(err));
    if (o.signal?.aborted) return abort();
    o.signal?.addEventListener('abort', abort, { once: true });
  });
}

/** The request line and headers; a header carrying CR or LF is refused. */
function requestHead(url: URL, headers: Record<string, string>): string {
  const lines = [`PUT ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [k, v] of Object.entries(headers)) {
    if (/[\r\n]/.test(k + v)) throw new Error(`header ${k} carries a line break`);
    if (k.toLowerCase() === 'host' || k.toLowerCase() === 'connection') continue;
    lines.push(`${k}: ${v}`);
  }
  lines.push('connection: close', '', '');
  return lines.join('\r\n');
}
