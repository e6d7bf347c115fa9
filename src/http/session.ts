import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';
import type { Authenticator } from '../services/access/authenticator.js';
import type { SessionService } from '../services/access/sessions.js';
import { sendHarborError } from './api/harbor-errors.js';
import { cookieOf, csrfCookie, csrfHeader, sessionCookie } from './auth.js';

export interface SessionDeps {
  authenticator: Authenticator;
  sessions: SessionService;
  /** Mark cookies Secure (when Berth is reached over https). */
  secureCookies: boolean;
}

/**
 * Harbor's UI login: `POST /c/login` with form fields principal and password sets an HttpOnly session
 * cookie (and a readable CSRF cookie the UI echoes in X-Harbor-CSRF-Token); `GET /c/log_out` ends it.
 */
export async function sessionPlugin(app: FastifyInstance, deps: SessionDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, done) => {
    const text = String(body);
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('application/json')) {
      try {
        return done(null, JSON.parse(text || '{}'));
      } catch {
        return done(new AppError('BAD_REQUEST', 'request body is not valid JSON'), undefined);
      }
    }
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });
  app.setErrorHandler((err, req, reply) => sendHarborError(req, reply, err));
  const attrs = `Path=/; SameSite=Lax${deps.secureCookies ? '; Secure' : ''}`;

  app.post('/c/login', async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const principal = typeof form.principal === 'string' ? form.principal : '';
    const password = typeof form.password === 'string' ? form.password : '';
    if (!principal || !password) throw new AppError('BAD_REQUEST', 'principal and password are required');
    const subject = await deps.authenticator.login(principal, password, req.ip);
    if (!subject) throw new AppError('UNAUTHORIZED', 'invalid user name or password');
    const session = await deps.sessions.create(subject.userId);
    const maxAge = Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
    reply.header('set-cookie', [
      `${sessionCookie}=${session.cookie}; HttpOnly; Max-Age=${maxAge}; ${attrs}`,
      `${csrfCookie}=${session.csrfToken}; Max-Age=${maxAge}; ${attrs}`,
    ]);
    reply.header(csrfHeader, session.csrfToken);
    return reply.code(200).send();
  });

  app.get('/c/log_out', async (req, reply) => {
    const cookie = cookieOf(req, sessionCookie);
    if (cookie) await deps.sessions.destroy(cookie);
    reply.header('set-cookie', [
      `${sessionCookie}=; HttpOnly; Max-Age=0; ${attrs}`,
      `${csrfCookie}=; Max-Age=0; ${attrs}`,
    ]);
    return reply.code(200).send();
  });
}
