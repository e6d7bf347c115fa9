/**
 * An identity provider: something that can tell who a username/password belongs to. `db` (Berth's own user
 * table), `ldap` and `oidc` implement it; `app.ts` picks one by `auth.mode`. Providers only answer "who is
 * this"; onboarding the user row, group rows and memberships is the caller's job (services/access), so
 * every provider's result is handled the same way.
 */
export interface ExternalIdentity {
  /** The login name Berth stores (Harbor keeps LDAP's uid / OIDC's username claim here). */
  username: string;
  email?: string;
  realname?: string;
  /**
   * Groups the identity belongs to at the provider: LDAP group DNs, or OIDC group names from the groups
   * claim. Matched against `user_group.ldap_group_dn` (LDAP) or `user_group.name` (OIDC).
   */
  groups: readonly string[];
  /** Stable subject at the provider (LDAP DN, OIDC `iss` + `sub`), kept to recognise renamed users. */
  subject?: string;
  /** The provider says this user administers Berth (LDAP group admin DN, OIDC admin group). */
  sysadmin?: boolean;
}

export interface IdentityProvider {
  /** Name as in Harbor's `auth_mode`: 'db_auth' | 'ldap_auth' | 'oidc_auth'. */
  readonly mode: 'db_auth' | 'ldap_auth' | 'oidc_auth';
  /**
   * Checks a username/password. Resolves with the identity, or null when the credentials are wrong or the
   * user is unknown (callers must not tell those apart). Rejects only when the provider is unreachable or
   * misconfigured.
   */
  authenticate(username: string, password: string): Promise<ExternalIdentity | null>;
  /** Looks a user up without a password (LDAP search for the members API / user import); null if absent. */
  lookupUser?(username: string): Promise<ExternalIdentity | null>;
  /** Looks a group up by DN (LDAP) or name (OIDC) for the user-groups API; null if absent. */
  lookupGroup?(idOrName: string): Promise<{ name: string; dn?: string } | null>;
}

/** Harbor's `group_type` values in the usergroups API. */
export const groupTypes = { ldap: 1, http: 2, oidc: 3 } as const;
