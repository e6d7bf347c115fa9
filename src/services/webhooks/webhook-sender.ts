import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { JobContext } from '../../jobs/kind.js';
import type { DeliveryPayload } from '../../jobs/kinds/webhook.js';

export interface SendResult {
  status: number;
  /** The start of the answer's body (for the task log). */
  body: string;
}

/** Body bytes of an answer kept for the log. */
const keptBody = 1024;

/**
 * POSTs one webhook request, as Harbor's webhook job does: the stored headers and body as they are,
 * a hard time limit for the whole exchange, TLS verified unless the target skips it. Resolves with any
 * answer; a network error, the time limit or `signal` rejects.
 */
export function postWebhook(
  address: string,
  headers: Record<string, string>,
  body: string,
  o: { timeoutMs: number; skipCertVerify: boolean; signal?: AbortSignal },
): Promise<SendResult> {
  const url = new URL(address);
  const bytes = Buffer.from(body);
  return new Promise<SendResult>((resolve, reject) => {
    const options = {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(bytes.length), 'User-Agent': 'Go-http-client/1.1' },
      ...(url.protocol === 'https:' ? { rejectUnauthorized: !o.skipCertVerify } : {}),
    };
    const onAnswer = (res: IncomingMessage) => {
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
    const req =
      url.protocol === 'https:' ? httpsRequest(url, options, onAnswer) : httpRequest(url, options, onAnswer);
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
    function fail(err: Error) {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    if (o.signal) {
      if (o.signal.aborted) req.destroy(new Error('aborted'));
      else o.signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
    }
    req.end(bytes);
  });
}

/** Sends one delivery job's request; anything but a 2xx answer fails the attempt (Harbor's words). */
export function webhookSender(timeoutMs: number) {
  return async (p: DeliveryPayload, ctx: JobContext): Promise<void> => {
    const started = Date.now();
    const res = await postWebhook(p.address, p.headers, p.body, {
      timeoutMs,
      skipCertVerify: p.skipCertVerify,
      signal: ctx.signal,
    });
    if (res.status < 200 || res.status >= 300)
      throw new Error(`abnormal response code: ${res.status}, body: ${res.body}`);
    await ctx.log(
      `sent the ${p.notifyType} request to ${p.address}: ${res.status} in ${Date.now() - started} ms`,
    );
  };
}
