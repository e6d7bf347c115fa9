import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BearerTokens, VerifiedToken } from '../auth/bearer-token.js';
import type { Authenticator } from '../services/access/authenticator.js';
import { AppError } from '../lib/errors.js';
import { anonymous, type Subject } from '../services/access/subject.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; resolved once per request by `authPlugin`. */
    subject: Subject;
    /** On /v2 with a Bearer token: the verified token, whose `access` claim is the permission set. */
    token: VerifiedToken | undefined;
    /** Credentials were sent but were wrong (the request goes on as anonymous; surfaces answer 401). */
    credentialsRejected: boolean;
    /** How the subject was established, for CSRF checks: a session cookie needs the CSRF header. */
    authMethod: 'none' | 'basic' | 'bearer' | 'session';
    /** /v2 blob mount: whether the caller may pull from the `from` repository (else a plain upload). */
    mountFromAllowed: boolean;
  }
}

export interface AuthHttpDeps {
  authenticator: Authenticator;
  tokens: BearerTokens;
  /** Resolves a session cookie value to its subject and CSRF token; undefined when unknown or expired. */
  session?: (cookie: string) => Promise<{ subject: Subject; csrfToken: string } | undefined>;
}

export const sessionCookie = 'sid';
export const csrfCookie = '__csrf';
export const csrfHeader = 'x-harbor-csrf-token';
const unsafe = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** One cookie's value from the Cookie header. */
export function cookieOf(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * Resolves `request.subject` once per request, before any surface runs: Basic (user password, OIDC CLI
 * secret, robot secret), Bearer JWT from /service/token (/v2 only), then the UI session cookie, else
 * anonymous. Registered on the root instance, so every surface sees the same answer.
 */
export function installAuth(app: FastifyInstance, deps: AuthHttpDeps): void {
  app.decorateRequest('subject', null as never);
  app.decorateRequest('token', undefined);
  app.decorateRequest('credentialsRejected', false);
  app.decorateRequest('authMethod', 'none');
  app.decorateRequest('mountFromAllowed', true);
  app.addHook('onRequest', async (req, reply) => {
    req.subject = anonymous;
    req.token = undefined;
    req.credentialsRejected = false;
    req.authMethod = 'none';
    const header = req.headers.authorization;
    if (header) {
      const space = header.indexOf(' ');
      const scheme = header.slice(0, space < 0 ? undefined : space).toLowerCase();
      const value = space < 0 ? '' : header.slice(space + 1).trim();
      if (scheme === 'basic') {
        const creds = parseBasic(value);
        const subject = creds && (await deps.authenticator.basic(creds.username, creds.password, req.ip));
        if (subject) {
          req.subject = subject;
          req.authMethod = 'basic';
        } else req.credentialsRejected = true;
        return;
      }
      if (scheme === 'bearer' && req.url.startsWith('/v2')) {
        const token = await deps.tokens.verify(value);
        if (token) {
          req.token = token;
          req.subject = subjectOfToken(token);
          req.authMethod = 'bearer';
        } else req.credentialsRejected = true;
        return;
      }
    }
    const cookie = deps.session && cookieOf(req, sessionCookie);
    if (!cookie || req.url.startsWith('/v2')) return;
    const session = await deps.session!(cookie);
    if (!session) return;
    // Cookies ride along on cross-site requests: a state change made with one must repeat the CSRF token
    // (X-Harbor-CSRF-Token, as Harbor's UI sends it), which another site cannot read.
    if (
      unsafe.has(req.method) &&
      req.headers[csrfHeader] !== session.csrfToken &&
      !req.url.startsWith('/c/login')
    )
      throw new AppError('FORBIDDEN', 'CSRF token missing or invalid: send the X-Harbor-CSRF-Token header');
    req.subject = session.subject;
    req.authMethod = 'session';
    reply.header(csrfHeader, session.csrfToken);
  });
}

function parseBasic(value: string): { username: string; password: string } | undefined {
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The subject a token names. Its permissions are the token's `access` claim, not this object's fields:
 * /v2 answers from the claim (as Harbor's v2token context does) and re-reads the subject only to word
 * a refusal.
 */
function subjectOfToken(token: VerifiedToken): Subject {
  const p = token.principal;
  if (p.kind === 'user')
    return { kind: 'user', userId: p.id, username: p.name, sysadmin: false, groupIds: [] };
  if (p.kind === 'robot') return { kind: 'robot', robotId: p.id, name: p.name, level: 'project', grants: [] };
  return anonymous;
}
