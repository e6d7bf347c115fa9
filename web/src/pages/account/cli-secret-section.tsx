import { useState } from 'react';
import { useAction } from '../../api/hooks';
import { sessionKeys } from '../../api/session';
import type { User } from '../../api/types';
import { setCliSecret } from '../../api/users';
import { CopyButton, ErrorNote } from '../../components/ui';

/** A random secret that meets Harbor's rule (8–20 chars, upper, lower, digit). */
function generateSecret(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  const s = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return /[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s) ? s : generateSecret();
}

/** OIDC users log in to docker/helm with a CLI secret: show it, copy it, or replace it with a new one. */
export function CliSecretSection({ user }: { user: User }) {
  const [shown, setShown] = useState(false);
  const secret = user.oidc_user_meta?.secret ?? '';
  const refresh = useAction(() => setCliSecret(user.user_id, generateSecret()), [sessionKeys.currentUser]);
  return (
    <section className="card" aria-label="CLI secret">
      <h3>CLI secret</h3>
      <p className="muted">Use it as the password for docker login, helm and other command-line clients.</p>
      <div className="copy-line">
        <code data-testid="cli-secret">
          {secret ? (shown ? secret : '•'.repeat(16)) : 'No CLI secret yet'}
        </code>
        {secret ? (
          <>
            <button type="button" className="btn btn-small" onClick={() => setShown((s) => !s)}>
              {shown ? 'Hide' : 'Show'}
            </button>
            <CopyButton text={secret} what="CLI secret" />
          </>
        ) : null}
      </div>
      <ErrorNote error={refresh.error} />
      <button
        type="button"
        className="btn"
        disabled={refresh.isPending}
        onClick={() => refresh.mutate(undefined)}
      >
        Generate new secret
      </button>
    </section>
  );
}
