/**
 * The one way the UI talks to Berth: Harbor's /api/v2.0 plus the session login under /c. Cookies carry
 * the session; every unsafe request repeats the CSRF token Berth last handed out (X-Harbor-CSRF-Token).
 * Failures become ApiError with the message from Harbor's {"errors":[{code,message}]} body.
 */
export const API = '/api/v2.0';
const CSRF_HEADER = 'X-Harbor-CSRF-Token';

let csrfToken: string | undefined;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Form fields, sent as application/x-www-form-urlencoded (the login form). */
  form?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

function cookieToken(): string | undefined {
  const m = /(?:^|;\s*)__csrf=([^;]+)/.exec(document.cookie);
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const url = path.startsWith('/c/') || path.startsWith('http') ? path : API + path;
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${url}?${s}` : url;
}

async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: BodyInit | undefined;
  if (opts.form) {
    body = new URLSearchParams(opts.form);
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD') {
    // The cookie is what the current session holds; the header copy covers a Berth that sets no cookie.
    const token = cookieToken() ?? csrfToken;
    if (token) headers[CSRF_HEADER] = token;
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'Berth could not be reached; check your connection');
  }
  const token = res.headers.get(CSRF_HEADER);
  if (token) csrfToken = token;
  if (!res.ok) throw await toError(res);
  return res;
}

async function toError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = parsed.errors?.[0];
    if (first?.message) return new ApiError(res.status, first.code ?? 'UNKNOWN', first.message);
  } catch {
    // not Harbor's JSON body: fall through to the status line
  }
  const fallback = text && text.length < 300 && !text.startsWith('<') ? text.trim() : res.statusText;
  return new ApiError(res.status, `HTTP_${res.status}`, fallback || `request failed (${res.status})`);
}

async function parse<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? JSON.parse(text) : text) as T;
}

/** GET/POST/PUT/PATCH/DELETE returning the parsed body (JSON, text, or undefined when empty). */
export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  return parse<T>(await send(path, opts));
}

/** A page of a Harbor list: the body and X-Total-Count. */
export async function apiPage<T>(path: string, opts: RequestOptions = {}): Promise<Page<T>> {
  const res = await send(path, opts);
  const items = (await parse<T[]>(res)) ?? [];
  const header = res.headers.get('x-total-count');
  return { items, total: header === null ? items.length : Number(header) };
}

/** POST that answers 201 with a Location header: returns the new resource's id (last path segment). */
export async function apiCreate(path: string, body: unknown): Promise<string | undefined> {
  const res = await send(path, { method: 'POST', body });
  const location = res.headers.get('location');
  return location ? decodeURIComponent(location.split('/').pop() ?? '') : undefined;
}

/**
 * Harbor's `q` query: k=v pairs joined by commas; a string starting with `~` asks for a fuzzy match. A value
 * holding a character that means something in `q` (a comma, a quote, a bracket, edge spaces) is sent in
 * double quotes (`name=~"a,b"`), so what a user types in a search box is searched for, never parsed as
 * syntax. Plain values go bare, as Harbor's own portal sends them.
 */
export function q(filters: Record<string, string | number | undefined>): string | undefined {
  const parts = Object.entries(filters)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) =>
      typeof v === 'string' && v.startsWith('~')
        ? `${k}=~${qValue(v.slice(1))}`
        : `${k}=${qValue(String(v))}`,
    );
  return parts.length ? parts.join(',') : undefined;
}

function qValue(v: string): string {
  return /[,"[\]{}()]/.test(v) || v.startsWith('~') || v !== v.trim() ? `"${v}"` : v;
}

/** Repository names are sent double-encoded in Harbor's API paths (a/b → a%252Fb). */
export function repoPath(repositoryName: string): string {
  return encodeURIComponent(encodeURIComponent(repositoryName));
}

/** Harbor's refusals of a change to a protected tag: the push middleware's words, the tag controller's. */
const immutableRefusal =
  /^Failed to process request due to '(.+)' configured as immutable\.$|^the tag (.+) configured as immutable, cannot be (deleted|updated)$/;

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError && err.code === 'PRECONDITION') {
    const m = immutableRefusal.exec(err.message);
    if (m)
      return (
        `The tag ${m[1] ?? m[2]} is protected by a tag immutability rule of this project, so it cannot be ` +
        `${m[3] === 'deleted' ? 'deleted, nor can the artifact it is on' : 'moved to another artifact'}. ` +
        'A project administrator or maintainer can disable the rule under Tag Immutability.'
      );
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
