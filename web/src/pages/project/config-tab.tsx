import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import { projectKeys, updateProjectMetadata } from '../../api/projects';
import { ErrorNote, Field } from '../../components/ui';
import { useProjectContext } from './project-page';
import { ProxyCacheFields, proxyError, proxyMetadata, proxyValues } from './proxy-cache-fields';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'none'];

/**
 * Project metadata: public, auto-scan, prevent vulnerable images from running, and its severity; for a
 * proxy-cache project, its proxy settings too.
 */
export function ConfigTab() {
  const { project, can } = useProjectContext();
  const m = project.metadata ?? {};
  const [isPublic, setPublic] = useState(m.public === 'true');
  const [autoScan, setAutoScan] = useState(m.auto_scan === 'true');
  const [prevent, setPrevent] = useState(m.prevent_vul === 'true');
  const [severity, setSeverity] = useState(m.severity || 'low');
  const isProxy = !!project.registry_id;
  const [proxy, setProxy] = useState(() => proxyValues(m));
  const [saved, setSaved] = useState(false);
  const invalid = isProxy ? proxyError(proxy) : null;
  const save = useAction(
    () =>
      updateProjectMetadata(project.project_id, {
        public: String(isPublic),
        auto_scan: String(autoScan),
        prevent_vul: String(prevent),
        severity,
        ...(isProxy ? proxyMetadata(proxy) : {}),
      }),
    [projectKeys.detail(project.project_id), projectKeys.lists()],
  );
  const editable = can('configuration', 'update');
  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    if (invalid) return;
    try {
      await save.mutateAsync(undefined);
      setSaved(true);
    } catch {
      // shown below
    }
  }
  return (
    <form onSubmit={(e) => void submit(e)} className="card" style={{ maxWidth: 640 }}>
      <fieldset disabled={!editable} style={{ border: 0, padding: 0, margin: 0 }}>
        <label className="check">
          <input
            type="checkbox"
            name="public"
            checked={isPublic}
            onChange={(e) => setPublic(e.target.checked)}
          />
          Public: anyone can pull images from this project
        </label>
        <label className="check">
          <input type="checkbox" checked={autoScan} onChange={(e) => setAutoScan(e.target.checked)} />
          Automatically scan images on push
        </label>
        <label className="check">
          <input type="checkbox" checked={prevent} onChange={(e) => setPrevent(e.target.checked)} />
          Prevent vulnerable images from running
        </label>
        <Field label="Prevent images with vulnerability severity of and above">
          {(id) => (
            <select
              id={id}
              value={severity}
              disabled={!prevent}
              onChange={(e) => setSeverity(e.target.value)}
            >
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s[0]!.toUpperCase() + s.slice(1)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {isProxy ? <ProxyCacheFields values={proxy} onChange={setProxy} /> : null}
        {invalid ? (
          <div className="note note-error" role="alert">
            {invalid}
          </div>
        ) : null}
        <ErrorNote error={save.error} />
        {saved ? (
          <div className="note note-ok" role="status">
            Saved.
          </div>
        ) : null}
        {editable ? (
          <button type="submit" className="btn btn-primary" disabled={save.isPending || !!invalid}>
            Save
          </button>
        ) : null}
      </fieldset>
    </form>
  );
}
