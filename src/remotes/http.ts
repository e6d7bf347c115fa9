import type { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { RemoteError, type RemoteErrorReason, type RemoteOptions } from './adapter.js';
import { isRecycling, type RecyclingReadable } from '../lib/recycling.js';
import { pooledGet } from './pooled-get.js';
import { pooledPut } from './pooled-put.js';

/**
 * The one place remote HTTP calls are made. Each RemoteHttp owns an undici Agent configured for one
 * endpoint (TLS verification or a custom CA, connect/header/idle-body timeouts). Calls without a
 * streamed body are also bounded in total by `timeoutMs`. Failures become RemoteErrors naming the
 * registry, the operation and what the remote answered.
 */

export interface HttpRequest {
  /** Words for messages: "pull manifest library/app:1.0". */
  operation: string;
  method: Dispatcher.HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  signal?: AbortSignal;
  /** Leave the response body unread for the caller (blob downloads): no total timeout applies. */
  stream?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Dispatcher.ResponseData['body'];
}

let undiciModule: Promise<typeof import('undici')> | undefined;
/** undici loads with the first remote call, not at start: a node that never replicates or proxies needs none. */
const undici = () => (undiciModule ??= import('undici'));

export const defaultTimeoutMs = 30_000;
export const defaultIdleTimeoutMs = 60_000;

export class RemoteHttp {
  readonly registry: string;
  readonly timeoutMs: number;
  private readonly agentOptions: Agent.Options;
  private readonly pooled: boolean;
  private agent?: Agent;

  constructor(registry: string, tls: { insecure?: boolean; ca?: string }, options: RemoteOptions = {}) {
    this.registry = registry;
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.pooled = options.pooledBlobReads === true;
    this.agentOptions = {
      headersTimeout: this.timeoutMs,
      bodyTimeout: options.idleTimeoutMs ?? defaultIdleTimeoutMs,
      connect: {
        timeout: this.timeoutMs,
        rejectUnauthorized: !tls.insecure,
        ...(tls.ca ? { ca: tls.ca } : {}),
      },
    };
  }

  /** Sends one request; any status is returned (callers decide what is success). */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const timeout = req.stream || isStream(req.body) ? undefined : AbortSignal.timeout(this.timeoutMs);
    const signals = [req.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      if (this.pooled && req.stream && req.method === 'GET' && req.body === undefined) {
        const url = new URL(req.url);
        if (url.protocol === 'http:')
          return await pooledGet(url, {
            headers: req.headers ?? {},
            ...(signal ? { signal } : {}),
            timeoutMs: this.timeoutMs,
            idleTimeoutMs: this.agentOptions.bodyTimeout ?? defaultIdleTimeoutMs,
          });
      }
      // A blob's body that takes its chunks back (a copy's: remotes/copy.ts) to a plain-HTTP destination.
      if (req.method === 'PUT' && isStream(req.body) && isRecycling(req.body as Readable)) {
        const url = new URL(req.url);
        if (url.protocol === 'http:' && Number.isSafeInteger(Number(req.headers?.['content-length'])))
          return await pooledPut(url, {
            headers: req.headers!,
            body: req.body as RecyclingReadable,
            ...(signal ? { signal } : {}),
            timeoutMs: this.timeoutMs,
            idleTimeoutMs: this.agentOptions.bodyTimeout ?? defaultIdleTimeoutMs,
          });
      }
      const { Agent, request } = await undici();
      this.agent ??= new Agent(this.agentOptions);
      const res = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal,
        dispatcher: this.agent,
      });
      return { status: res.statusCode, headers: flatten(res.headers), body: res.body };
    } catch (err) {
      throw this.transportError(req.operation, err, req.signal, timeout);
    }
  }

  /** Like send, following redirects (blob downloads are often redirected to object storage). */
  async sendFollowing(req: HttpRequest, hops = 5): Promise<HttpResponse> {
    let res = await this.send(req);
    let current = req;
    for (let i = 0; i < hops && [301, 302, 303, 307, 308].includes(res.status); i++) {
      const location = res.headers.location;
      if (!location) break;
      await res.body.dump();
      const url = new URL(location, current.url).toString();
      // Credentials never travel to another host.
      const sameHost = new URL(url).host === new URL(current.url).host;
      const headers = { ...current.headers };
      if (!sameHost) delete headers.authorization;
      current = { ...current, url, headers, method: res.status === 303 ? 'GET' : current.method };
      res = await this.send(current);
    }
    return res;
  }

  /** Reads a JSON answer within the call's time budget. */
  async json<T>(operation: string, res: HttpResponse): Promise<T> {
    const text = await res.body.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.error(operation, 'invalid', `answered invalid JSON: ${snippet(text)}`, res.status, text);
    }
  }

  /** Builds the RemoteError for a non-success answer, reading (and trimming) its body. */
  async failure(operation: string, res: HttpResponse): Promise<RemoteError> {
    let text = '';
    try {
      text = await res.body.text();
    } catch {
      // the body is gone; the status alone must do
    }
    return this.answerError(operation, res.status, text);
  }

  /** The RemoteError for an answer already read: "authentication failed for X (op): 401 ..." etc. */
  answerError(
    operation: string,
    status: number,
    text: string,
    reason: RemoteErrorReason = reasonFor(status),
  ): RemoteError {
    const lead =
      reason === 'auth'
        ? `authentication failed for ${this.registry} (${operation})`
        : `${operation} failed on ${this.registry}`;
    return new RemoteError(
      { registry: this.registry, operation, reason, status, body: snippet(text) },
      `${lead}: ${status}${text ? ` ${snippet(text)}` : ''}`,
    );
  }

  error(
    operation: string,
    reason: RemoteErrorReason,
    words: string,
    status?: number,
    body?: string,
  ): RemoteError {
    return new RemoteError(
      {
        registry: this.registry,
        operation,
        reason,
        status,
        body: body === undefined ? undefined : snippet(body),
      },
      `${operation} failed on ${this.registry}: ${words}`,
    );
  }

  transportError(operation: string, err: unknown, caller?: AbortSignal, timeout?: AbortSignal): RemoteError {
    if (err instanceof RemoteError) return err;
    const code = (err as { code?: string }).code ?? '';
    const message = err instanceof Error ? err.message : String(err);
    let reason: RemoteErrorReason = 'unreachable';
    let words = `cannot reach the registry (${code || message})`;
    if (caller?.aborted) {
      reason = 'aborted';
      words = 'stopped';
    } else if (timeout?.aborted || /TIMEOUT/.test(code)) {
      reason = 'timeout';
      words = `no answer within ${Math.round(this.timeoutMs / 1000)} s (${code || 'timeout'})`;
    } else if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code + message)) {
      words = `TLS verification failed (${code || message}); trust its CA or mark the registry insecure`;
    }
    return new RemoteError(
      { registry: this.registry, operation, reason },
      `${operation} failed on ${this.registry}: ${words}`,
      {
        cause: err,
      },
    );
  }

  async close(): Promise<void> {
    await this.agent?.close();
  }
}

export function reasonFor(status: number): RemoteErrorReason {
  if (status === 401) return 'auth';
  if (status === 403) return 'denied';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  return 'remote';
}

/** The start of a remote body, on one line, for messages and logs. */
export function snippet(text: string, max = 300): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

function isStream(body: HttpRequest['body']): boolean {
  return typeof body === 'object' && body !== null && !Buffer.isBuffer(body);
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
