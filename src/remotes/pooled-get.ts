import { connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { collectGarbage } from '../lib/collect-garbage.js';
import { parseHttp1Head } from '../lib/http1-head.js';
import type { RecyclingReadable } from '../lib/recycling.js';
import { SparePool } from '../storage/file-read-stream.js';
import type { HttpResponse } from './http.js';
import { bufferedBody, unchunk } from './http1-answer.js';

/**
 * Socket reads of blob downloads go into 1 MiB slabs: each read into the room left in the current slab, and
 * the bytes read since the last chunk handed on go out as one chunk (a view on the slab) when the slab is
 * full or once the reads of an event-loop turn are done. A slab comes back to the pool when it is full and
 * every chunk of it was handed back by the consumers (a proxied blob's client socket and file write). No
 * read is ever copied, and chunks are as large as the reads of a turn allow (up to 1 MiB), so what each
 * chunk costs downstream (hash, stream hops, system calls) is paid less often than with a chunk per read.
 * The pool keeps up to 128 slabs: what a fetch holds at once (storage's backlog, 4 MiB by default, and
 * the clients' buffers) comes back to it instead of to the garbage collector, whose mark-compacts the
 * churn of fresh memory outside the heap starts (21 against 9 over four cold pulls, before and after:
 * docs/proxy-cache.md). Spares unused for `slabIdleMs` go, and all of them once no download took one for
 * that long (then one full GC frees them, as for the filesystem's read buffers: issue 13). Slabs are
 * SharedArrayBuffers, so the hashing thread (lib/hash-thread.ts) reads the chunks where they are.
 */
const slabSize = 1024 * 1024;
/** A read gets at least this much room: with less left in the slab, the next slab is taken. */
const minRoom = 128 * 1024;
/**
 * A cold pull's slabs (50-70 MiB: storage's backlog and the clients' buffers) are let go this long after
 * the last download took one, 1-2 s after the pull. With 5 s (5-10 s after it) they were still held while
 * the bench's next requests ran, a cached pull of the same image or the push of the next one, whose memory
 * then came on top: their peaks were the pull's slabs plus their own (issue 15, docs/benchmarks.md).
 * The blobs of one pull follow each other within milliseconds, so a pull keeps its slabs throughout.
 */
const slabIdleMs = 1000;
const pool = new SparePool(slabSize, 128, {
  idleMs: slabIdleMs,
  onIdle: collectGarbage,
  shared: true,
  arenas: true,
});
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
    let slab = new Slab(pool.take());
    const onread = {
      buffer: () => slab.room(),
      callback: (n: number, buf: Buffer): boolean => {
        if (body) {
          slab.fill += n;
          const more = body.received(slab, n);
          if (slab.roomLeft() < minRoom) {
            body.flush(slab);
            slab.retire();
            slab = new Slab(pool.take());
          }
          return more;
        }
        // The head (and small whole answers) are copied: the slab is read into again from its start.
        const chunk = Buffer.from(buf.subarray(0, n));
        if (whole) {
          whole.push(chunk);
          if (wholeDone()) finishWhole();
          return true;
        }
        head = Buffer.concat([head!, chunk]);
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
        const rest = head.subarray(end + 4);
        head = undefined;
        const length = Number(answer.headers['content-length']);
        if (answer.status === 200 && Number.isSafeInteger(length) && !answer.headers['transfer-encoding']) {
          body = new PooledBody(socket, length);
          settled = true;
          clearTimeout(headTimer);
          socket.setTimeout(options.idleTimeoutMs);
          resolve({ ...answer, body: body as unknown as Dispatcher.ResponseData['body'] });
          return body.arrive(rest);
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
      body?.flush(slab);
      slab.retire();
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

/**
 * A slab of read memory: bytes [0, fill) were read, [0, sent) went out in chunks, `out` of which are still
 * with consumers. Back to the pool once retired (no more reads into it) and no chunk of it is out.
 */
class Slab {
  fill = 0;
  sent = 0;
  out = 0;
  private retired = false;

  constructor(readonly memory: Buffer) {}

  room(): Buffer {
    return this.memory.subarray(this.fill);
  }

  roomLeft(): number {
    return this.memory.length - this.fill;
  }

  /** The bytes read since the last chunk, as one chunk (a view on the slab). */
  take(): Buffer {
    const chunk = this.memory.subarray(this.sent, this.fill);
    this.sent = this.fill;
    this.out++;
    return chunk;
  }

  handBack(): void {
    this.out--;
    if (this.retired && this.out === 0) pool.give(this.memory);
  }

  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (this.out === 0) pool.give(this.memory);
  }
}

/**
 * A 200's body of known length: chunks are views on the connection's slabs, handed back through `recycle`
 * (a chunk handed back twice, or one not lent, is ignored).
 */
class PooledBody extends Readable implements RecyclingReadable {
  private left: number;
  /** The chunks now with consumers, and the slab each is a view on. */
  private readonly lent = new Map<Buffer, Slab>();
  /** An end-of-turn flush is scheduled. */
  private flushing: NodeJS.Immediate | undefined;
  private pending: Slab | undefined;
  complete = false;

  constructor(
    private readonly socket: Socket,
    length: number,
  ) {
    // Object mode: a reader gets each chunk as it was handed on (a byte-mode read() joins the chunks it
    // holds into a new buffer: a copy, and the pooled memory lost). Up to 4 chunks (4 MiB) buffered: with
    // 8, the bench's cold pull of five 64 MiB layers held up to 26-30 slabs at once, with 4 23-24, at the
    // same speed (docs/proxy-cache.md); a slab's pages stay resident once written.
    super({ objectMode: true, highWaterMark: 4 });
    this.left = length;
  }

  /** Bytes that came with the head (a copy); false to stop reading until the consumer asks for more. */
  arrive(chunk: Buffer): boolean {
    const part = chunk.length > this.left ? chunk.subarray(0, this.left) : chunk;
    this.left -= part.length;
    return this.deliver(part);
  }

  /**
   * `n` bytes were read into `slab`: they go out at once when they end the body, else with the others of
   * this turn (at its end, or when the slab is full: `flush`). False to stop reading.
   */
  received(slab: Slab, n: number): boolean {
    if (this.destroyed) return false;
    if (n > this.left) slab.fill -= n - this.left;
    this.left -= Math.min(n, this.left);
    if (this.left === 0) return this.flush(slab);
    this.pending = slab;
    this.flushing ??= setImmediate(() => {
      this.flushing = undefined;
      if (this.pending) this.flush(this.pending);
    });
    return this.readableLength < this.readableHighWaterMark;
  }

  /** Hands on what `slab` holds that has not gone out yet; false when the reader has enough for now. */
  flush(slab: Slab): boolean {
    if (this.pending === slab) this.pending = undefined;
    if (this.destroyed || slab.fill === slab.sent) return !this.destroyed;
    const chunk = slab.take();
    this.lent.set(chunk, slab);
    return this.deliver(chunk);
  }

  private deliver(part: Buffer): boolean {
    if (this.destroyed) return false;
    const more = part.length > 0 ? this.push(part) : true;
    if (this.left === 0 && !this.complete) {
      this.complete = true;
      this.push(null);
      this.socket.destroy();
      return false;
    }
    return more;
  }

  recycle(chunk: Buffer): void {
    const slab = this.lent.get(chunk);
    if (!slab) return;
    this.lent.delete(chunk);
    slab.handBack();
  }

  override _read(): void {
    if (!this.complete) this.socket.resume();
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    if (this.flushing) clearImmediate(this.flushing);
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
