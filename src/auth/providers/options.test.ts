import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../config/load.js';

const load = (env: NodeJS.ProcessEnv) =>
  loadConfig({ env: { BERTH_DATA_DIR: '/tmp/berth-x', ...env }, file: undefined });

describe('auth.ldap and auth.oidc configuration', () => {
  it('reads the LDAP settings from BERTH_AUTH_LDAP_* with Harbor-like defaults', () => {
    const config = load({
      BERTH_AUTH_MODE: 'ldap_auth',
      BERTH_AUTH_LDAP_URL: 'ldaps://ldap.example.com:636',
      BERTH_AUTH_LDAP_BASE_DN: 'ou=people,dc=example,dc=com',
      BERTH_AUTH_LDAP_SEARCH_PASSWORD: 's3cret',
      BERTH_AUTH_LDAP_VERIFY_CERT: 'false',
      BERTH_AUTH_LDAP_GROUP_ADMIN_DN: 'cn=admins,dc=example,dc=com',
    });
    assert.deepEqual(config.auth.ldap, {
      url: 'ldaps://ldap.example.com:636',
      baseDn: 'ou=people,dc=example,dc=com',
      searchPassword: 's3cret',
      verifyCert: false,
      groupAdminDn: 'cn=admins,dc=example,dc=com',
      uid: 'uid',
      scope: 'sub',
      timeoutSeconds: 5,
      groupAttribute: 'cn',
      groupScope: 'sub',
      groupMembershipAttribute: 'memberof',
    });
  });

  it('reads the OIDC settings from BERTH_AUTH_OIDC_*', () => {
    const config = load({
      BERTH_AUTH_MODE: 'oidc_auth',
      BERTH_AUTH_OIDC_ISSUER: 'https://idp.example.com',
      BERTH_AUTH_OIDC_CLIENT_ID: 'berth',
      BERTH_AUTH_OIDC_CLIENT_SECRET: 'shh',
      BERTH_AUTH_OIDC_CLI_SECRET_LIFETIME_HOURS: '720',
    });
    assert.equal(config.auth.oidc?.clientSecret, 'shh');
    assert.equal(config.auth.oidc?.cliSecretLifetimeHours, 720);
    assert.equal(config.auth.oidc?.userClaim, 'preferred_username');
    assert.equal(config.auth.oidc?.groupsClaim, 'groups');
    assert.equal(config.auth.oidc?.allowInsecureHttp, false);
  });

  it('refuses a mode without its settings, naming the key', () => {
    assert.throws(
      () => load({ BERTH_AUTH_MODE: 'ldap_auth' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /auth\.ldap: required when auth\.mode is ldap_auth/);
        return true;
      },
    );
    assert.throws(
      () => load({ BERTH_AUTH_MODE: 'oidc_auth' }),
      /auth\.oidc: required when auth\.mode is oidc_auth/,
    );
  });

  it('refuses bad values with the key and no secret in the message', () => {
    assert.throws(
      () =>
        load({
          BERTH_AUTH_MODE: 'ldap_auth',
          BERTH_AUTH_LDAP_URL: 'http://ldap.example.com',
          BERTH_AUTH_LDAP_BASE_DN: 'dc=x',
          BERTH_AUTH_LDAP_SEARCH_PASSWORD: 'hunter2-secret',
        }),
      (err: unknown) => {
        assert.match(String(err), /auth\.ldap\.url/);
        assert.doesNotMatch(String(err), /hunter2-secret/);
        return true;
      },
    );
    assert.throws(
      () =>
        load({
          BERTH_AUTH_LDAP_URL: 'ldap://x',
          BERTH_AUTH_LDAP_SCOPE: 'deep',
          BERTH_AUTH_LDAP_BASE_DN: 'dc=x',
        }),
      /auth\.ldap\.scope/,
    );
  });
});
