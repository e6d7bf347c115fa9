import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { configurationKeys, configurationsQuery, updateConfigurations } from '../../api/configurations';
import { useAction } from '../../api/hooks';
import { sessionKeys } from '../../api/session';
import { ErrorNote, Field, Spinner } from '../../components/ui';

type Kind = 'text' | 'password' | 'bool' | 'number' | string[];
const SECTIONS: { title: string; show?: (mode: string) => boolean; keys: [string, string, Kind][] }[] = [
  {
    title: 'Authentication',
    keys: [
      ['auth_mode', 'Auth Mode', ['db_auth', 'ldap_auth', 'oidc_auth', 'http_auth']],
      ['self_registration', 'Allow Self-Registration', 'bool'],
    ],
  },
  {
    title: 'LDAP',
    show: (m) => m === 'ldap_auth',
    keys: [
      ['ldap_url', 'LDAP URL', 'text'],
      ['ldap_search_dn', 'LDAP Search DN', 'text'],
      ['ldap_search_password', 'LDAP Search Password', 'password'],
      ['ldap_base_dn', 'LDAP Base DN', 'text'],
      ['ldap_filter', 'LDAP Filter', 'text'],
      ['ldap_uid', 'LDAP UID', 'text'],
      ['ldap_scope', 'LDAP Scope (0 base, 1 one level, 2 subtree)', 'number'],
      ['ldap_group_base_dn', 'LDAP Group Base DN', 'text'],
      ['ldap_group_admin_dn', 'LDAP Group Admin DN', 'text'],
      ['ldap_verify_cert', 'LDAP Verify Certificate', 'bool'],
    ],
  },
  {
    title: 'OIDC',
    show: (m) => m === 'oidc_auth',
    keys: [
      ['oidc_name', 'OIDC Provider Name', 'text'],
      ['oidc_endpoint', 'OIDC Endpoint', 'text'],
      ['oidc_client_id', 'OIDC Client ID', 'text'],
      ['oidc_client_secret', 'OIDC Client Secret', 'password'],
      ['oidc_scope', 'OIDC Scope', 'text'],
      ['oidc_groups_claim', 'Group Claim Name', 'text'],
      ['oidc_admin_group', 'OIDC Admin Group', 'text'],
      ['oidc_user_claim', 'Username Claim', 'text'],
      ['oidc_auto_onboard', 'Automatic onboarding', 'bool'],
      ['oidc_verify_cert', 'Verify Certificate', 'bool'],
    ],
  },
  {
    title: 'System Settings',
    keys: [
      ['project_creation_restriction', 'Project Creation', ['everyone', 'adminonly']],
      ['robot_token_duration', 'Robot Token Expiration (days)', 'number'],
      ['storage_per_project', 'Default Project Quota (bytes, -1 for unlimited)', 'number'],
      ['robot_name_prefix', 'Robot Name Prefix', 'text'],
    ],
  },
];

/** Administration → Configuration: auth mode and its settings, project creation, robot expiry. */
export function ConfigPage() {
  const config = useQuery(configurationsQuery());
  const [changes, setChanges] = useState<Record<string, unknown>>({});
  const [saved, setSaved] = useState(false);
  const save = useAction(
    () => updateConfigurations(changes),
    [configurationKeys.all, sessionKeys.systemInfo],
  );
  if (config.isLoading) return <Spinner />;
  if (config.error || !config.data) return <ErrorNote error={config.error} />;
  const data = config.data;
  const value = (k: string) => (k in changes ? changes[k] : data[k]?.value);
  const mode = String(value('auth_mode') ?? 'db_auth');
  const set = (k: string, v: unknown) => {
    setSaved(false);
    setChanges((c) => ({ ...c, [k]: v }));
  };
  async function submit(e: FormEvent) {
    e.preventDefault();
    await save.mutateAsync(undefined).then(
      () => {
        setChanges({});
        setSaved(true);
      },
      () => undefined,
    );
  }
  return (
    <>
      <h1>Configuration</h1>
      <form onSubmit={(e) => void submit(e)} style={{ maxWidth: 680 }}>
        {SECTIONS.filter((s) => !s.show || s.show(mode)).map((s) => (
          <fieldset key={s.title} className="card field-group">
            <legend>{s.title}</legend>
            {s.keys.map(([k, label, kind]) => {
              const editable = data[k]?.editable !== false;
              const v = value(k);
              if (kind === 'bool')
                return (
                  <label key={k} className="check">
                    <input
                      type="checkbox"
                      disabled={!editable}
                      checked={v === true || v === 'true'}
                      onChange={(e) => set(k, e.target.checked)}
                    />
                    {label}
                  </label>
                );
              return (
                <Field
                  key={k}
                  label={label}
                  hint={editable ? undefined : 'Set outside the UI; not editable here'}
                >
                  {(id) =>
                    Array.isArray(kind) ? (
                      <select
                        id={id}
                        name={k}
                        disabled={!editable}
                        value={String(v ?? '')}
                        onChange={(e) => set(k, e.target.value)}
                      >
                        {kind.map((o) => (
                          <option key={o} value={o}>
                            {o}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <input
                        id={id}
                        name={k}
                        disabled={!editable}
                        type={kind === 'password' ? 'password' : kind === 'number' ? 'number' : 'text'}
                        autoComplete="off"
                        value={kind === 'password' && !(k in changes) ? '' : String(v ?? '')}
                        placeholder={kind === 'password' ? 'unchanged' : undefined}
                        onChange={(e) => set(k, kind === 'number' ? Number(e.target.value) : e.target.value)}
                      />
                    )
                  }
                </Field>
              );
            })}
          </fieldset>
        ))}
        <ErrorNote error={save.error} />
        {saved ? (
          <div className="note note-ok" role="status">
            Configuration saved.
          </div>
        ) : null}
        <button
          type="submit"
          className="btn btn-primary"
          disabled={save.isPending || Object.keys(changes).length === 0}
        >
          Save
        </button>
      </form>
    </>
  );
}
