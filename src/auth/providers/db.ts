import type { UserRepo } from '../../db/repos/users.js';
import { verifyNothing, verifySecret } from '../passwords.js';
import type { ExternalIdentity, IdentityProvider } from './provider.js';

/** Berth's own user table: users whose auth_source is 'db' (always including the admin). */
export class DbProvider implements IdentityProvider {
  readonly mode = 'db_auth' as const;

  constructor(private readonly users: UserRepo) {}

  async authenticate(username: string, password: string): Promise<ExternalIdentity | null> {
    const row = await this.users.findByName(username);
    if (!row || row.auth_source !== 'db' || !row.password_hash)
      return verifyNothing(password).then(() => null);
    if (!(await verifySecret(row.password_hash, password))) return null;
    return {
      username: row.username,
      groups: [],
      ...(row.email ? { email: row.email } : {}),
      realname: row.realname,
    };
  }
}
