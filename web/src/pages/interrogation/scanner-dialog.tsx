import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import {
  createScanner,
  pingScanner,
  scannerKeys,
  updateScanner,
  type Scanner,
  type ScannerFields,
} from '../../api/scanners';
import { Dialog, ErrorNote, Field } from '../../components/ui';

const AUTH = [
  ['', 'None'],
  ['Basic', 'Basic'],
  ['Bearer', 'Bearer'],
  ['X-ScannerAdapter-API-Key', 'API Key'],
] as const;

/** Add or edit a scanner registration (a Pluggable Scanner API adapter), with "Test connection". */
export function ScannerDialog({ scanner, onClose }: { scanner: Scanner | null; onClose: () => void }) {
  const [name, setName] = useState(scanner?.name ?? '');
  const [description, setDescription] = useState(scanner?.description ?? '');
  const [url, setUrl] = useState(scanner?.url ?? '');
  const [auth, setAuth] = useState(scanner?.auth ?? '');
  const [credential, setCredential] = useState('');
  const [skipVerify, setSkipVerify] = useState(scanner?.skip_certVerify ?? false);
  const [internal, setInternal] = useState(scanner?.use_internal_addr ?? false);
  const [test, setTest] = useState<{ ok: boolean; text: string } | null>(null);
  // An empty credential on edit keeps the stored one.
  const fields: ScannerFields = {
    name: name.trim(),
    description,
    url: url.trim(),
    auth,
    ...(auth && credential ? { access_credential: credential } : {}),
    skip_certVerify: skipVerify,
    use_internal_addr: internal,
  };
  const save = useAction(
    () =>
      scanner
        ? updateScanner(scanner.uuid, { ...fields, disabled: scanner.disabled })
        : createScanner(fields),
    [scannerKeys.all],
  );
  async function testConnection() {
    setTest({ ok: true, text: 'Testing…' });
    try {
      await pingScanner(fields);
      setTest({ ok: true, text: 'Test connection succeeded.' });
    } catch (err) {
      setTest({ ok: false, text: `Test connection failed: ${(err as Error).message}` });
    }
  }
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await save.mutateAsync(undefined);
      onClose();
    } catch {
      // shown below
    }
  }
  return (
    <Dialog title={scanner ? 'Edit Scanner' : 'Add Scanner'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Name">
          {(id) => <input id={id} required value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Description">
          {(id) => <input id={id} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <Field label="Endpoint" hint="The adapter's base URL, e.g. http://trivy-adapter:8080">
          {(id) => <input id={id} required value={url} onChange={(e) => setUrl(e.target.value)} />}
        </Field>
        <Field label="Authorization">
          {(id) => (
            <select id={id} value={auth} onChange={(e) => setAuth(e.target.value)}>
              {AUTH.map(([v, label]) => (
                <option key={v} value={v}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {auth ? (
          <Field
            label={auth === 'Basic' ? 'Username:password' : auth === 'Bearer' ? 'Token' : 'API Key'}
            hint={scanner ? 'Leave empty to keep the stored credential.' : undefined}
          >
            {(id) => (
              <input
                id={id}
                type="password"
                autoComplete="off"
                value={credential}
                onChange={(e) => setCredential(e.target.value)}
              />
            )}
          </Field>
        ) : null}
        <label className="check">
          <input type="checkbox" checked={skipVerify} onChange={(e) => setSkipVerify(e.target.checked)} />
          Skip certificate verification
        </label>
        <label className="check">
          <input type="checkbox" checked={internal} onChange={(e) => setInternal(e.target.checked)} />
          Use internal registry address
        </label>
        {test ? (
          <div className={test.ok ? 'note note-ok' : 'note note-error'} role="status">
            {test.text}
          </div>
        ) : null}
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" disabled={!url.trim()} onClick={() => void testConnection()}>
            Test Connection
          </button>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={save.isPending}>
            {scanner ? 'Save' : 'Add'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
