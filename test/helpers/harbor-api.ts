import assert from 'node:assert/strict';
import { testAdmin } from './berth.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * A small client for /api/v2.0: JSON in and out, Basic auth (the test admin unless given; null for
 * anonymous), the raw text kept for messages.
 */
export class HarborApi {
  constructor(
    readonly baseUrl: string,
    private readonly auth: { username: string; password: string } | null = testAdmin,
  ) {}

  anonymous(): HarborApi {
    return new HarborApi(this.baseUrl, null);
  }

  as(username: string, password: string): HarborApi {
    return new HarborApi(this.baseUrl, { username, password });
  }

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.auth)
      h.authorization = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    if (body !== undefined && !h['content-type']) h['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}/api/v2.0${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  /** Calls and asserts the status, returning the body. */
  async expect<T = unknown>(
    status: number,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>> {
    const res = await this.call<T>(method, path, body, headers);
    assert.equal(
      res.status,
      status,
      `${method} ${path}: expected ${status}, got ${res.status} ${res.text.slice(0, 400)}`,
    );
    return res;
  }

  /** Asserts a Harbor error answer: status, `{"errors":[{code,message}]}` and the code. */
  async expectError(
    status: number,
    code: string,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<string> {
    const res = await this.call<{ errors: { code: string; message: string }[] }>(method, path, body, headers);
    assert.equal(
      res.status,
      status,
      `${method} ${path}: expected ${status}, got ${res.status} ${res.text.slice(0, 400)}`,
    );
    if (method === 'HEAD') return '';
    assert.ok(
      Array.isArray(res.body.errors) && res.body.errors.length === 1,
      `not a Harbor error body: ${res.text}`,
    );
    assert.equal(res.body.errors[0]!.code, code, res.text);
    assert.equal(typeof res.body.errors[0]!.message, 'string');
    return res.body.errors[0]!.message;
  }
}
