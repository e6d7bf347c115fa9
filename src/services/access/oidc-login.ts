import type { OidcProvider, PendingOidcLogin } from '../../auth/providers/oidc.js';
import type { ExternalIdentity } from '../../auth/providers/provider.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';

/** Encrypts and authenticates small values (Keys.box): the pending login travels in a cookie. */
export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string | undefined;
}

export interface OidcLoginDeps<U> {
  provider: Pick<OidcProvider, 'beginLogin' | 'finishLogin'>;
  box: Sealer;
  clock: Clock;
  /** Creates or refreshes the local user and its OIDC group memberships (Authenticator.onboard). */
  onboard: (identity: ExternalIdentity) => Promise<U>;
  /** How long a user may take at the IdP before the callback is refused. */
  maxAgeSeconds?: number;
}

interface SealedPending extends PendingOidcLogin {
  /** Where the UI goes after login: a local path only. */
  returnTo: string;
  /** Epoch milliseconds after which the callback is refused. */
  exp: number;
}

/**
 * The two halves of an OIDC browser login. `start` sends the browser to the IdP and hands back the
 * pending state (state, nonce, PKCE verifier) sealed for an HttpOnly cookie, so any Berth node can
 * finish it; `finish` checks that cookie against the callback, lets the provider exchange the code and
 * verify the ID token, and onboards the user (created on first login, groups refreshed every login).
 */
export class OidcLogin<U> {
  constructor(private readonly deps: OidcLoginDeps<U>) {}

  async start(redirectUri: string, returnTo?: string): Promise<{ location: string; cookie: string }> {
    const { url, pending } = await this.deps.provider.beginLogin(redirectUri);
    const sealed: SealedPending = {
      ...pending,
      returnTo: safeReturnTo(returnTo),
      exp: this.deps.clock.now().getTime() + (this.deps.maxAgeSeconds ?? 600) * 1000,
    };
    return { location: url, cookie: this.deps.box.seal(JSON.stringify(sealed)) };
  }

  async finish(callbackUrl: URL, cookie: string | undefined): Promise<{ user: U; returnTo: string }> {
    const text = cookie ? this.deps.box.open(cookie) : undefined;
    if (!text)
      throw new AppError('UNAUTHORIZED', 'no OIDC login is in progress in this browser; start again');
    const pending = JSON.parse(text) as SealedPending;
    if (pending.exp < this.deps.clock.now().getTime()) {
      throw new AppError('UNAUTHORIZED', 'the OIDC login took too long; start again');
    }
    const identity = await this.deps.provider.finishLogin(callbackUrl, pending);
    return { user: await this.deps.onboard(identity), returnTo: pending.returnTo };
  }
}

/** A local path to return to after login; anything else (another origin, `//host`) becomes `/`. */
export function safeReturnTo(value: string | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value;
}
