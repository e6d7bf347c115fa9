import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { loadKeys } from '../../auth/keys.js';
import { DbProvider } from '../../auth/providers/db.js';
import type { IdentityProvider } from '../../auth/providers/provider.js';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { Authenticator } from './authenticator.js';
import { bootstrapIdentity } from './bootstrap.js';
import { Onboarding } from './onboarding.js';

const password = 'Admin-Secret-123';
let now = new Date('2026-01-01T00:00:00Z').getTime();
const clock: Clock = { now: () => new Date(now) };
const later = (seconds: number) => (now += seconds * 1000);
const throttle = { maxFailures: 100, maxFailuresPerIp: 100, windowSeconds: 60 };

/** Counts the checks that reach a provider (for local users: the argon2 check). */
function counted(provider: IdentityProvider): IdentityProvider & { calls: number } {
  const wrapped = {
    mode: provider.mode,
    calls: 0,
    authenticate: (username: string, secret: string) => {
      wrapped.calls++;
      return provider.authenticate(username, secret);
    },
  };
  return wrapped;
}

for (const dialect of testDialects()) {
  describe(`Authenticator on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let authenticator: (external?: IdentityProvider) => Promise<Authenticator>;

    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      await bootstrapIdentity({ store, clock, adminPassword: password });
      const keys = await loadKeys(store.authState, clock.now().toISOString());
      authenticator = async (external) =>
        new Authenticator({
          store,
          clock,
          keys,
          local: local,
          onboarding: new Onboarding({ store, clock, box: keys.box }),
          mode: external ? 'ldap_auth' : 'db_auth',
          robotPrefix: 'robot$',
          throttle,
          ...(external ? { external } : {}),
        });
      local = counted(new DbProvider(store.users));
    });
    after(() => database.close());
    let local: IdentityProvider & { calls: number };

    test('a local user sending the same credentials at least once a minute is checked once', async () => {
      const auth = await authenticator();
      const calls = local.calls;
      assert.equal((await auth.basic('admin', password, '127.0.0.1'))?.kind, 'user');
      for (let i = 0; i < 5; i++) {
        later(50);
        assert.equal((await auth.basic('admin', password, '127.0.0.1'))?.kind, 'user');
      }
      assert.equal(local.calls - calls, 1, 'one check over 250 s of use');
      later(61);
      assert.equal((await auth.basic('admin', password, '127.0.0.1'))?.kind, 'user');
      assert.equal(local.calls - calls, 2, 'checked again after a minute unused');
      assert.equal(await auth.basic('admin', 'Wrong-Secret-123', '127.0.0.1'), null);
    });

    test('LDAP credentials are checked again a minute after their check, used or not', async () => {
      const ldap = counted({
        mode: 'ldap_auth',
        authenticate: async (username, secret) =>
          secret === 'Ldap-Secret-123' ? { username, groups: [] } : null,
      });
      const auth = await authenticator(ldap);
      assert.equal((await auth.basic('ldapuser', 'Ldap-Secret-123', '127.0.0.1'))?.kind, 'user');
      later(40);
      await auth.basic('ldapuser', 'Ldap-Secret-123', '127.0.0.1');
      assert.equal(ldap.calls, 1);
      later(40);
      assert.equal((await auth.basic('ldapuser', 'Ldap-Secret-123', '127.0.0.1'))?.kind, 'user');
      assert.equal(ldap.calls, 2, 'the directory is asked again 80 s after its answer');
    });
  });
}
