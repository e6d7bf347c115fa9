import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import {
  policyFieldsOf,
  preheatKeys,
  projectProvidersQuery,
  savePolicy,
  type PolicyFields,
  type PreheatPolicy,
} from '../../api/preheat';
import { Dialog, ErrorNote, Field } from '../../components/ui';

/** New or edited preheat policy: provider, repository/tag/label filters, trigger. */
export function PreheatPolicyDialog(props: {
  project: string;
  policy: PreheatPolicy | null;
  onClose: () => void;
}) {
  const { project, policy, onClose } = props;
  const providers = useQuery(projectProvidersQuery(project));
  const [f, setF] = useState<PolicyFields>(() => policyFieldsOf(policy));
  const set = (change: Partial<PolicyFields>) => setF((old) => ({ ...old, ...change }));
  const choices = (providers.data ?? []).filter((p) => p.enabled || p.id === f.provider_id);
  const providerId = f.provider_id || (choices.find((p) => p.default) ?? choices[0])?.id || 0;
  const save = useAction(
    () => savePolicy(project, { ...f, provider_id: providerId }, policy?.name),
    [preheatKeys.policies(project)],
  );
  async function submit(e: FormEvent) {
    e.preventDefault();
    await save.mutateAsync(undefined).then(onClose, () => undefined);
  }
  return (
    <Dialog title={policy ? 'Edit P2P Preheat Policy' : 'New P2P Preheat Policy'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Provider">
          {(id) => (
            <select
              id={id}
              name="provider"
              value={providerId}
              onChange={(e) => set({ provider_id: Number(e.target.value) })}
            >
              {choices.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.provider}
                </option>
              ))}
            </select>
          )}
        </Field>
        <ErrorNote error={providers.error} title="Could not load the providers" />
        <Field label="Name">
          {(id) => (
            <input
              id={id}
              name="name"
              required
              autoFocus
              value={f.name}
              onChange={(e) => set({ name: e.target.value })}
            />
          )}
        </Field>
        <Field label="Description">
          {(id) => (
            <input id={id} value={f.description} onChange={(e) => set({ description: e.target.value })} />
          )}
        </Field>
        <Field label="Repositories" hint="doublestar pattern on the name without the project: ** for all">
          {(id) => (
            <input
              id={id}
              name="repository"
              value={f.repository}
              onChange={(e) => set({ repository: e.target.value })}
            />
          )}
        </Field>
        <Field label="Tags" hint="doublestar pattern: ** for all">
          {(id) => <input id={id} name="tag" value={f.tag} onChange={(e) => set({ tag: e.target.value })} />}
        </Field>
        <Field label="Labels" hint="comma-separated; an image must carry all of them (empty: any)">
          {(id) => (
            <input id={id} name="label" value={f.label} onChange={(e) => set({ label: e.target.value })} />
          )}
        </Field>
        <Field label="Trigger">
          {(id) => (
            <select
              id={id}
              name="trigger"
              value={f.trigger}
              onChange={(e) => set({ trigger: e.target.value as PolicyFields['trigger'] })}
            >
              <option value="manual">Manual</option>
              <option value="scheduled">Scheduled</option>
              <option value="event_based">Event based (on push)</option>
            </select>
          )}
        </Field>
        {f.trigger === 'scheduled' ? (
          <Field label="Cron" hint="6 fields: second minute hour day month weekday, e.g. 0 0 3 * * *">
            {(id) => (
              <input
                id={id}
                name="cron"
                required
                value={f.cron}
                onChange={(e) => set({ cron: e.target.value })}
              />
            )}
          </Field>
        ) : null}
        <div className="muted">
          The vulnerability and signature criteria are the project&apos;s (Configuration), as in Harbor.
        </div>
        <label className="check">
          <input type="checkbox" checked={f.enabled} onChange={(e) => set({ enabled: e.target.checked })} />{' '}
          Enabled
        </label>
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <div className="grow" />
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={save.isPending || !f.name || !providerId}
          >
            {policy ? 'Save' : 'Add'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
