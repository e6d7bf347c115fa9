import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { parseHttp1Head } from '../lib/http1-head.js';
import type { HttpResponse } from './http.js';

const maxHead = 64 * 1024;

/**
 * Reads a small HTTP/1.1 answer whole from a connection's bytes, for the hand-written clients of
 * remotes/ (pooled-put.ts): the head, interim 1xx answers skipped, then the body by its Content-Length,
 * its chunks, or to the connection's end. `feed` returns the answer once it is whole.
 */
export class AnswerReader {
  private head: Buffer = Buffer.alloc(0);
  private answer: Omit<HttpResponse, 'body'> | undefined;
  private readonly body: Buffer[] = [];
  private bodyBytes = 0;

  /** The answer's head has been read. */
  get started(): boolean {
    return this.answer !== undefined;
  }

  /** Bytes from the connection; the answer once whole (later bytes are ignored). Throws on a malformed head. */
  feed(bytes: Buffer): HttpResponse | undefined {
    if (!this.answer) {
      this.head = this.head.length === 0 ? bytes : Buffer.concat([this.head, bytes]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.head.length > maxHead) throw new Error('the answer has no end of headers');
        return undefined;
      }
      const text = this.head.subarray(0, end).toString('latin1');
      const parsed = parseHttp1Head(text);
      if (!parsed) throw new Error(`not an HTTP answer: ${(text.split('\r\n')[0] ?? '').slice(0, 80)}`);
      const rest = this.head.subarray(end + 4);
      this.head = Buffer.alloc(0);
      // 100 Continue and other interim answers: the final answer follows.
      if (parsed.status < 200) return rest.length > 0 ? this.feed(rest) : undefined;
      this.answer = { status: parsed.status, headers: parsed.headers };
      bytes = rest;
    }
    if (bytes.length > 0) {
      this.body.push(bytes);
      this.bodyBytes += bytes.length;
    }
    const te = this.answer.headers['transfer-encoding'];
    if (te && /chunked/i.test(te)) {
      const all = Buffer.concat(this.body);
      return lastChunkEnd(all) ? this.whole(unchunk(all)) : undefined;
    }
    const length = Number(this.answer.headers['content-length']);
    if (!Number.isSafeInteger(length)) return undefined;
    return this.bodyBytes >= length ? this.whole(Buffer.concat(this.body).subarray(0, length)) : undefined;
  }

  /** The connection ended: the answer, when it was read and its body runs to the end; else undefined. */
  end(): HttpResponse | undefined {
    if (!this.answer || this.answer.headers['transfer-encoding']) return undefined;
    if (this.answer.headers['content-length'] !== undefined) return undefined;
    return this.whole(Buffer.concat(this.body));
  }

  private whole(bytes: Buffer): HttpResponse {
    return { ...this.answer!, body: bufferedBody(bytes) };
  }
}

/** A chunked body read whole ends with its last (empty) chunk and the blank line after any trailers. */
function lastChunkEnd(bytes: Buffer): boolean {
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf('\r\n', at);
    if (eol < 0) return false;
    const size = parseInt(bytes.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return false;
    if (size === 0) return bytes.indexOf('\r\n\r\n', eol) >= 0 || bytes.length >= eol + 4;
    at = eol + 2 + size + 2;
    if (at > bytes.length) return false;
  }
}

/** A chunked body read whole, decoded. */
export function unchunk(bytes: Buffer): Buffer {
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
export function bufferedBody(bytes: Buffer): Dispatcher.ResponseData['body'] {
  const stream = Readable.from([bytes]) as Readable & Record<string, unknown>;
  stream.text = () => Promise.resolve(bytes.toString('utf8'));
  stream.json = () => Promise.resolve(JSON.parse(bytes.toString('utf8')) as unknown);
  stream.arrayBuffer = () =>
    Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  stream.dump = () => Promise.resolve();
  return stream as unknown as Dispatcher.ResponseData['body'];
}
