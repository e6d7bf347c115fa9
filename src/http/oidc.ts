import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OidcLogin } from '../services/access/oidc-login.js';
import type { SessionService } from '../services/access/sessions.js';
import { sendHarborError } from './api/harbor-errors.js';
import { cookieOf, csrfCookie, csrfHeader, sessionCookie } from './auth.js';

/** Cookie holding the sealed pending login between /c/oidc/login and /c/oidc/callback. */
export const oidcStateCookie = 'berth_oidc';

export interface OidcHttpDeps {
  login: OidcLogin<{ id: number }>;
  /** UI sessions, as /c/login starts them. */
  sessions: SessionService;
  /** The URL browsers use to reach Berth; derived from the request when unset. */
  externalUrl?: string;
}

/**
 * Harbor's browser login through the OpenID provider: `GET /c/oidc/login` sends the browser to the IdP;
 * `GET /c/oidc/callback` finishes the code flow, onboards the user and starts a UI session, then goes on
 * to the page the login started from (`?redirect_url=/harbor/projects`, a local path only).
 */
export async function oidcPlugin(app: FastifyInstance, deps: OidcHttpDeps): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendHarborError(req, reply, err));
  const base = (req: FastifyRequest) =>
    (deps.externalUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
  const cookieAttrs = (req: FastifyRequest) =>
    `Path=/c/oidc; HttpOnly; SameSite=Lax${base(req).startsWith('https:') ? '; Secure' : ''}`;

  app.get('/c/oidc/login', async (req, reply) => {
    const query = req.query as { redirect_url?: string };
    const { location, cookie } = await deps.login.start(`${base(req)}/c/oidc/callback`, query.redirect_url);
    // Lax: the cookie comes back on the IdP's top-level GET redirect to the callback.
    reply.header('set-cookie', `${oidcStateCookie}=${cookie}; Max-Age=600; ${cookieAttrs(req)}`);
    reply.header('cache-control', 'no-store');
    return reply.redirect(location, 302);
  });

  app.get('/c/oidc/callback', async (req, reply) => {
    const url = new URL(req.url, base(req));
    const cookie = cookieOf(req, oidcStateCookie);
    // The pending login is single-use whatever the outcome.
    reply.header('set-cookie', `${oidcStateCookie}=; Max-Age=0; ${cookieAttrs(req)}`);
    reply.header('cache-control', 'no-store');
    const { user, returnTo } = await deps.login.finish(url, cookie);
    // The same cookies as POST /c/login sets: HttpOnly session id, and the CSRF token the UI echoes.
    const session = await deps.sessions.create(user.id);
    const maxAge = Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
    const attrs = `Path=/; SameSite=Lax${base(req).startsWith('https:') ? '; Secure' : ''}`;
    reply.header('set-cookie', [
      `${sessionCookie}=${session.cookie}; HttpOnly; Max-Age=${maxAge}; ${attrs}`,
      `${csrfCookie}=${session.csrfToken}; Max-Age=${maxAge}; ${attrs}`,
    ]);
    reply.header(csrfHeader, session.csrfToken);
    return reply.redirect(returnTo, 302);
  });
}
