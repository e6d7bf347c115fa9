import { createHash, randomBytes } from 'node:crypto';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';

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
    private readonly deps: { store: Pick<MetaStore, 'authState'>; clock: Clock; lifetimeHours: number },
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

  async destroy(cookie: string): Promise<void> {
    await this.deps.store.authState.deleteSession(idOf(cookie));
  }
}

function idOf(cookie: string): string {
  return createHash('sha256').update(cookie).digest('hex');
}
