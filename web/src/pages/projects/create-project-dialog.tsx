import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import { createProject, projectKeys, projectNameTakenQuery } from '../../api/projects';
import { registryChoicesQuery } from '../../api/registries';
import { useCurrentUser } from '../../api/session';
import { Dialog, ErrorNote, Field } from '../../components/ui';
import { projectNameProblem, storageLimitBytes, type SizeUnit } from './project-name';
import { StorageLimitField } from './storage-limit-field';

/**
 * New project: the name is checked as you type (rules, then whether it is taken), public, storage limit,
 * and for administrators Harbor's Proxy Cache switch with the registry endpoint it pulls through.
 */
export function CreateProjectDialog(props: {
  onClose: () => void;
  onCreated: (id: string | undefined) => void;
}) {
  const [name, setName] = useState('');
  const [isPublic, setPublic] = useState(false);
  // Empty: the system default (storage_per_project), as Harbor's dialog starts from it.
  const [limit, setLimit] = useState('');
  const [unit, setUnit] = useState<SizeUnit>('GiB');
  const [touched, setTouched] = useState(false);
  const admin = !!useCurrentUser().data?.sysadmin_flag;
  const [proxy, setProxy] = useState(false);
  const [registryId, setRegistryId] = useState('');
  const registries = useQuery({ ...registryChoicesQuery(), enabled: admin && proxy });
  const rule = projectNameProblem(name);
  const taken = useQuery({ ...projectNameTakenQuery(name), enabled: !rule, staleTime: 10_000 });
  const bytes = storageLimitBytes(limit, unit);
  const nameError = touched && rule ? rule : taken.data ? `Project "${name}" already exists` : null;
  const create = useAction(
    () =>
      createProject({
        project_name: name,
        metadata: { public: String(isPublic) },
        ...(limit.trim() === '' ? {} : { storage_limit: bytes }),
        ...(proxy && registryId ? { registry_id: Number(registryId) } : {}),
      }),
    [projectKeys.lists()],
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (rule || taken.data || bytes === undefined || (proxy && !registryId)) return;
    try {
      props.onCreated(await create.mutateAsync(undefined));
    } catch {
      // shown next to the form by ErrorNote
    }
  }

  return (
    <Dialog title="New Project" onClose={props.onClose}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field
          label="Project Name"
          error={nameError}
          hint="Lower-case letters, digits, and . _ - between them"
        >
          {(id) => (
            <input
              id={id}
              name="project_name"
              value={name}
              autoFocus
              aria-invalid={!!nameError}
              onChange={(e) => {
                setName(e.target.value);
                setTouched(true);
              }}
            />
          )}
        </Field>
        <label className="check">
          <input
            type="checkbox"
            name="public"
            checked={isPublic}
            onChange={(e) => setPublic(e.target.checked)}
          />
          Public — anyone can pull from it without signing in
        </label>
        <StorageLimitField
          value={limit}
          unit={unit}
          invalid={bytes === undefined}
          hint="Empty for the system default, -1 for unlimited"
          onChange={(v, u) => {
            setLimit(v);
            setUnit(u);
          }}
        />
        {admin ? (
          <>
            <label className="check">
              <input
                type="checkbox"
                role="switch"
                name="proxy_cache"
                checked={proxy}
                onChange={(e) => setProxy(e.target.checked)}
              />
              Proxy Cache — pull images through this project from another registry
            </label>
            {proxy ? (
              <Field
                label="Endpoint"
                hint="The registry endpoint to cache (Administration → Registries)"
                error={touched && !registryId ? 'Choose a registry endpoint' : null}
              >
                {(id) => (
                  <select
                    id={id}
                    name="registry_id"
                    value={registryId}
                    onChange={(e) => setRegistryId(e.target.value)}
                  >
                    <option value="">Select an endpoint</option>
                    {(registries.data ?? []).map((r) => (
                      <option key={r.id} value={r.id}>
                        {r.name} — {r.url}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            ) : null}
          </>
        ) : null}
        <ErrorNote error={create.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={
              create.isPending || !!rule || !!taken.data || bytes === undefined || (proxy && !registryId)
            }
          >
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}
