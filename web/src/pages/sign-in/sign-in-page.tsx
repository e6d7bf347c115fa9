import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { sessionKeys, signIn, useCurrentUser, useSystemInfo } from '../../api/session';
import { ErrorNote, Field } from '../../components/ui';

/** Harbor's sign-in: a database/LDAP form, plus "Login via OIDC provider" when auth_mode is oidc_auth. */
export function SignInPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const user = useCurrentUser();
  const info = useSystemInfo();
  const [principal, setPrincipal] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const target = safeRedirect(params.get('redirect_url'));

  if (user.data) return <Navigate to={target} replace />;
  const oidc = info.data?.auth_mode === 'oidc_auth';

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(principal.trim(), password);
      // Berth tells signed-in callers more about itself (registry_url), so ask again.
      await client.invalidateQueries({ queryKey: sessionKeys.systemInfo });
      await client.invalidateQueries({ queryKey: sessionKeys.currentUser });
      navigate(target, { replace: true });
    } catch (err) {
      setError(err);
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <span>Berth</span>
        </div>
        <h1 id="sign-in-title">Sign in</h1>
        {oidc ? (
          <a
            className="btn btn-primary btn-block"
            href={`/c/oidc/login?redirect_url=${encodeURIComponent(target)}`}
          >
            Login via OIDC provider{info.data?.oidc_provider_name ? ` (${info.data.oidc_provider_name})` : ''}
          </a>
        ) : null}
        {oidc ? <p className="muted center">or, as a local administrator:</p> : null}
        <Field label="Username or email">
          {(id) => (
            <input
              id={id}
              name="principal"
              autoComplete="username"
              required
              autoFocus
              value={principal}
              onChange={(e) => setPrincipal(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password">
          {(id) => (
            <input
              id={id}
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <ErrorNote error={error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Log in'}
        </button>
        {info.data?.harbor_version ? <p className="muted center">Berth {info.data.harbor_version}</p> : null}
      </form>
    </main>
  );
}

/** Only same-site paths: a crafted link must not send a fresh session elsewhere. */
function safeRedirect(value: string | null): string {
  if (!value || !value.startsWith('/') || value.startsWith('//')) return '/harbor/projects';
  return value;
}
