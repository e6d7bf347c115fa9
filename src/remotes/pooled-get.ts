import { connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { collectGarbage } from '../lib/collect-garbage.js';
import { parseHttp1Head } from '../lib/http1-head.js';
import type { RecyclingReadable } from '../lib/recycling.js';
import { SparePool } from '../storage/file-read-stream.js';
import type { HttpResponse } from './http.js';

/**
 * Socket reads of blob downloads go into these 256 KiB buffers, handed back by consumers that are done with
 * a chunk (a proxied blob's client socket and file write): at most 32 MiB kept, none once no download has
 * taken one for 5 s (then one full GC frees them, as for the filesystem's read buffers: issue 13).
 */
const readSize = 256 * 1024;
const pool = new SparePool(readSize, 128, 5000, collectGarbage);
const maxHead = 64 * 1024;

export interface PooledGetOptions {
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** No connection or answer's head within this: a timeout error. */
  timeoutMs: number;
  /** No byte of the body within this: a timeout error. */
  idleTimeoutMs: number;
}

/**
 * An HTTP/1.1 GET whose body is read straight into reusable memory (docs/proxy-cache.md). A proxied blob
 * passes through Berth at the upstream's pace only if each byte costs one socket read, one hash, one file
 * write and one socket write: undici reads every chunk into a fresh buffer and copies it into its parser,
 * and that churn of memory outside V8's heap ran a full garbage collection of Berth's heap about every
 * 0.4 s of a cold pull. Here a 200 with a Content-Length streams chunks that are views on pooled buffers
 * (a `RecyclingReadable`); any other answer (errors, redirects, chunked bodies) is read whole and served
 * from memory. One connection per request, closed at the end. Plain HTTP only (an `https:` upstream goes
 * through undici).
 */
export function pooledGet(url: URL, options: PooledGetOptions): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const port = Number(url.port || 80);
    let head: Buffer | undefined = Buffer.alloc(0);
    let body: PooledBody | undefined;
    let whole: Buffer[] | undefined;
    let answer: Omit<HttpResponse, 'body'> | undefined;
    let settled = false;
    const fail = (err: Error) => {
      socket.destroy();
      if (!settled) {
        settled = true;
        reject(err);
      } else body?.destroy(err);
    };
    /** A non-streamed answer is whole once its Content-Length is read (else at the connection's end). */
    const wholeDone = () => {
      const length = Number(answer!.headers['content-length']);
      return Number.isSafeInteger(length) && whole!.reduce((n, b) => n + b.length, 0) >= length;
    };
    const finishWhole = () => {
      if (settled) return;
      clearTimeout(headTimer);
      settled = true;
      socket.destroy();
      const bytes = Buffer.concat(whole!);
      const te = answer!.headers['transfer-encoding'];
      resolve({ ...answer!, body: bufferedBody(te && /chunked/i.test(te) ? unchunk(bytes) : bytes) });
    };
    const onread = {
      buffer: () => pool.take(),
      callback: (n: number, buf: Buffer): boolean => {
        const chunk = buf.subarray(0, n);
        if (body) {
          if (n >= readSize / 2) return body.arrive(chunk);
          // A short read would pin a whole pooled buffer for a few bytes (a slow network, a consumer that
          // keeps chunks): it is copied, and the buffer read into again.
          const copy = Buffer.from(chunk);
          pool.give(buf.buffer);
          return body.arrive(copy, false);
        }
        if (whole) {
          // The pooled buffer is read into again: keep a copy (these answers are small).
          whole.push(Buffer.from(chunk));
          pool.give(buf.buffer);
          if (wholeDone()) finishWhole();
          return true;
        }
        head = Buffer.concat([head!, chunk]);
        pool.give(buf.buffer);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > maxHead) fail(new Error('the answer has no end of headers'));
          return true;
        }
        try {
          answer = parseHead(head.subarray(0, end).toString('latin1'));
        } catch (err) {
          fail(err as Error);
          return false;
        }
        const rest = Buffer.from(head.subarray(end + 4));
        head = undefined;
        const length = Number(answer.headers['content-length']);
        if (answer.status === 200 && Number.isSafeInteger(length) && !answer.headers['transfer-encoding']) {
          body = new PooledBody(socket, length);
          settled = true;
          clearTimeout(headTimer);
          socket.setTimeout(options.idleTimeoutMs);
          resolve({ ...answer, body: body as unknown as Dispatcher.ResponseData['body'] });
          if (rest.length > 0) return body.arrive(rest, false);
          if (length === 0) body.arrive(Buffer.alloc(0), false);
          return true;
        }
        whole = [rest];
        if (wholeDone()) finishWhole();
        return true;
      },
    };
    const socket: Socket = netConnect({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, onread });
    const headTimer = setTimeout(() => {
      const err = new Error(`no answer within ${options.timeoutMs} ms`) as Error & { code: string };
      err.code = 'UND_ERR_HEADERS_TIMEOUT';
      fail(err);
    }, options.timeoutMs);
    socket.on('timeout', () => {
      const err = new Error(`no data within ${options.idleTimeoutMs} ms`) as Error & { code: string };
      err.code = 'UND_ERR_BODY_TIMEOUT';
      fail(err);
    });
    socket.on('error', (err) => {
      clearTimeout(headTimer);
      fail(err);
    });
    socket.on('end', () => {
      clearTimeout(headTimer);
      if (whole) return finishWhole();
      if (!settled) fail(new Error('the connection closed before an answer'));
      else if (body && !body.complete) body.destroy(new Error('the connection closed mid-body'));
    });
    const abort = () =>
      fail(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    if (options.signal?.aborted) return abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    socket.once('close', () => {
      clearTimeout(headTimer);
      options.signal?.removeEventListener('abort', abort);
    });
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
    for (const [k, v] of Object.entries(options.headers)) lines.push(`${k}: ${v}`);
    lines.push('connection: close', '', '');
    socket.write(lines.join('\r\n'));
  });
}

