import { hashSecret, passwordProblem, randomPassword, verifySecret } from '../../auth/passwords.js';
import type { Keys } from '../../auth/keys.js';
import type { MetaStore } from '../../db/store.js';
import type { UserRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery } from '../../lib/query.js';
import type { Subject, UserSubject } from './subject.js';

export interface NewUser {
  username: string;
  email?: string | undefined;
  realname?: string | undefined;
  comment?: string | undefined;
  password: string;
}

/** Harbor's user name rule: no `,~#$%` and not beginning with the robot prefix; `+` is for robot names. */
const badUsername = /[,~#$%+:"/\\\s]/;

/** Local users: create, profile, password, sysadmin flag, CLI secret. Authorisation is the caller's (API). */
export class UserService {
  constructor(
    private readonly deps: { store: Pick<MetaStore, 'users'>; clock: Clock; keys: Keys; robotPrefix: string },
  ) {}

  async create(input: NewUser): Promise<number> {
    const username = input.username.trim();
    if (username === '' || username.length > 255 || badUsername.test(username))
      throw new AppError('BAD_REQUEST', 'username must be 1 to 255 characters without spaces or ,~#$%+:"/\\');
    if (username.startsWith(this.deps.robotPrefix))
      throw new AppError(
        'BAD_REQUEST',
        `username must not start with the robot prefix "${this.deps.robotPrefix}"`,
      );
    const problem = passwordProblem(input.password);
    if (problem) throw new AppError('BAD_REQUEST', problem);
    const email = await this.checkEmail(input.email);
    const now = this.deps.clock.now().toISOString();
    const id = await this.deps.store.users.create({
      username,
      email,
      realname: (input.realname ?? '').slice(0, 255),
      comment: (input.comment ?? '').slice(0, 255),
      password_hash: await hashSecret(input.password),
      sysadmin: 0,
      auth_source: 'db',
      creation_time: now,
      update_time: now,
    });
    if (id === undefined) throw new AppError('CONFLICT', `username ${username} is already taken`);
    return id;
  }

  list(query: ListQuery) {
    return this.deps.store.users.list(query);
  }

  async get(id: number): Promise<UserRow> {
    const row = await this.deps.store.users.findById(id);
    if (!row) throw new AppError('NOT_FOUND', `user ${id} not found`);
    return row;
  }

  async updateProfile(
    id: number,
    profile: { email?: string | undefined; realname?: string | undefined; comment?: string | undefined },
  ) {
    const row = await this.get(id);
    const email = profile.email === undefined ? row.email : await this.checkEmail(profile.email, id);
    await this.deps.store.users.update(id, {
      email,
      realname: (profile.realname ?? row.realname).slice(0, 255),
      comment: (profile.comment ?? row.comment).slice(0, 255),
      update_time: this.deps.clock.now().toISOString(),
    });
  }

  /** Own password needs the old one; a sysadmin may set anyone else's without it. */
  async changePassword(actor: Subject, id: number, oldPassword: string | undefined, newPassword: string) {
    const row = await this.get(id);
    if (row.auth_source !== 'db' || !row.password_hash)
      throw new AppError(
        'FORBIDDEN',
        'the password of a user from LDAP or OIDC is managed by the identity provider',
      );
    const self = actor.kind === 'user' && actor.userId === id;
    if (self || !(actor.kind === 'user' && actor.sysadmin)) {
      if (!oldPassword || !(await verifySecret(row.password_hash, oldPassword)))
        throw new AppError('FORBIDDEN', 'the old password is wrong');
    }
    const problem = passwordProblem(newPassword);
    if (problem) throw new AppError('BAD_REQUEST', problem);
    if (await verifySecret(row.password_hash, newPassword))
      throw new AppError('BAD_REQUEST', 'the new password must differ from the old one');
    await this.deps.store.users.update(id, {
      password_hash: await hashSecret(newPassword),
      update_time: this.deps.clock.now().toISOString(),
    });
  }

  async setSysadmin(actor: UserSubject, id: number, flag: boolean) {
    await this.get(id);
    if (actor.userId === id && !flag)
      throw new AppError('FORBIDDEN', 'you cannot remove your own sysadmin role');
    await this.deps.store.users.update(id, {
      sysadmin: flag ? 1 : 0,
      update_time: this.deps.clock.now().toISOString(),
    });
  }

  async delete(actor: UserSubject, id: number) {
    const row = await this.get(id);
    if (actor.userId === id) throw new AppError('FORBIDDEN', 'you cannot delete yourself');
    if (row.username === 'admin') throw new AppError('FORBIDDEN', 'the admin user cannot be deleted');
    await this.deps.store.users.delete(id);
  }

  /**
   * Sets (or, without `secret`, generates) the CLI secret an OIDC user gives `docker login`. Stored
   * encrypted: the owner can read it back on the profile page, as in Harbor.
   */
  async setCliSecret(id: number, secret?: string): Promise<string> {
    const row = await this.get(id);
    if (row.auth_source !== 'oidc') throw new AppError('PRECONDITION', 'only OIDC users have a CLI secret');
    const value = secret ?? randomPassword(32);
    const problem = passwordProblem(value);
    if (problem) throw new AppError('BAD_REQUEST', `secret: ${problem}`);
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.users.update(id, {
      cli_secret: this.deps.keys.box.seal(value),
      cli_secret_time: now,
      update_time: now,
    });
    return value;
  }

  cliSecretOf(row: UserRow): string | undefined {
    return row.cli_secret ? this.deps.keys.box.open(row.cli_secret) : undefined;
  }

  private async checkEmail(email: string | undefined, selfId?: number): Promise<string | null> {
    if (email === undefined || email === '') return null;
    if (email.length > 255 || !/^[^@\s]+@[^@\s]+$/.test(email))
      throw new AppError('BAD_REQUEST', `invalid email "${email.slice(0, 100)}"`);
    const other = await this.deps.store.users.findByEmail(email);
    if (other && other.id !== selfId) throw new AppError('CONFLICT', `email ${email} is already in use`);
    return email;
  }
}
