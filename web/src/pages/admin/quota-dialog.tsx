import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import { projectKeys } from '../../api/projects';
import { quotaKeys, updateQuota } from '../../api/quotas';
import { Dialog, ErrorNote } from '../../components/ui';
import { storageLimitBytes, type SizeUnit } from '../projects/project-name';
import { StorageLimitField } from '../projects/storage-limit-field';

/** The limit as the dialog first shows it: in the largest unit that divides it, or -1. */
function initial(hard: number | undefined): { value: string; unit: SizeUnit } {
  if (hard === undefined || hard < 0) return { value: '-1', unit: 'GiB' };
  for (const [unit, size] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
  ] as const)
    if (hard % size === 0) return { value: String(hard / size), unit };
  return { value: String(Math.max(1, Math.round(hard / 1024 ** 2))), unit: 'MiB' };
}

/** Edits one project's storage limit (PUT /quotas/{id}); pushes past it are refused at once. */
export function QuotaDialog(props: {
  projectId: number;
  projectName: string;
  hard: number | undefined;
  onClose: () => void;
}) {
  const start = initial(props.hard);
  const [value, setValue] = useState(start.value);
  const [unit, setUnit] = useState<SizeUnit>(start.unit);
  const bytes = storageLimitBytes(value, unit);
  const save = useAction(() => updateQuota(props.projectId, bytes ?? -1), [quotaKeys.all, projectKeys.all]);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (bytes === undefined) return;
    await save.mutateAsync(undefined).then(props.onClose, () => undefined);
  }
  return (
    <Dialog title={`Edit quota of ${props.projectName}`} onClose={props.onClose}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <StorageLimitField
          value={value}
          unit={unit}
          invalid={bytes === undefined}
          onChange={(v, u) => {
            setValue(v);
            setUnit(u);
          }}
        />
        <p className="muted">
          Pushes that would take the project past this limit are refused; a lower limit deletes nothing.
        </p>
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={save.isPending || bytes === undefined}>
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}
