import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  projectScannerCandidates,
  projectScannerQuery,
  scannerKeys,
  setProjectScanner,
  type Scanner,
} from '../../api/scanners';
import { ListPage } from '../../components/list-page';
import { Dialog, ErrorNote, QueryState } from '../../components/ui';
import { useProjectContext } from './project-page';

/**
 * A project's Scanner tab, as Harbor's: the scanner its scans use (its own choice, else the system default)
 * and, for those who may set it (scanner:create), "Select Scanner" among the enabled registrations.
 */
export function ScannerTab() {
  const { project, can } = useProjectContext();
  const current = useQuery(projectScannerQuery(project.project_id));
  const [selecting, setSelecting] = useState(false);
  return (
    <section className="card" aria-label="Project scanner">
      <h2>Scanner</h2>
      <QueryState query={current}>
        {(s) =>
          s ? (
            <dl className="facts" data-testid="project-scanner">
              <dt>Name</dt>
              <dd data-testid="project-scanner-name">{s.name}</dd>
              <dt>Endpoint</dt>
              <dd>{s.url}</dd>
              <dt>Health</dt>
              <dd>{s.health ?? '—'}</dd>
              <dt>Vendor</dt>
              <dd>{s.vendor ?? '—'}</dd>
              <dt>Version</dt>
              <dd>{s.version ?? '—'}</dd>
            </dl>
          ) : (
            <p className="muted">No scanner is configured: add one under Interrogation Services.</p>
          )
        }
      </QueryState>
      {can('scanner', 'create') ? (
        <button type="button" className="btn" onClick={() => setSelecting(true)}>
          Select Scanner
        </button>
      ) : null}
      {selecting ? (
        <SelectScanner
          projectId={project.project_id}
          current={current.data?.uuid}
          onClose={() => setSelecting(false)}
        />
      ) : null}
    </section>
  );
}

function SelectScanner(props: { projectId: number; current: string | undefined; onClose: () => void }) {
  const list = usePagedList(projectScannerCandidates(props.projectId));
  const [chosen, setChosen] = useState(props.current ?? '');
  const save = useAction(
    (uuid: string) => setProjectScanner(props.projectId, uuid),
    [scannerKeys.project(props.projectId)],
  );
  return (
    <Dialog title="Select Scanner" onClose={props.onClose} wide>
      <ListPage<Scanner>
        list={list}
        tableLabel="Scanner candidates"
        empty="No scanner is registered."
        columns={
          <>
            <th aria-label="Choose" />
            <th>Name</th>
            <th className="hide-narrow">Endpoint</th>
            <th>Health</th>
          </>
        }
        row={(s) => (
          <tr key={s.uuid} data-scanner={s.name}>
            <td>
              <input
                type="radio"
                name="project-scanner"
                aria-label={s.name}
                checked={chosen === s.uuid}
                disabled={s.disabled}
                onChange={() => setChosen(s.uuid)}
              />
            </td>
            <td>
              {s.name} {s.is_default ? <span className="badge badge-ok">Default</span> : null}
            </td>
            <td className="hide-narrow">{s.url}</td>
            <td>{s.health ?? '—'}</td>
          </tr>
        )}
      />
      <ErrorNote error={save.error} title="Select scanner" />
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="btn btn-primary"
          disabled={!chosen || chosen === props.current || save.isPending}
          onClick={() => save.mutate(chosen, { onSuccess: props.onClose })}
        >
          OK
        </button>
      </div>
    </Dialog>
  );
}
