import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import { projectKeys, updateProjectMetadata } from '../../api/projects';
import { systemAllowlistQuery, type CveAllowlist } from '../../api/security';
import { ErrorNote, Field } from '../../components/ui';
import { CveAllowlistEditor } from '../shared/cve-allowlist-editor';
import { useProjectContext } from './project-page';
import { ProxyCacheFields, proxyError, proxyMetadata, proxyValues } from './proxy-cache-fields';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'none'];

/**
 * Project metadata: public, auto-scan, prevent vulnerable images from running and its severity, the
 * CVE allowlist pulls apply (the system's, or the project's own with its expiry); for a proxy-cache
 * project, its proxy settings too.
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
  const [reuseSystem, setReuseSystem] = useState(m.reuse_sys_cve_allowlist !== 'false');
  const [allowlist, setAllowlist] = useState<CveAllowlist>(
    project.cve_allowlist ?? { items: [], expires_at: null },
  );
  const system = useQuery(systemAllowlistQuery());
  const [saved, setSaved] = useState(false);
  const invalid = isProxy ? proxyError(proxy) : null;
  const save = useAction(
    () =>
      updateProjectMetadata(
        project.project_id,
        {
          public: String(isPublic),
          auto_scan: String(autoScan),
          prevent_vul: String(prevent),
          severity,
          reuse_sys_cve_allowlist: String(reuseSystem),
          ...(isProxy ? proxyMetadata(proxy) : {}),
        },
        reuseSystem
          ? undefined
          : {
              items: allowlist.items,
              expires_at: allowlist.expires_at ?? null,
              project_id: project.project_id,
            },
      ),
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
        <div role="radiogroup" aria-label="CVE allowlist">
          <strong>CVE allowlist</strong>
          <label className="check">
            <input type="radio" checked={reuseSystem} onChange={() => setReuseSystem(true)} />
            System allowlist
            {system.data ? ` (${system.data.items.length} CVEs)` : ''}
          </label>
          <label className="check">
            <input type="radio" checked={!reuseSystem} onChange={() => setReuseSystem(false)} />
            Project allowlist
          </label>
        </div>
        {!reuseSystem ? (
          <CveAllowlistEditor
            label="Project CVE allowlist"
            value={allowlist}
            onChange={setAllowlist}
            copyFrom={system.data}
          />
        ) : null}
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
