import type { BerthConfig } from '../../config/schema.js';
import type { MetaStore } from '../../db/store.js';
import { BearerTokens } from '../../auth/bearer-token.js';
import { loadKeys } from '../../auth/keys.js';
import { DbProvider } from '../../auth/providers/db.js';
import { LdapProvider } from '../../auth/providers/ldap.js';
import { OidcProvider } from '../../auth/providers/oidc.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { SettingsService } from '../settings/settings.js';
import { AccessControl } from './access-control.js';
import { Authenticator } from './authenticator.js';
import { adminPasswordNotice, bootstrapIdentity } from './bootstrap.js';
import { LdapDirectory } from './ldap-directory.js';
import { MemberService } from './members.js';
import { OidcLogin } from './oidc-login.js';
import { Onboarding } from './onboarding.js';
import { RobotService } from './robots.js';
import { SessionService } from './sessions.js';
import { TokenService } from './token-service.js';
import { UserGroupService } from './user-groups.js';
import { UserService } from './users.js';

/** The token service's name, in challenges and in the tokens it signs. */
export const tokenServiceName = 'berth';

/**
 * Identity, wired: the first admin and the signing keys, the identity provider `auth.mode` picks (the
 * database, LDAP or OIDC), authentication, sessions, bearer tokens, and the user, group, member and robot
 * services.
 */
export async function wireIdentity(d: {
  config: Pick<BerthConfig, 'admin' | 'auth'>;
  store: MetaStore;
  clock: Clock;
  log: Logger;
  settings: Pick<SettingsService, 'values'>;
}) {
  const { config, store, clock, log } = d;
  const boot = await bootstrapIdentity({ store, clock, adminPassword: config.admin.password });
  if (boot.generatedPassword)
    // Straight to stdout, once: never through the logger, so it is in no log file or log shipper.
    process.stdout.write(adminPasswordNotice(boot.generatedPassword));
  const keys = await loadKeys(store.authState, clock.now().toISOString());
  const { auth } = config;
  const tokens = new BearerTokens({
    keys,
    service: tokenServiceName,
    expirySeconds: auth.token.expiryMinutes * 60,
    now: () => clock.now(),
  });
  const access = new AccessControl({ store });
  const ldap =
    auth.mode === 'ldap_auth' && auth.ldap ? new LdapProvider({ options: auth.ldap, log }) : undefined;
  const onboarding = new Onboarding({ store, clock, box: keys.box });
  const authenticator = new Authenticator({
    ...{ store, clock, keys, local: new DbProvider(store.users), onboarding },
    ...(ldap ? { external: ldap } : {}),
    cliSecretLifetimeHours: auth.oidc?.cliSecretLifetimeHours ?? 0,
    mode: auth.mode,
    robotPrefix: auth.robotPrefix,
    throttle: auth.throttle,
  });
  const oidc =
    auth.mode === 'oidc_auth' && auth.oidc
      ? new OidcLogin({
          provider: new OidcProvider({ options: auth.oidc, log }),
          box: keys.box,
          clock,
          onboard: (identity) => onboarding.onboard(identity, 'oidc'),
        })
      : undefined;
  return {
    keys,
    tokens,
    access,
    authenticator,
    oidc,
    sessions: new SessionService({ store, clock, lifetimeHours: auth.session.hours, users: authenticator }),
    tokenService: new TokenService({ store, access, tokens }),
    users: new UserService({ store, clock, keys, robotPrefix: auth.robotPrefix }),
    members: new MemberService({ store, clock }),
    groups: new UserGroupService({ store, clock, authMode: auth.mode }),
    robots: new RobotService({ store, clock, prefix: auth.robotPrefix, settings: d.settings }),
    /** Harbor's Ldap operations, on the directory configured under ldap_auth (if any). */
    ldap: new LdapDirectory({
      log,
      configured:
        ldap && auth.ldap
          ? {
              provider: ldap,
              options: auth.ldap,
              onboard: (identity: Parameters<Onboarding['onboard']>[0]) =>
                onboarding.onboard(identity, 'ldap'),
            }
          : undefined,
    }),
  };
}
