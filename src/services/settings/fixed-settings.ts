import type { BerthConfig } from '../../config/schema.js';

type Fixed = Record<string, [string | number | boolean, string]>;

/** Records a key when it has a value, with the file key under `section` that sets it. */
const setter =
  (out: Fixed, section: string) =>
  (key: string, value: string | number | boolean | undefined, file: string) => {
    if (value !== undefined) out[key] = [value, `${section}.${file}`];
  };

const scopeNumber = { base: 0, one: 1, sub: 2 } as const;

/**
 * The Harbor configuration keys whose value Berth takes from its configuration file, each with the file
 * key that sets it. Shown read-only by /configurations; secrets (search password, client secret) are not
 * shown at all.
 */
export function fixedSettings(config: BerthConfig): Fixed {
  const { auth } = config;
  const out: Fixed = {
    auth_mode: [auth.mode, 'auth.mode'],
    token_expiration: [auth.token.expiryMinutes, 'auth.token.expiryMinutes'],
    robot_name_prefix: [auth.robotPrefix, 'auth.robotPrefix'],
    self_registration: [false, 'not supported'],
    read_only: [false, 'not supported'],
  };
  const ldap = auth.ldap;
  if (ldap) {
    const set = setter(out, 'auth.ldap');
    set('ldap_url', ldap.url, 'url');
    set('ldap_search_dn', ldap.searchDn, 'searchDn');
    set('ldap_base_dn', ldap.baseDn, 'baseDn');
    set('ldap_filter', ldap.filter, 'filter');
    set('ldap_uid', ldap.uid, 'uid');
    set('ldap_scope', scopeNumber[ldap.scope], 'scope');
    set('ldap_timeout', ldap.timeoutSeconds, 'timeoutSeconds');
    set('ldap_verify_cert', ldap.verifyCert, 'verifyCert');
    set('ldap_group_base_dn', ldap.groupBaseDn, 'groupBaseDn');
    set('ldap_group_search_filter', ldap.groupFilter, 'groupFilter');
    set('ldap_group_attribute_name', ldap.groupAttribute, 'groupAttribute');
    set('ldap_group_search_scope', scopeNumber[ldap.groupScope], 'groupScope');
    set('ldap_group_admin_dn', ldap.groupAdminDn, 'groupAdminDn');
    set('ldap_group_membership_attribute', ldap.groupMembershipAttribute, 'groupMembershipAttribute');
  }
  const oidc = auth.oidc;
  if (oidc) {
    const set = setter(out, 'auth.oidc');
    set('oidc_name', oidc.name, 'name');
    set('oidc_endpoint', oidc.issuer, 'issuer');
    set('oidc_client_id', oidc.clientId, 'clientId');
    set('oidc_scope', oidc.scope, 'scope');
    set('oidc_user_claim', oidc.userClaim, 'userClaim');
    set('oidc_groups_claim', oidc.groupsClaim, 'groupsClaim');
    set('oidc_admin_group', oidc.adminGroup, 'adminGroup');
    set('oidc_group_filter', oidc.groupFilter, 'groupFilter');
    set('oidc_verify_cert', oidc.verifyCert, 'verifyCert');
    set('oidc_auto_onboard', true, 'always on');
  }
  return out;
}
