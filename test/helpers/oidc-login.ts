import { Agent, fetch as undiciFetch } from 'undici';

/**
 * A browser-less user agent for the OpenID authorization-code flow: follows redirects by hand across
 * hosts with a per-host cookie jar, fills the test provider's login form and accepts its consent form.
 * Enough for tests to log in through Berth's /c/oidc/login with plain HTTP.
 */
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

export class CookieJar {
  private readonly byHost = new Map<string, Map<string, string>>();

  store(url: string, res: Response): void {
    const host = new URL(url).host;
    const jar = this.byHost.get(host) ?? new Map<string, string>();
    this.byHost.set(host, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.trim().split('=');
        if (k?.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k?.toLowerCase() === 'expires') return Date.parse(v ?? '') < Date.now();
        return false;
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: string): string | undefined {
    const jar = this.byHost.get(new URL(url).host);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(url: string, name: string): string | undefined {
    return this.byHost.get(new URL(url).host)?.get(name);
  }
}

export interface LoginStep {
  method: string;
  url: string;
  status: number;
}

export interface BrowserlessLoginResult {
  /** The last response (not a redirect, or a redirect that left the flow, e.g. to Berth's UI). */
  response: Response;
  /** Its body, read as text. */
  body: string;
  /** Every request made, in order. */
  steps: LoginStep[];
  jar: CookieJar;
}

export interface BrowserlessLoginOptions {
  username: string;
  password: string;
  jar?: CookieJar;
  /** Stop following redirects when one points at a URL starting with this (default: never stop early). */
  stopAt?: (url: string) => boolean;
  maxSteps?: number;
  /** Accept any TLS certificate (for an IdP with a self-signed one). */
  insecureTls?: boolean;
}

/** Starts at `startUrl` (e.g. Berth's /c/oidc/login) and plays the user's part until the flow ends. */
export async function browserlessLogin(
  startUrl: string,
  options: BrowserlessLoginOptions,
): Promise<BrowserlessLoginResult> {
  const jar = options.jar ?? new CookieJar();
  const steps: LoginStep[] = [];
  let method = 'GET';
  let url = startUrl;
  let body: string | undefined;
  for (let i = 0; i < (options.maxSteps ?? 20); i++) {
    const headers: Record<string, string> = {};
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = options.insecureTls
      ? ((await undiciFetch(url, {
          method,
          headers,
          body,
          redirect: 'manual',
          dispatcher: insecure,
        })) as unknown as Response)
      : await fetch(url, { method, headers, body, redirect: 'manual' });
    jar.store(url, res);
    steps.push({ method, url, status: res.status });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      const next = new URL(location, url).toString();
      if (options.stopAt?.(next)) return { response: res, body: '', steps, jar };
      method = 'GET';
      url = next;
      body = undefined;
      continue;
    }
    const text = await res.text();
    const form = /<form method="post" action="([^"]+)">/.exec(text);
    if (res.status !== 200 || !form) return { response: res, body: text, steps, jar };
    method = 'POST';
    url = new URL(form[1]!, url).toString();
    body = text.includes('name="password"')
      ? new URLSearchParams({ login: options.username, password: options.password }).toString()
      : '';
  }
  throw new Error(`login did not finish in ${options.maxSteps ?? 20} steps: ${JSON.stringify(steps)}`);
}
