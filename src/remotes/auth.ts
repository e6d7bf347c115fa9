import type { RemoteHttp } from './http.js';

/**
 * Registry authentication as the distribution spec describes it: a request answered 401 carries a
 * `WWW-Authenticate` challenge; `Basic` means send the credentials, `Bearer realm=..,service=..,scope=..`
 * means exchange them at the realm for a token covering those scopes. Tokens are cached per scope set
 * until shortly before they expire.
 */

export interface BasicCredentials {
  username: string;
  password: string;
}

/** Where credentials come from: fixed, or minted by a provider exchange (ECR, GCR, ...). */
export type CredentialSource = (signal?: AbortSignal) => Promise<BasicCredentials | undefined>;

export interface Authorizer {
  /** The Authorization header for a request that needs these scopes, or undefined for anonymous. */
  header(scopes: string[], signal?: AbortSignal): Promise<string | undefined>;
  /** Learns from a 401 answer; the scopes to retry with, or undefined when a retry cannot help. */
  challenged(wwwAuthenticate: string | undefined, scopes: string[]): Promise<string[] | undefined>;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="..",service="..",scope="a:b:pull,push"` (commas inside quotes kept). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2] ?? ''); p; p = re.exec(m[2] ?? '')) {
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

export function basicHeader(c: BasicCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

export const fixedCredentials =
  (c: BasicCredentials | undefined): CredentialSource =>
  async () =>
    c;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** The standard challenge-driven authorizer used by every v2 client. */
export class ChallengeAuthorizer implements Authorizer {
  private challenge: Challenge | null | undefined;
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly http: RemoteHttp,
    private readonly baseUrl: string,
    private readonly credentials: CredentialSource,
  ) {}

  async header(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const challenge = await this.learn(signal);
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const c = await this.credentials(signal);
      return c ? basicHeader(c) : undefined;
    }
    if (challenge.scheme === 'bearer') return `Bearer ${await this.token(challenge, scopes, signal)}`;
    return undefined;
  }

  async challenged(www: string | undefined, scopes: string[]): Promise<string[] | undefined> {
    const next = parseChallenge(www);
    if (!next) return undefined;
    const known = this.challenge;
    this.challenge = next;
    if (next.scheme === 'bearer') {
      // Retry once with a fresh token that also covers any scope the challenge names.
      const retry = merge(scopes, next.params.scope);
      this.tokens.delete(scopeKey(next, retry));
      return retry;
    }
    return known?.scheme !== next.scheme ? scopes : undefined;
  }

  /** Token for the scopes a request needs, plus any the last challenge named. */
  private async token(challenge: Challenge, scopes: string[], signal?: AbortSignal): Promise<string> {
    const all = merge(scopes);
    const key = scopeKey(challenge, all);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    const realm = challenge.params.realm;
    if (!realm) throw this.http.error('authenticate', 'invalid', 'its Bearer challenge names no realm');
    const url = new URL(realm, this.baseUrl);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const s of all) url.searchParams.append('scope', s);
    const creds = await this.credentials(signal);
    const res = await this.http.send({
      operation: 'get a token',
      method: 'GET',
      url: url.toString(),
      headers: creds ? { authorization: basicHeader(creds) } : {},
      signal,
    });
    if (res.status !== 200) throw await this.http.failure('get a token', res);
    const body = await this.http.json<{ token?: string; access_token?: string; expires_in?: number }>(
      'get a token',
      res,
    );
    const token = body.token ?? body.access_token;
    if (!token) throw this.http.error('get a token', 'invalid', 'the token service answered without a token');
    // Registries default to 60 s; refresh a little early.
    const ttl = Math.max(10, (body.expires_in ?? 60) - 10) * 1000;
    this.tokens.set(key, { token, expiresAt: Date.now() + ttl });
    return token;
  }

  /** Learns the challenge once from an anonymous `GET /v2/`. */
  private async learn(signal?: AbortSignal): Promise<Challenge | null> {
    if (this.challenge !== undefined) return this.challenge;
    const res = await this.http.send({
      operation: 'ping',
      method: 'GET',
      url: new URL('/v2/', this.baseUrl).toString(),
      signal,
    });
    await res.body.dump();
    this.challenge = res.status === 401 ? (parseChallenge(res.headers['www-authenticate']) ?? null) : null;
    return this.challenge;
  }
}

function merge(scopes: string[], extra?: string): string[] {
  const out = new Set(scopes.filter(Boolean));
  if (extra) for (const s of extra.split(' ')) if (s) out.add(s);
  return [...out].sort();
}

function scopeKey(challenge: Challenge, scopes: string[]): string {
  return `${challenge.params.realm ?? ''}|${challenge.params.service ?? ''}|${scopes.join(' ')}`;
}
