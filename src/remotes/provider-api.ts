import type { Dispatcher } from 'undici';
import type { HttpResponse, RemoteHttp } from './http.js';

/**
 * A provider's own REST API (Docker Hub, Quay, GitLab, Harbor, ...) next to its v2 registry: JSON in
 * and out, one authorization header scheme supplied by the adapter, failures as RemoteErrors.
 */
export interface ApiCall {
  operation: string;
  method?: Dispatcher.HttpMethod;
  path: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Statuses that are answers, not failures (404 for "does it exist"). */
  accept?: number[];
}

export type HeaderSource = (call: ApiCall, url: URL) => Promise<Record<string, string | undefined>>;

export class ProviderApi {
  constructor(
    readonly http: RemoteHttp,
    readonly baseUrl: string,
    private readonly auth: HeaderSource = async () => ({}),
    /** Providers that refuse credentials with a non-401 status say so in the body. */
    private readonly isAuthFailure: (status: number, body: string) => boolean = () => false,
  ) {}

  /** `path` starts with '/' and is appended to the base URL (which may carry a path prefix). */
  url(call: Pick<ApiCall, 'path' | 'query'>): URL {
    const url = new URL(this.baseUrl.replace(/\/+$/, '') + call.path);
    for (const [k, v] of Object.entries(call.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  /** Sends the call; a status outside 2xx and `accept` becomes a RemoteError. */
  async send(call: ApiCall): Promise<HttpResponse> {
    const url = this.url(call);
    const body = call.json !== undefined ? JSON.stringify(call.json) : call.body;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(call.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...call.headers,
    };
    for (const [k, v] of Object.entries(await this.auth({ ...call, body, headers }, url)))
      if (v !== undefined) headers[k] = v;
    const res = await this.http.send({
      operation: call.operation,
      method: call.method ?? 'GET',
      url: url.toString(),
      headers,
      body,
      signal: call.signal,
    });
    if ((res.status >= 200 && res.status < 300) || call.accept?.includes(res.status)) return res;
    const text = await res.body.text().catch(() => '');
    const reason = this.isAuthFailure(res.status, text) ? 'auth' : undefined;
    throw this.http.answerError(call.operation, res.status, text, reason);
  }

  /** Sends the call and parses its JSON answer (undefined for 204 or an accepted non-2xx status). */
  async json<T>(call: ApiCall): Promise<{ body: T | undefined; res: HttpResponse }> {
    const res = await this.send(call);
    if (res.status === 204 || res.status < 200 || res.status >= 300) {
      await res.body.dump();
      return { body: undefined, res };
    }
    return { body: await this.http.json<T>(call.operation, res), res };
  }

  /** Like json() for calls that must answer with a body. */
  async get<T>(call: ApiCall): Promise<T> {
    const { body } = await this.json<T>(call);
    if (body === undefined) throw this.http.error(call.operation, 'invalid', 'the answer had no body');
    return body;
  }
}
