import { createHash, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Keys } from '../../auth/keys.js';
import { verifyNothing, verifySecret } from '../../auth/passwords.js';
import type { ExternalIdentity, IdentityProvider } from '../../auth/providers/provider.js';
import type { MetaStore } from '../../db/store.js';
import type { UserRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Onboarding } from './onboarding.js';
import type { RobotGrant, RobotSubject, Subject, UserSubject } from './subject.js';

export interface AuthenticatorDeps {
  store: Pick<MetaStore, 'authState' | 'robots' | 'users'>;
  clock: Clock;
  keys: Keys;
  /** Checks local (auth_source 'db') users, the admin among them, in every auth mode. */
  local: IdentityProvider;
  /** The configured external provider (LDAP); undefined in db_auth and oidc_auth modes. */
  external?: IdentityProvider;
  mode: 'db_auth' | 'ldap_auth' | 'oidc_auth';
  /** Creates and refreshes users (and their groups) that the external provider vouched for. */
  onboarding: Onboarding;
  /** Hours an OIDC user's CLI secret stays valid after it was set; 0: until refreshed. */
  cliSecretLifetimeHours?: number;
  robotPrefix: string;
  throttle: { maxFailures: number; maxFailuresPerIp: number; windowSeconds: number };
}

/**
 * `renew`: the check was against a secret stored here (a local user's password, a robot's secret), so the
 * stamp compared on every hit proves what a new check would: each use keeps the entry another
 * `rememberMs`. Without it (LDAP, an OIDC user's CLI secret, which can expire) the entry goes `rememberMs`
 * after the check.
 */
type Cached = { kind: 'user' | 'robot'; id: number; stamp: string; renew: boolean };

/**
 * How long checked credentials are remembered unused. Renewed on use for local secrets: a client sending
 * the same Basic credentials all day (CI, the bench) ran one argon2 check (19 MiB for ~0.1-0.5 s) each
 * time the entry expired, a jump of the process's RSS in the middle of its busiest spells (issue 15).
 */
const rememberMs = 60_000;

/**
 * Turns credentials into a Subject: user passwords (local or through the identity provider), OIDC users'
 * CLI secrets, robot secrets. Repeated failures per user name and per client IP are refused for a while;
 * a wrong password and an unknown user look the same. Successful checks are remembered briefly (keyed by
 * a hash of the credentials, invalidated when the stored secret changes) so a pull does not pay argon2 on
 * every layer.
 */
export class Authenticator {
  private readonly recent = new LRUCache<string, Cached>({
    max: 10_000,
    ttl: rememberMs,
    // The clock is read on each use (lru-cache otherwise keeps a reading for 1 ms): tests move it.
    ttlResolution: 0,
    perf: { now: () => this.deps.clock.now().getTime() },
  });

  constructor(private readonly deps: AuthenticatorDeps) {}

  /** Basic credentials on /v2, /service/token and the API. Null when wrong; throws TOOMANYREQUESTS. */
  async basic(username: string, password: string, ip: string): Promise<Subject | null> {
    const key = createHash('sha256').update(`${username}\0${password}`).digest('hex');
    const hit = this.recent.get(key);
    if (hit) {
      const subject =
        hit.kind === 'user'
          ? await this.userById(hit.id, hit.stamp)
          : await this.robotById(hit.id, hit.stamp);
      if (subject) {
        if (hit.renew) this.recent.set(key, hit);
        return subject;
      }
      this.recent.delete(key);
    }
    await this.checkThrottle(username, ip);
    const found = username.startsWith(this.deps.robotPrefix)
      ? await this.checkRobot(username.slice(this.deps.robotPrefix.length), password)
      : await this.checkUser(username, password, true);
    if (!found) {
      await this.recordFailure(username, ip);
      return null;
    }
    await this.deps.store.authState.clearFailures(`user:${username}`);
    this.recent.set(key, found.cached);
    return found.subject;
  }

  /** UI login (`/c/login`): users only, passwords only (never CLI or robot secrets). */
  async login(username: string, password: string, ip: string): Promise<UserSubject | null> {
    await this.checkThrottle(username, ip);
    const found = await this.checkUser(username, password, false);
    if (!found) {
      await this.recordFailure(username, ip);
      return null;
    }
    await this.deps.store.authState.clearFailures(`user:${username}`);
    return found.subject;
  }

  /** The user as a subject (with its groups), or undefined when gone; `stamp` must match if given. */
  async userById(id: number, stamp?: string): Promise<UserSubject | undefined> {
    const row = await this.deps.store.users.findById(id);
    if (!row || (stamp !== undefined && stampOf(row) !== stamp)) return undefined;
    return this.userSubject(row);
  }

