import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { JobContext } from '../../jobs/kind.js';
import type { DeliveryPayload } from '../../jobs/kinds/webhook.js';
import { PooledPost, StaleConnection } from './pooled-post.js';

export interface SendResult {
  status: number;
  /** The start of the answer's body (for the task log). */
  body: string;
}

/** Body bytes of an answer kept for the log. */
const keptBody = 1024;

export interface PostOptions {
  skipCertVerify: boolean;
  signal?: AbortSignal;
}

/**
 * POSTs webhook requests, as Harbor's webhook job does: the stored headers and body as they are, a hard
 * time limit for the whole exchange, TLS verified unless the target skips it. Connections to targets are
 * kept open between deliveries, so a busy target costs no TCP or TLS handshake per event: plain-http
 * targets through PooledPost (pooled-post.ts), https ones through Node's agent (pooled per host, port
 * and TLS options).
 */
export class WebhookSender {
  private readonly https = new HttpsAgent({ keepAlive: true, timeout: 30_000 });
  private readonly plain = new PooledPost();

  constructor(private readonly timeoutMs: number) {}

  /**
   * Resolves with any answer; a network error, the time limit or `signal` rejects. A kept-alive
   * connection that the target closed as the request went out is retried once on a new one (the target
   * read nothing of it).
   */
  async post(
    address: string,
    headers: Record<string, string>,
    body: string,
    o: PostOptions,
  ): Promise<SendResult> {
    const url = new URL(address);
    if (url.protocol === 'http:') {
      const bytes = Buffer.from(body);
      const send = (fresh: boolean) =>
        this.plain.post(url, headers, bytes, {
          timeoutMs: this.timeoutMs,
          signal: o.signal,
          keep: keptBody,
          fresh,
        });
      try {
        return await send(false);
      } catch (err) {
        if (!(err instanceof StaleConnection)) throw err;
        return send(true);
      }
    }
    try {
      return await this.postOnce(address, headers, body, o, true);
    } catch (err) {
      if (!(err instanceof StaleConnection)) throw err;
      return this.postOnce(address, headers, body, o, false);
    }
  }

  /** Sends one delivery job's request; anything but a 2xx answer fails the attempt (Harbor's words). */
  readonly send = async (p: DeliveryPayload, ctx: JobContext): Promise<void> => {
    const started = Date.now();
    const res = await this.post(p.address, p.headers, p.body, {
      skipCertVerify: p.skipCertVerify,
      signal: ctx.signal,
    });
    if (res.status < 200 || res.status >= 300)
      throw new Error(`abnormal response code: ${res.status}, body: ${res.body}`);
    await ctx.log(
      `sent the ${p.notifyType} request to ${p.address}: ${res.status} in ${Date.now() - started} ms`,
    );
  };

  close(): void {
    this.https.destroy();
    this.plain.close();
  }

  /** One POST to an https target. */
  private postOnce(
    address: string,
    headers: Record<string, string>,
    body: string,
    o: PostOptions,
    reuse: boolean,
  ): Promise<SendResult> {
    const url = new URL(address);
    const bytes = Buffer.from(body);
    const timeoutMs = this.timeoutMs;
    return new Promise<SendResult>((resolve, reject) => {
      const options = {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(bytes.length), 'User-Agent': 'Go-http-client/1.1' },
        agent: reuse ? this.https : false,
        rejectUnauthorized: !o.skipCertVerify,
      };
      let answered = false;
      const onAnswer = (res: IncomingMessage) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < keptBody) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).subarray(0, keptBody).toString('utf8'),
          });
        });
        res.on('error', fail);
      };
      const req = httpsRequest(url, options, onAnswer);
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      function fail(err: Error) {
        clearTimeout(timer);
        const code = (err as { code?: string }).code;
        const stale = req.reusedSocket && !answered && (code === 'ECONNRESET' || code === 'EPIPE');
        reject(stale && !o.signal?.aborted ? new StaleConnection(err.message) : err);
      }
      req.on('error', fail);
      if (o.signal) {
        if (o.signal.aborted) req.destroy(new Error('aborted'));
        else o.signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
      }
      req.end(bytes);
    });
  }
}
