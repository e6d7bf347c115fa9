import type * as oidc from 'openid-client';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/logger.js';
import type { OidcOptions } from './options.js';
import type { ExternalIdentity, IdentityProvider } from './provider.js';

/** What Berth keeps between sending the browser to the IdP and the callback (in a sealed cookie). */
export interface PendingOidcLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface OidcProviderDeps {
  options: OidcOptions;
  log: Log;
}

/**
 * OpenID Connect authorization-code login (openid-client): discovery, an authorization URL with state,
 * nonce and PKCE (S256), the code exchange with ID token verification, and claims → identity. OIDC users
 * have no password at Berth: `authenticate` never accepts one; they use their CLI secret instead.
 */
let openidClientModule: Promise<typeof import('openid-client')> | undefined;
/** openid-client (and undici) load on the first OIDC login, not at start: most nodes never use them. */
const openidClient = () => (openidClientModule ??= import('openid-client'));

export class OidcProvider implements IdentityProvider {
  readonly mode = 'oidc_auth' as const;
  private readonly options: OidcOptions;
  private readonly log: Log;
  private configuration?: Promise<oidc.Configuration>;
  private readonly groupFilter?: RegExp;

  constructor(deps: OidcProviderDeps) {
    this.options = deps.options;
    this.log = deps.log;
    if (deps.options.groupFilter) this.groupFilter = new RegExp(deps.options.groupFilter);
  }

  /** Passwords are not accepted for OIDC users (Harbor: they use the CLI secret). */
  async authenticate(): Promise<ExternalIdentity | null> {
    return null;
  }

  async beginLogin(redirectUri: string): Promise<{ url: string; pending: PendingOidcLogin }> {
    const config = await this.config();
    const oidc = await openidClient();
    const pending: PendingOidcLogin = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      redirectUri,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.scopes(),
      response_type: 'code',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.toString(), pending };
  }

  /**
   * Completes the login from the callback URL the browser brought back: checks state, exchanges the
   * code (PKCE), verifies the ID token (signature, issuer, audience, expiry, nonce), merges userinfo, and
   * maps the claims. Throws UNAUTHORIZED for anything the IdP or the browser got wrong.
   */
  async finishLogin(callbackUrl: URL, pending: PendingOidcLogin): Promise<ExternalIdentity> {
    const config = await this.config();
    const oidc = await openidClient();
    const error = callbackUrl.searchParams.get('error');
    if (error) {
      const description = callbackUrl.searchParams.get('error_description');
      throw new AppError(
        'UNAUTHORIZED',
        `the identity provider refused the login: ${error}${description ? ` (${description})` : ''}`,
      );
    }
    // The code is exchanged for the redirect URI sent at the start, whatever host the browser came back on.
    const current = new URL(pending.redirectUri);
    current.search = callbackUrl.search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      claims = { ...idClaims };
      if (config.serverMetadata().userinfo_endpoint) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        // The ID token is signed; userinfo only fills in what it lacks.
        claims = { ...info, ...idClaims };
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.log.warn(
        { err: (err as Error).message, code: (err as { code?: string }).code },
        'OIDC callback rejected',
      );
      throw new AppError('UNAUTHORIZED', 'the OIDC login could not be completed; start again');
    }
    return this.identityFrom(claims);
  }

  /** Claims → identity: username from userClaim, groups from groupsClaim (filtered), admin group. */
  identityFrom(claims: Record<string, unknown>): ExternalIdentity {
    const o = this.options;
    const username = claims[o.userClaim];
    if (typeof username !== 'string' || username.trim() === '') {
      throw new AppError(
        'UNAUTHORIZED',
        `the identity provider sent no "${o.userClaim}" claim to use as the username`,
      );
    }
    const raw = claims[o.groupsClaim];
    const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
    const groups = [...new Set(list.filter((g): g is string => typeof g === 'string' && g !== ''))].filter(
      (g) => !this.groupFilter || this.groupFilter.test(g),
    );
    return {
      username: username.trim(),
      email: typeof claims.email === 'string' ? claims.email : undefined,
      realname: typeof claims.name === 'string' ? claims.name : undefined,
      groups,
      subject: `${String(claims.iss)}|${String(claims.sub)}`,
      sysadmin: o.adminGroup !== undefined && groups.includes(o.adminGroup),
    };
  }

  private scopes(): string {
    const list = this.options.scope
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    return [...new Set(['openid', ...list])].join(' ');
  }

  /** Discovery once, on first use; a failure is not cached, so a later login retries. */
  private config(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover().catch((err: unknown) => {
      this.configuration = undefined;
      throw err;
    });
    return this.configuration;
  }

  private async discover(): Promise<oidc.Configuration> {
    const o = this.options;
    const oidc = await openidClient();
    const execute = o.allowInsecureHttp ? [oidc.allowInsecureRequests] : [];
    const options: oidc.DiscoveryRequestOptions = { execute, timeout: o.timeoutSeconds };
    if (!o.verifyCert) {
      const { Agent, fetch: undiciFetch } = await import('undici');
      const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
      options[oidc.customFetch] = (url, init) =>
        undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
    }
    try {
      const config = await oidc.discovery(
        new URL(o.issuer),
        o.clientId,
        undefined,
        oidc.ClientSecretBasic(o.clientSecret),
        options,
      );
      if (options[oidc.customFetch]) config[oidc.customFetch] = options[oidc.customFetch];
      return config;
    } catch (err) {
      const message = (err as Error).message;
      this.log.error({ issuer: o.issuer, err: message }, 'OIDC discovery failed');
      const hint =
        /http/i.test(message) && o.issuer.startsWith('http:')
          ? ' (set auth.oidc.allowInsecureHttp for an http:// issuer)'
          : '';
      throw new AppError('UNAVAILABLE', `the OIDC provider's discovery document could not be read${hint}`);
    }
  }
}