function parseHead(text: string): Omit<HttpResponse, 'body'> {
  const head = parseHttp1Head(text);
  if (!head) throw new Error(`not an HTTP answer: ${(text.split('\r\n')[0] ?? '').slice(0, 80)}`);
  return { status: head.status, headers: head.headers };
}

/** A chunked body read whole, decoded. */
function unchunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(bytes.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** undici's body mixins over bytes already read. */
function bufferedBody(bytes: Buffer): Dispatcher.ResponseData['body'] {
  const stream = Readable.from([bytes]) as Readable & Record<string, unknown>;
  stream.text = () => Promise.resolve(bytes.toString('utf8'));
  stream.json = () => Promise.resolve(JSON.parse(bytes.toString('utf8')) as unknown);
  stream.arrayBuffer = () =>
    Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  stream.dump = () => Promise.resolve();
  return stream as unknown as Dispatcher.ResponseData['body'];
}

/** A 200's body of known length: chunks are views on pooled buffers, handed back through `recycle`. */
class PooledBody extends Readable implements RecyclingReadable {
  private left: number;
  /** The pooled memory each chunk still out is a view on (a chunk handed back twice is ignored). */
  private readonly lent = new WeakSet<ArrayBufferLike>();
  complete = false;

  constructor(
    private readonly socket: Socket,
    length: number,
  ) {
    // Object mode: a reader gets each chunk as it was read (a byte-mode read() joins the chunks it holds
    // into a new buffer: a copy, and the pooled memory lost). Up to 8 chunks, 2 MiB, buffered.
    super({ objectMode: true, highWaterMark: 8 });
    this.left = length;
  }

  /** A chunk read from the socket; false to stop reading until the consumer asks for more. */
  arrive(chunk: Buffer, pooled = true): boolean {
    if (this.destroyed) return false;
    const part = chunk.length > this.left ? chunk.subarray(0, this.left) : chunk;
    this.left -= part.length;
    if (pooled) this.lent.add(part.buffer);
    const more = part.length > 0 ? this.push(part) : true;
    if (this.left === 0) {
      this.complete = true;
      this.push(null);
      this.socket.destroy();
      return false;
    }
    return more;
  }

  recycle(chunk: Buffer): void {
    if (!this.lent.has(chunk.buffer)) return;
    this.lent.delete(chunk.buffer);
    pool.give(chunk.buffer);
  }

  override _read(): void {
    if (!this.complete) this.socket.resume();
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }

  dump(): Promise<void> {
    this.destroy();
    return Promise.resolve();
  }

  async text(): Promise<string> {
    const parts: Buffer[] = [];
    for await (const c of this) parts.push(Buffer.from(c as Buffer));
    return Buffer.concat(parts).toString('utf8');
  }
}
