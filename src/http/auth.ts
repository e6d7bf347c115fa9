import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BearerTokens, VerifiedToken } from '../auth/bearer-token.js';
import type { Authenticator } from '../services/access/authenticator.js';
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
  /** Resolves a session cookie to a subject (UI sessions); undefined when absent or expired. */
  session?: (req: FastifyRequest) => Promise<Subject | undefined>;
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
  app.addHook('onRequest', async (req) => {
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
    if (deps.session) {
      const subject = await deps.session(req);
      if (subject) {
        req.subject = subject;
        req.authMethod = 'session';
      }
    }
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
