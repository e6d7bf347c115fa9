import { hashSecret, passwordProblem, randomPassword } from '../../auth/passwords.js';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';

export interface BootstrapResult {
  /** Set only on the start that created the admin with a random password: print it once. */
  generatedPassword?: string;
}

/** What the process that created the admin prints to stdout (never to the log), once. */
export function adminPasswordNotice(password: string): string {
  return `\n  Berth created the user "admin" with the password: ${password}\n  It is shown only this once; change it after logging in.\n\n`;
}

/**
 * First start: the `admin` sysadmin (password from config, else random) and the public project `library`.
 * Idempotent and safe when several nodes start at once: only the node whose insert wins reports a password.
 */
export async function bootstrapIdentity(deps: {
  store: Pick<MetaStore, 'projects' | 'users'>;
  clock: Clock;
  adminPassword?: string;
}): Promise<BootstrapResult> {
  const now = deps.clock.now().toISOString();
  const result: BootstrapResult = {};
  let admin = await deps.store.users.findByName('admin');
  if (!admin) {
    if (deps.adminPassword !== undefined) {
      const problem = passwordProblem(deps.adminPassword);
      if (problem) throw new Error(`admin.password (BERTH_ADMIN_PASSWORD): ${problem}`);
    }
    const password = deps.adminPassword ?? randomPassword();
    const id = await deps.store.users.create({
      username: 'admin',
      email: 'admin@example.com',
      realname: 'system admin',
      comment: 'admin user',
      password_hash: await hashSecret(password),
      sysadmin: 1,
      auth_source: 'db',
      creation_time: now,
      update_time: now,
    });
    if (id !== undefined && deps.adminPassword === undefined) result.generatedPassword = password;
    admin = await deps.store.users.findByName('admin');
    await deps.store.projects.ensurePublic('library', now, admin?.id ?? null);
  }
  return result;
}
