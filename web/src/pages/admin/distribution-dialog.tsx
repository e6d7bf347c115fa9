import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import {
  pingInstance,
  preheatKeys,
  providersQuery,
  saveInstance,
  type InstanceFields,
  type PreheatInstance,
} from '../../api/preheat';
import { Dialog, ErrorNote, Field } from '../../components/ui';

/** New or edited P2P provider instance, with a health check before saving. */
export function DistributionDialog(props: { instance: PreheatInstance | null; onClose: () => void }) {
  const { instance, onClose } = props;
  const providers = useQuery(providersQuery());
  const [vendor, setVendor] = useState(instance?.vendor ?? 'dragonfly');
  const [name, setName] = useState(instance?.name ?? '');
  const [description, setDescription] = useState(instance?.description ?? '');
  const [endpoint, setEndpoint] = useState(instance?.endpoint ?? '');
  const [authMode, setAuthMode] = useState(instance?.auth_mode ?? 'NONE');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [enabled, setEnabled] = useState(instance?.enabled ?? true);
  const [insecure, setInsecure] = useState(instance?.insecure ?? false);
  const [test, setTest] = useState<{ ok: boolean; text: string } | null>(null);
  // Left empty on an edit, the stored credentials are kept (Harbor's rule).
  const authInfo: Record<string, string> | undefined =
    authMode === 'BASIC' && (username || password)
      ? { username, password }
      : authMode === 'OAUTH' && token
        ? { token }
        : undefined;
  const fields: InstanceFields = {
    name: name.trim(),
    description,
    vendor,
    endpoint: endpoint.trim(),
    auth_mode: authMode,
    ...(authInfo ? { auth_info: authInfo } : {}),
    enabled,
    default: instance?.default ?? false,
    insecure,
  };
  const save = useAction(() => saveInstance(fields, instance?.name), [preheatKeys.instances]);
  async function testConnection() {
    setTest({ ok: true, text: 'Checking…' });
    try {
      await pingInstance(instance && !authInfo ? { id: instance.id } : fields);
      setTest({ ok: true, text: 'The instance is healthy.' });
    } catch (err) {
      setTest({ ok: false, text: (err as Error).message });
    }
  }
  async function submit(e: FormEvent) {
    e.preventDefault();
    await save.mutateAsync(undefined).then(onClose, () => undefined);
  }
  const urlOk = /^https?:\/\/[^\s]+$/.test(endpoint.trim());
  return (
    <Dialog title={instance ? 'Edit Instance' : 'New Instance'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Provider">
          {(id) => (
            <select
              id={id}
              name="vendor"
              value={vendor}
              disabled={!!instance}
              onChange={(e) => setVendor(e.target.value)}
            >
              {(providers.data ?? [{ id: vendor, name: vendor, version: '' }]).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <ErrorNote error={providers.error} title="Could not load providers" />
        <Field label="Name">
          {(id) => (
            <input
              id={id}
              name="name"
              required
              autoFocus
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Description">
          {(id) => <input id={id} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <Field label="Endpoint" error={endpoint && !urlOk ? 'http:// or https:// followed by a host' : null}>
          {(id) => (
            <input
              id={id}
              name="endpoint"
              required
              placeholder="https://dragonfly.example.com"
              value={endpoint}
              onChange={(e) => setEndpoint(e.target.value)}
            />
          )}
        </Field>
        <Field label="Auth Mode">
          {(id) => (
            <select id={id} name="auth_mode" value={authMode} onChange={(e) => setAuthMode(e.target.value)}>
              <option value="NONE">None</option>
              <option value="BASIC">Basic</option>
              <option value="OAUTH">OAuth</option>
            </select>
          )}
        </Field>
        {authMode === 'BASIC' ? (
          <>
            <Field label="Username">
              {(id) => <input id={id} value={username} onChange={(e) => setUsername(e.target.value)} />}
            </Field>
            <Field
              label="Password"
              hint={instance ? 'Leave empty to keep the stored credentials' : undefined}
            >
              {(id) => (
                <input
                  id={id}
                  type="password"
                  autoComplete="new-password"
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              )}
            </Field>
          </>
        ) : null}
        {authMode === 'OAUTH' ? (
          <Field label="Token" hint={instance ? 'Leave empty to keep the stored token' : undefined}>
            {(id) => (
              <input
                id={id}
                type="password"
                autoComplete="off"
                value={token}
                onChange={(e) => setToken(e.target.value)}
              />
            )}
          </Field>
        ) : null}
        <label className="check">
          <input
            type="checkbox"
            name="enabled"
            checked={enabled}
            onChange={(e) => setEnabled(e.target.checked)}
          />{' '}
          Enabled
        </label>
        <label className="check">
          <input type="checkbox" checked={insecure} onChange={(e) => setInsecure(e.target.checked)} /> Skip
          certificate verification
        </label>
        {test ? (
          <div
            className={test.ok ? 'note note-ok' : 'note note-error'}
            role="status"
            data-testid="ping-result"
          >
            {test.text}
          </div>
        ) : null}
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" disabled={!urlOk} onClick={() => void testConnection()}>
            Test Connection
          </button>
          <div className="grow" />
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={save.isPending || !name || !urlOk}>
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}
