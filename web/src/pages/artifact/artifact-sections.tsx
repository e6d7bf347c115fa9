import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { buildHistoryQuery, type ArtifactRef } from '../../api/artifacts';
import type { Artifact } from '../../api/types';
import { CopyButton, Empty, formatBytes, formatTime, QueryState, shortDigest } from '../../components/ui';
import { artifactUrl } from '../repository/artifacts-table';
import type { RepoContext } from '../repository/repository-page';

/** What a tab of the artifact page gets: the page's context, the artifact, and where it is in the API. */
export interface ArtifactSectionProps {
  ctx: RepoContext;
  artifact: Artifact;
  artifactRef: ArtifactRef;
}

/** Layers with the commands that made them, from the image config (Harbor's build_history addition). */
export function BuildHistorySection({ artifactRef }: { artifactRef: ArtifactRef }) {
  const history = useQuery(buildHistoryQuery(artifactRef));
  return (
    <QueryState query={history} empty={(h) => !h?.length} emptyText="This artifact has no build history.">
      {(h) => (
        <div className="table-wrap">
          <table aria-label="Build history">
            <thead>
              <tr>
                <th>Created</th>
                <th>Command</th>
              </tr>
            </thead>
            <tbody>
              {h.map((e, i) => (
                <tr key={i}>
                  <td className="nowrap">{formatTime(e.created)}</td>
                  <td>
                    <code className="command">{e.created_by ?? e.comment ?? ''}</code>
                    {e.empty_layer ? <span className="badge">no layer</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </QueryState>
  );
}

/** Signatures, SBOMs and other referrers attached to this artifact. */
export function AccessoriesSection({ ctx, artifact }: { ctx: RepoContext; artifact: Artifact }) {
  const items = artifact.accessories ?? [];
  if (items.length === 0)
    return <Empty>No signatures, SBOMs or other accessories refer to this artifact.</Empty>;
  return (
    <div className="table-wrap">
      <table aria-label="Accessories">
        <thead>
          <tr>
            <th>Digest</th>
            <th>Type</th>
            <th className="num">Size</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {items.map((x) => (
            <tr key={x.digest}>
              <td>
                <Link to={artifactUrl(ctx.project.project_id, ctx.repo, x.digest)}>
                  <code>{shortDigest(x.digest)}</code>
                </Link>{' '}
                <CopyButton text={x.digest} label="Copy digest" />
              </td>
              <td>{x.type}</td>
              <td className="num">{formatBytes(x.size)}</td>
              <td>{formatTime(x.creation_time)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The platform manifests of an image index. */
export function ChildrenSection({ ctx, artifact }: { ctx: RepoContext; artifact: Artifact }) {
  const refs = artifact.references ?? [];
  if (refs.length === 0) return <Empty>This index lists no manifests.</Empty>;
  return (
    <div className="table-wrap">
      <table aria-label="Children">
        <thead>
          <tr>
            <th>Digest</th>
            <th>OS/Arch</th>
          </tr>
        </thead>
        <tbody>
          {refs.map((r) => (
            <tr key={r.child_digest}>
              <td>
                <Link to={artifactUrl(ctx.project.project_id, ctx.repo, r.child_digest)}>
                  <code>{shortDigest(r.child_digest)}</code>
                </Link>
              </td>
              <td>
                {[r.platform?.os, r.platform?.architecture, r.platform?.variant].filter(Boolean).join('/') ||
                  '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
