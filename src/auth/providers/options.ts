import { z } from 'zod';

/**
 * Option schemas of the identity providers, kept apart from the providers so the config schema does not
 * load ldapts or openid-client.
 */
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const scope = z.enum(['base', 'one', 'sub']);

/**
 * `auth.ldap`: Harbor's ldap_* settings. Harbor keeps them in its configurations table; Berth reads them
 * from the file/env config, since the directory is infrastructure the server cannot work without.
 */
export const ldapOptions = z
  .object({
    /** ldap://host:389 or ldaps://host:636 (Harbor: ldap_url). */
    url: z.string().regex(/^ldaps?:\/\/[^/]+\/?$/, 'must be ldap://host[:port] or ldaps://host[:port]'),
    /** Account that searches for users; anonymous search when unset (ldap_search_dn). */
    searchDn: z.string().optional(),
    /** Its password (ldap_search_password). A secret: never logged. */
    searchPassword: z.string().optional(),
    /** Where users are searched (ldap_base_dn). */
    baseDn: z.string().min(1),
    /** Extra filter for user entries, e.g. (objectClass=person) (ldap_filter). */
    filter: z.string().optional(),
    /** Attribute that holds the login name (ldap_uid). */
    uid: z.string().min(1).default('uid'),
    /** User search scope (ldap_scope: 0 base, 1 one level, 2 subtree). */
    scope: scope.default('sub'),
    /** Seconds before a connection or an operation is abandoned (ldap_timeout). */
    timeoutSeconds: z.coerce.number().positive().default(5),
    /** Verify the server's TLS certificate on ldaps:// (ldap_verify_cert). */
    verifyCert: bool.default(true),
    /** Where groups are searched (ldap_group_base_dn); unset: only the membership attribute counts. */
    groupBaseDn: z.string().optional(),
    /** Filter for group entries (ldap_group_search_filter). */
    groupFilter: z.string().optional(),
    /** Attribute holding a group's name (ldap_group_attribute_name). */
    groupAttribute: z.string().min(1).default('cn'),
    /** Group search scope (ldap_group_search_scope). */
    groupScope: scope.default('sub'),
    /** Members of this group DN are system administrators (ldap_group_admin_dn). */
    groupAdminDn: z.string().optional(),
    /** Attribute of a user entry listing the DNs of its groups (ldap_group_membership_attribute). */
    groupMembershipAttribute: z.string().min(1).default('memberof'),
  })
  .strict();

export type LdapOptions = z.infer<typeof ldapOptions>;

/**
 * `auth.oidc`: Harbor's oidc_* settings. Harbor keeps them in its configurations table; Berth reads them
 * from the file/env config, like the rest of its infrastructure.
 */
export const oidcOptions = z
  .object({
    /** Shown on the login button (oidc_name). */
    name: z.string().min(1).default('OIDC'),
    /** Issuer URL; its /.well-known/openid-configuration is read at first use (oidc_endpoint). */
    issuer: z.url(),
    clientId: z.string().min(1),
    /** A secret: never logged. */
    clientSecret: z.string().min(1),
    /** Comma-separated scopes requested (oidc_scope); openid is always added. */
    scope: z.string().default('openid,profile,email,groups'),
    /** Claim whose value becomes the Berth username (oidc_user_claim). */
    userClaim: z.string().min(1).default('preferred_username'),
    /** Claim listing the user's groups (oidc_groups_claim). */
    groupsClaim: z.string().min(1).default('groups'),
    /** Members of this IdP group are system administrators (oidc_admin_group). */
    adminGroup: z.string().optional(),
    /** Only groups matching this regular expression are kept (oidc_group_filter). */
    groupFilter: z.string().optional(),
    /** Verify the IdP's TLS certificate (oidc_verify_cert). */
    verifyCert: bool.default(true),
    /** Allow an http:// issuer (tests, loopback IdPs). Off by default: tokens travel in the clear. */
    allowInsecureHttp: bool.default(false),
    /** Seconds before a request to the IdP is abandoned. */
    timeoutSeconds: z.coerce.number().positive().default(10),
    /**
     * Hours a CLI secret stays valid after it was issued or refreshed; 0 (default): until refreshed.
     * Unlike Harbor, it does not end with the IdP's ID token.
     */
    cliSecretLifetimeHours: z.coerce.number().min(0).default(0),
  })
  .strict();

export type OidcOptions = z.infer<typeof oidcOptions>;
