import { useState } from 'react';
import { Link } from 'react-router';
import { artifactKeys, artifactList, deleteArtifact, type ArtifactRef } from '../../api/artifacts';
import { useAction, usePagedList } from '../../api/hooks';
import { repositoryKeys } from '../../api/repositories';
import { overviewOf, scanArtifact, scanInProgress, stopScanArtifact } from '../../api/scans';
import { ListPage } from '../../components/list-page';
import {
  ConfirmDialog,
  CopyButton,
  ErrorNote,
  formatBytes,
  formatTime,
  shortDigest,
} from '../../components/ui';
import { useRegistryHost } from '../project/push-command-menu';
import { LabelChip } from '../shared/labels-editor';
import { ScanOverviewCell } from '../shared/severity-bar';
import { ArtifactIcon } from './artifact-kind';
import type { RepoContext } from './repository-page';

export function artifactUrl(projectId: number, repo: string, digest: string): string {
  return `/harbor/projects/${projectId}/repositories/${repo}/artifacts-tab/artifacts/${digest}`;
}

/**
 * A page of artifacts at a time with each one's scan; select several to scan, stop their scans or delete
 * them; copy a digest or a pull command. The page refreshes itself while a scan on it is queued or running.
 */
export function ArtifactsTable({ ctx }: { ctx: RepoContext }) {
  const { project, repo } = ctx;
  const host = useRegistryHost();
  const [tagFilter, setTagFilter] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const list = usePagedList(artifactList(project.name, repo, { tags: tagFilter }), {
    poll: (items) => items.some((a) => scanInProgress(overviewOf(a))),
  });
  const eachOf = (fn: (ref: ArtifactRef) => Promise<unknown>) => async (digests: string[]) => {
    for (const d of digests) await fn({ projectName: project.name, repo, reference: d });
  };
  const scan = useAction(eachOf(scanArtifact), [artifactKeys.all(project.name, repo)]);
  const stop = useAction(eachOf(stopScanArtifact), [artifactKeys.all(project.name, repo)]);
  const remove = useAction(
    async (digests: string[]) => {
      for (const d of digests) await deleteArtifact({ projectName: project.name, repo, reference: d });
    },
    [artifactKeys.all(project.name, repo), repositoryKeys.all(project.name)],
  );
  const mayDelete = ctx.can('artifact', 'delete');
  const mayScan = ctx.can('scan', 'create');
  const mayStop = ctx.can('scan', 'stop');
  const selectable = mayDelete || mayScan;
  const chosen = [...selected];
  const items = list.data?.items ?? [];
  const allChecked = items.length > 0 && items.every((a) => selected.has(a.digest));
  const toggle = (d: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(d)) n.delete(d);
      else n.add(d);
      return n;
    });
  return (
    <>
      <ListPage
        list={list}
        actions={
          <>
            {mayScan ? (
              <button
                type="button"
                className="btn"
                disabled={selected.size === 0 || scan.isPending}
                onClick={() => scan.mutate(chosen)}
              >
                Scan
              </button>
            ) : null}
            {mayStop ? (
              <button
                type="button"
                className="btn"
                disabled={selected.size === 0 || stop.isPending}
                onClick={() => stop.mutate(chosen)}
              >
                Stop Scan
              </button>
            ) : null}
            {mayDelete ? (
              <button
                type="button"
                className="btn btn-danger"
                disabled={selected.size === 0}
                onClick={() => setConfirming(true)}
              >
                Delete{selected.size ? ` (${selected.size})` : ''}
              </button>
            ) : null}
          </>
        }
        notes={
          <>
            <ErrorNote error={scan.error} title="Scan" />
            <ErrorNote error={stop.error} title="Stop scan" />
          </>
        }
        search={{
          value: tagFilter,
          onChange: setTagFilter,
          label: 'Filter artifacts by tag',
          placeholder: 'Filter by tag',
        }}
        empty="No artifacts."
        columns={
          <>
            {selectable ? (
              <th>
                <input
                  type="checkbox"
                  aria-label="Select all artifacts on this page"
                  checked={allChecked}
                  onChange={() => setSelected(allChecked ? new Set() : new Set(items.map((a) => a.digest)))}
                />
              </th>
            ) : null}
            <th>Artifact</th>
            <th>Tags</th>
            <th className="num">Size</th>
            <th>Vulnerabilities</th>
            <th className="hide-narrow">Labels</th>
            <th className="hide-narrow">Push Time</th>
            <th className="hide-narrow">Pull Time</th>
            <th>Pull Command</th>
          </>
        }
        row={(a) => {
          const tag = a.tags?.[0]?.name;
          const ref = tag ? `:${tag}` : `@${a.digest}`;
          return (
            <tr key={a.digest} data-digest={a.digest}>
              {selectable ? (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${shortDigest(a.digest)}`}
                    checked={selected.has(a.digest)}
                    onChange={() => toggle(a.digest)}
                  />
                </td>
              ) : null}
              <td>
                <div className="row nowrap">
                  <ArtifactIcon artifact={a} />
                  <Link to={artifactUrl(project.project_id, repo, a.digest)}>
                    <code>{shortDigest(a.digest)}</code>
                  </Link>
                  <CopyButton text={a.digest} label="Copy digest" />
                </div>
                {a.accessories?.length ? (
                  <div className="muted">{a.accessories.length} accessory(ies)</div>
                ) : null}
              </td>
              <td className="tags-cell">
                {(a.tags ?? []).map((t) => (
                  <span key={t.name} className="badge">
                    {t.name}
                  </span>
                ))}
              </td>
              <td className="num">{formatBytes(a.size)}</td>
              <td>
                <ScanOverviewCell overview={overviewOf(a)} />
              </td>
              <td className="hide-narrow">
                {(a.labels ?? []).map((l) => (
                  <LabelChip key={l.id} label={l} />
                ))}
              </td>
              <td className="hide-narrow">{formatTime(a.push_time)}</td>
              <td className="hide-narrow">{formatTime(a.pull_time)}</td>
              <td>
                <CopyButton
                  text={`docker pull ${host}/${project.name}/${repo}${ref}`}
                  label="Copy pull command"
                />
              </td>
            </tr>
          );
        }}
      />
      {confirming ? (
        <ConfirmDialog
          title="Delete artifacts"
          message={`Delete ${selected.size} artifact(s) and all their tags? This cannot be undone.`}
          onConfirm={async () => {
            await remove.mutateAsync([...selected]);
            setSelected(new Set());
          }}
          onClose={() => setConfirming(false)}
        />
      ) : null}
    </>
  );
}