  /** The robot as a subject, or undefined when gone, disabled or expired. */
  async robotById(id: number, stamp?: string): Promise<RobotSubject | undefined> {
    const row = await this.deps.store.robots.findById(id);
    if (!row || row.disabled || (stamp !== undefined && row.secret_hash !== stamp)) return undefined;
    if (row.expires_at !== -1 && row.expires_at * 1000 <= this.deps.clock.now().getTime()) return undefined;
    const perms = await this.deps.store.robots.permissions(row.id);
    const grants = new Map<string, { resource: string; action: string }[]>();
    for (const p of perms) {
      const ns = p.kind === 'system' ? '/' : p.namespace;
      grants.set(ns, [...(grants.get(ns) ?? []), { resource: p.resource, action: p.action }]);
    }
    return {
      kind: 'robot',
      robotId: row.id,
      name: this.deps.robotPrefix + row.name,
      level: row.level,
      grants: [...grants].map(([namespace, access]): RobotGrant => ({ namespace, access })),
    };
  }

  private async userSubject(row: UserRow): Promise<UserSubject> {
    return {
      kind: 'user',
      userId: row.id,
      username: row.username,
      // An admin by hand, or by the provider's admin group at the last login (Harbor's AdminRoleInAuth).
      sysadmin: row.sysadmin === 1 || row.admin_in_auth === 1,
      groupIds: await this.deps.store.users.groupIds(row.id),
    };
  }

  private async checkUser(username: string, password: string, allowCliSecret: boolean) {
    const row = await this.deps.store.users.findByName(username);
    if (row && row.auth_source === 'db') {
      if (!(await this.deps.local.authenticate(username, password))) return undefined;
      return {
        subject: await this.userSubject(row),
        cached: { kind: 'user', id: row.id, stamp: stampOf(row), renew: true } as const,
      };
    }
    if (row && row.auth_source === 'oidc') {
      const secret = row.cli_secret ? this.deps.keys.box.open(row.cli_secret) : undefined;
      if (!allowCliSecret || !secret || !safeEqual(secret, password)) return undefined;
      if (this.cliSecretExpired(row)) return undefined;
      return {
        subject: await this.userSubject(row),
        cached: { kind: 'user', id: row.id, stamp: stampOf(row), renew: false } as const,
      };
    }
    if (this.deps.external && (!row || row.auth_source === 'ldap')) {
      const identity = await this.deps.external.authenticate(username, password);
      if (!identity) return undefined;
      const user = await this.onboard(identity, 'ldap');
      return {
        subject: await this.userSubject(user),
        cached: { kind: 'user', id: user.id, stamp: stampOf(user), renew: false } as const,
      };
    }
    await verifyNothing(password);
    return undefined;
  }

  private async checkRobot(name: string, secret: string) {
    const row = await this.deps.store.robots.findByName(name);
    if (!row) return verifyNothing(secret).then(() => undefined);
    if (!(await verifySecret(row.secret_hash, secret))) return undefined;
    const subject = await this.robotById(row.id);
    if (!subject) return undefined;
    return {
      subject,
      cached: { kind: 'robot', id: row.id, stamp: row.secret_hash, renew: true } as const,
    };
  }

  /** Creates or refreshes the local row of an externally authenticated user and its groups. */
  onboard(identity: ExternalIdentity, source: 'ldap' | 'oidc'): Promise<UserRow> {
    return this.deps.onboarding.onboard(identity, source);
  }

  private cliSecretExpired(row: UserRow): boolean {
    const hours = this.deps.cliSecretLifetimeHours ?? 0;
    if (hours <= 0) return false;
    const setAt = Date.parse(row.cli_secret_time ?? '');
    return !(setAt + hours * 3600_000 > this.deps.clock.now().getTime());
  }

  private since(): string {
    return new Date(this.deps.clock.now().getTime() - this.deps.throttle.windowSeconds * 1000).toISOString();
  }

  private async checkThrottle(username: string, ip: string): Promise<void> {
    const since = this.since();
    const { authState } = this.deps.store;
    const { maxFailures, maxFailuresPerIp, windowSeconds } = this.deps.throttle;
    const byUser = await authState.failures(`user:${username}`, since);
    const byIp = await authState.failures(`ip:${ip}`, since);
    const locks = [
      byUser.failures >= maxFailures ? byUser.windowStart : null,
      byIp.failures >= maxFailuresPerIp ? byIp.windowStart : null,
    ].filter((start): start is string => start !== null);
    if (locks.length === 0) return;
    // The lock lasts until the window that filled up closes: that is when a retry can succeed.
    const now = this.deps.clock.now().getTime();
    const ends = Math.max(...locks.map((start) => Date.parse(start) + windowSeconds * 1000));
    const retryAfter = Math.max(1, Math.ceil((ends - now) / 1000));
    throw new AppError(
      'TOOMANYREQUESTS',
      `too many failed login attempts; try again in ${retryAfter} seconds`,
      { retryAfter },
    );
  }

  private async recordFailure(username: string, ip: string): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    const since = this.since();
    await this.deps.store.authState.recordFailure(`user:${username.slice(0, 250)}`, now, since);
    await this.deps.store.authState.recordFailure(`ip:${ip}`, now, since);
  }
}

/** What must stay the same for a remembered login to stay valid. */
function stampOf(row: UserRow): string {
  return `${row.password_hash ?? ''}|${row.cli_secret ?? ''}|${row.cli_secret_time ?? ''}|${row.auth_source}`;
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
