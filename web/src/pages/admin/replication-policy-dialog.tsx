import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import { registryChoicesQuery } from '../../api/registries';
import { replicationKeys, savePolicy } from '../../api/replication';
import type { ReplicationFilter, ReplicationPolicy, ReplicationTrigger } from '../../api/types';
import { Dialog, ErrorNote, Field } from '../../components/ui';

const CRON = /^\S+ \S+ \S+ \S+ \S+ \S+$/;

/** New or edited replication rule: push or pull mode, remote registry, name/tag filters, trigger. */
export function PolicyDialog({ policy, onClose }: { policy: ReplicationPolicy | null; onClose: () => void }) {
  const registries = useQuery(registryChoicesQuery());
  const filterOf = (t: string) => String(policy?.filters?.find((f) => f.type === t)?.value ?? '');
  const [name, setName] = useState(policy?.name ?? '');
  const [description, setDescription] = useState(policy?.description ?? '');
  const [mode, setMode] = useState<'push' | 'pull'>(policy?.src_registry?.id ? 'pull' : 'push');
  const [remote, setRemote] = useState(String((policy?.src_registry ?? policy?.dest_registry)?.id ?? ''));
  const [nameFilter, setNameFilter] = useState(filterOf('name'));
  const [tagFilter, setTagFilter] = useState(filterOf('tag'));
  const [destNamespace, setDestNamespace] = useState(policy?.dest_namespace ?? '');
  const [trigger, setTrigger] = useState<ReplicationTrigger['type']>(policy?.trigger?.type ?? 'manual');
  const [cron, setCron] = useState(policy?.trigger?.trigger_settings?.cron ?? '0 0 * * * *');
  const [override, setOverride] = useState(policy?.override ?? true);
  const [deletion, setDeletion] = useState(policy?.replicate_deletion ?? false);
  const [enabled, setEnabled] = useState(policy?.enabled ?? true);
  const cronError =
    trigger === 'scheduled' && !CRON.test(cron.trim()) ? 'Six fields: s m h dom mon dow' : null;
  const filters: ReplicationFilter[] = [
    ...(nameFilter ? [{ type: 'name' as const, value: nameFilter }] : []),
    ...(tagFilter ? [{ type: 'tag' as const, value: tagFilter, decoration: 'matches' }] : []),
  ];
  const registry = remote ? { id: Number(remote) } : null;
  const body = {
    name,
    description,
    src_registry: mode === 'pull' ? registry : null,
    dest_registry: mode === 'push' ? registry : null,
    dest_namespace: destNamespace,
    filters,
    trigger: { type: trigger, trigger_settings: trigger === 'scheduled' ? { cron: cron.trim() } : {} },
    override,
    replicate_deletion: deletion,
    enabled,
    speed: -1,
  };
  const save = useAction(() => savePolicy(body, policy?.id), [replicationKeys.policies()]);
  async function submit(e: FormEvent) {
    e.preventDefault();
    await save.mutateAsync(undefined).then(onClose, () => undefined);
  }
  return (
    <Dialog title={policy ? 'Edit Replication Rule' : 'New Replication Rule'} onClose={onClose} wide>
      <form onSubmit={(e) => void submit(e)}>
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
        <fieldset className="field">
          <legend>Replication mode</legend>
          <label className="check">
            <input type="radio" name="mode" checked={mode === 'push'} onChange={() => setMode('push')} />{' '}
            Push-based (from this Berth to the remote registry)
          </label>
          <label className="check">
            <input type="radio" name="mode" checked={mode === 'pull'} onChange={() => setMode('pull')} />{' '}
            Pull-based (from the remote registry into this Berth)
          </label>
        </fieldset>
        <Field label={mode === 'push' ? 'Destination registry' : 'Source registry'}>
          {(id) => (
            <select
              id={id}
              name="registry"
              required
              value={remote}
              onChange={(e) => setRemote(e.target.value)}
            >
              <option value="">Choose an endpoint…</option>
              {(registries.data ?? []).map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name} ({r.url})
                </option>
              ))}
            </select>
          )}
        </Field>
        <ErrorNote error={registries.error} title="Could not load registries" />
        <Field label="Source resource filter: Name" hint="e.g. library/** ; empty for all">
          {(id) => (
            <input
              id={id}
              name="filter_name"
              value={nameFilter}
              onChange={(e) => setNameFilter(e.target.value)}
            />
          )}
        </Field>
        <Field label="Source resource filter: Tag" hint="e.g. v1.* ; empty for all">
          {(id) => (
            <input
              id={id}
              name="filter_tag"
              value={tagFilter}
              onChange={(e) => setTagFilter(e.target.value)}
            />
          )}
        </Field>
        <Field label="Destination namespace" hint="Empty keeps the source namespace">
          {(id) => (
            <input
              id={id}
              name="dest_namespace"
              value={destNamespace}
              onChange={(e) => setDestNamespace(e.target.value)}
            />
          )}
        </Field>
        <Field label="Trigger Mode">
          {(id) => (
            <select
              id={id}
              name="trigger"
              value={trigger}
              onChange={(e) => setTrigger(e.target.value as ReplicationTrigger['type'])}
            >
              <option value="manual">Manual</option>
              <option value="scheduled">Scheduled</option>
              {mode === 'push' ? <option value="event_based">Event Based</option> : null}
            </select>
          )}
        </Field>
        {trigger === 'scheduled' ? (
          <Field label="Cron String" error={cronError}>
            {(id) => <input id={id} value={cron} onChange={(e) => setCron(e.target.value)} />}
          </Field>
        ) : null}
        <label className="check">
          <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} />{' '}
          Override existing artifacts
        </label>
        <label className="check">
          <input type="checkbox" checked={deletion} onChange={(e) => setDeletion(e.target.checked)} /> Delete
          remote resources when locally deleted
        </label>
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enable
          rule
        </label>
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={save.isPending || !name || !remote || !!cronError}
          >
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
