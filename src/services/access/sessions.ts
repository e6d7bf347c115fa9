import { createHash, randomBytes } from 'node:crypto';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import type { Authenticator } from './authenticator.js';
import type { UserSubject } from './subject.js';

export interface Session {
  userId: number;
  csrfToken: string;
  expiresAt: Date;
}

/**
 * UI sessions: a random cookie value whose sha256 is the row id (a copy of the table cannot be replayed
 * as cookies), a CSRF token bound to the session, a fixed lifetime. Kept in the database so any node
 * serves any session.
 */
export class SessionService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'authState'>;
      clock: Clock;
      lifetimeHours: number;
      /** Who a live session's user is now (disabled or deleted users have no subject). */
      users: Pick<Authenticator, 'userById'>;
    },
  ) {}

  async create(userId: number): Promise<{ cookie: string } & Session> {
    const cookie = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + this.deps.lifetimeHours * 3600_000);
    await this.deps.store.authState.purgeSessions(now.toISOString());
    await this.deps.store.authState.createSession({
      id: idOf(cookie),
      user_id: userId,
      csrf_token: csrfToken,
      expires_at: expiresAt.toISOString(),
      creation_time: now.toISOString(),
    });
    return { cookie, userId, csrfToken, expiresAt };
  }

  /** The live session of a cookie value, or undefined. */
  async resolve(cookie: string): Promise<Session | undefined> {
    if (cookie.length > 200) return undefined;
    const row = await this.deps.store.authState.findSession(idOf(cookie));
    if (!row || row.expires_at <= this.deps.clock.now().toISOString()) return undefined;
    return { userId: row.user_id, csrfToken: row.csrf_token, expiresAt: new Date(row.expires_at) };
  }

  /** The subject and CSRF token of a cookie's live session, or undefined. */
  async subjectOf(cookie: string): Promise<{ subject: UserSubject; csrfToken: string } | undefined> {
    const session = await this.resolve(cookie);
    const subject = session && (await this.deps.users.userById(session.userId));
    return subject && { subject, csrfToken: session.csrfToken };
  }

  async destroy(cookie: string): Promise<void> {
    await this.deps.store.authState.deleteSession(idOf(cookie));
  }
}

function idOf(cookie: string): string {
  return createHash('sha256').update(cookie).digest('hex');
}
