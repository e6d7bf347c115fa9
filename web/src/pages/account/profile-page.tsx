import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import { sessionKeys, useCurrentUser, useSystemInfo } from '../../api/session';
import type { User } from '../../api/types';
import { updatePassword, updateProfile } from '../../api/users';
import { CopyLine, ErrorNote, Field, Spinner } from '../../components/ui';
import { CliSecretSection } from './cli-secret-section';

/** The signed-in user's email, full name and comment, password change and (OIDC) CLI secret. */
export function ProfilePage() {
  const user = useCurrentUser();
  const info = useSystemInfo().data;
  if (user.isLoading) return <Spinner />;
  if (!user.data) return <ErrorNote error={user.error} />;
  const u = user.data;
  const oidc = info?.auth_mode === 'oidc_auth' || !!u.oidc_user_meta;
  return (
    <>
      <h1>User Profile</h1>
      <div className="cards two">
        <ProfileForm user={u} />
        <div>
          {oidc ? <CliSecretSection user={u} /> : null}
          {!oidc || u.user_id === 1 ? <PasswordForm user={u} /> : null}
          {!oidc ? (
            <section className="card">
              <h3>Docker login</h3>
              <CopyLine text={`docker login ${window.location.host} -u ${u.username}`} />
            </section>
          ) : null}
        </div>
      </div>
    </>
  );
}

function ProfileForm({ user }: { user: User }) {
  const [email, setEmail] = useState(user.email ?? '');
  const [realname, setRealname] = useState(user.realname ?? '');
  const [comment, setComment] = useState(user.comment ?? '');
  const [saved, setSaved] = useState(false);
  const save = useAction(
    () => updateProfile(user.user_id, { email, realname, comment }),
    [sessionKeys.currentUser],
  );
  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    await save.mutateAsync(undefined).then(
      () => setSaved(true),
      () => undefined,
    );
  }
  return (
    <form className="card" onSubmit={(e) => void submit(e)}>
      <h3>{user.username}</h3>
      <Field label="Email">
        {(id) => (
          <input id={id} type="email" name="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        )}
      </Field>
      <Field label="Full Name">
        {(id) => (
          <input id={id} name="realname" value={realname} onChange={(e) => setRealname(e.target.value)} />
        )}
      </Field>
      <Field label="Comments">
        {(id) => (
          <input id={id} name="comment" value={comment} onChange={(e) => setComment(e.target.value)} />
        )}
      </Field>
      <ErrorNote error={save.error} />
      {saved ? (
        <div className="note note-ok" role="status">
          Profile saved.
        </div>
      ) : null}
      <button type="submit" className="btn btn-primary" disabled={save.isPending}>
        Save
      </button>
    </form>
  );
}

/** Harbor's password rule: 8–128 characters with an upper-case letter, a lower-case letter and a digit. */
export function passwordProblem(p: string): string | null {
  if (p.length < 8 || p.length > 128) return '8 to 128 characters';
  if (!/[A-Z]/.test(p) || !/[a-z]/.test(p) || !/\d/.test(p))
    return 'At least one upper-case letter, one lower-case letter and one digit';
  return null;
}

function PasswordForm({ user }: { user: User }) {
  const [old, setOld] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [saved, setSaved] = useState(false);
  const rule = next ? passwordProblem(next) : null;
  const mismatch = again && again !== next ? 'The passwords differ' : null;
  const save = useAction(() => updatePassword(user.user_id, next, old), []);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    await save.mutateAsync(undefined).then(
      () => {
        setSaved(true);
        setOld('');
        setNext('');
        setAgain('');
      },
      () => undefined,
    );
  }
  return (
    <form className="card" onSubmit={(e) => void submit(e)}>
      <h3>Change Password</h3>
      <Field label="Current Password">
        {(id) => (
          <input
            id={id}
            type="password"
            autoComplete="current-password"
            value={old}
            onChange={(e) => setOld(e.target.value)}
          />
        )}
      </Field>
      <Field label="New Password" error={rule}>
        {(id) => (
          <input
            id={id}
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        )}
      </Field>
      <Field label="Confirm Password" error={mismatch}>
        {(id) => (
          <input
            id={id}
            type="password"
            autoComplete="new-password"
            value={again}
            onChange={(e) => setAgain(e.target.value)}
          />
        )}
      </Field>
      <ErrorNote error={save.error} />
      {saved ? (
        <div className="note note-ok" role="status">
          Password changed.
        </div>
      ) : null}
      <button
        type="submit"
        className="btn btn-primary"
        disabled={save.isPending || !old || !next || !!rule || again !== next}
      >
        Change Password
      </button>
    </form>
  );
}
