import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import {
  adapterTypesQuery,
  createRegistry,
  pingRegistry,
  registryKeys,
  updateRegistry,
} from '../../api/registries';
import type { Registry } from '../../api/types';
import { Dialog, ErrorNote, Field } from '../../components/ui';

/** New or edited registry endpoint, with TEST CONNECTION before saving. */
export function RegistryDialog({ registry, onClose }: { registry: Registry | null; onClose: () => void }) {
  const adapters = useQuery(adapterTypesQuery());
  const [type, setType] = useState(registry?.type ?? 'docker-registry');
  const [name, setName] = useState(registry?.name ?? '');
  const [description, setDescription] = useState(registry?.description ?? '');
  const [url, setUrl] = useState(registry?.url ?? '');
  const [accessKey, setAccessKey] = useState(registry?.credential?.access_key ?? '');
  const [secret, setSecret] = useState('');
  const [insecure, setInsecure] = useState(registry?.insecure ?? false);
  const [test, setTest] = useState<{ ok: boolean; text: string } | null>(null);
  // Three shapes, as swagger has them: Registry (create, credential nested), RegistryUpdate (edit, flat
  // credential fields, type fixed) and RegistryPing (no name/description; with the id to reuse the stored
  // secret when none is typed).
  const flatCredential = accessKey || secret ? { credential_type: 'basic', access_key: accessKey } : {};
  const typedSecret = secret ? { access_secret: secret } : {};
  const created = {
    name,
    description,
    type,
    url: url.trim(),
    insecure,
    ...(accessKey || secret ? { credential: { type: 'basic', access_key: accessKey, ...typedSecret } } : {}),
  };
  const updated = { name, description, url: url.trim(), insecure, ...flatCredential, ...typedSecret };
  const save = useAction(
    () => (registry ? updateRegistry(registry.id, updated) : createRegistry(created)),
    [registryKeys.all],
  );
  async function testConnection() {
    setTest({ ok: true, text: 'Testing…' });
    try {
      const ping = {
        ...(registry && !secret ? { id: registry.id } : {}),
        type,
        url: url.trim(),
        insecure,
        ...flatCredential,
        ...typedSecret,
      };
      await pingRegistry(ping);
      setTest({ ok: true, text: 'Connection tested successfully.' });
    } catch (err) {
      setTest({ ok: false, text: `Connection failed: ${(err as Error).message}` });
    }
  }
  async function submit(e: FormEvent) {
    e.preventDefault();
    await save.mutateAsync(undefined).then(onClose, () => undefined);
  }
  const urlOk = /^https?:\/\/[^\s]+$/.test(url.trim());
  return (
    <Dialog title={registry ? 'Edit Endpoint' : 'New Registry Endpoint'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Provider">
          {(id) => (
            <select
              id={id}
              name="type"
              value={type}
              onChange={(e) => setType(e.target.value)}
              disabled={!!registry}
            >
              {(adapters.data ?? [type]).map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          )}
        </Field>
        <ErrorNote error={adapters.error} title="Could not load providers" />
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
        <Field label="Endpoint URL" error={url && !urlOk ? 'http:// or https:// followed by a host' : null}>
          {(id) => (
            <input
              id={id}
              name="url"
              required
              placeholder="https://registry.example.com"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
            />
          )}
        </Field>
        <Field label="Access ID">
          {(id) => (
            <input
              id={id}
              name="access_key"
              autoComplete="off"
              value={accessKey}
              onChange={(e) => setAccessKey(e.target.value)}
            />
          )}
        </Field>
        <Field label="Access Secret" hint={registry ? 'Leave empty to keep the stored secret' : undefined}>
          {(id) => (
            <input
              id={id}
              name="access_secret"
              type="password"
              autoComplete="new-password"
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
            />
          )}
        </Field>
        <label className="check">
          <input type="checkbox" checked={insecure} onChange={(e) => setInsecure(e.target.checked)} /> Verify
          Remote Cert off (insecure)
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
