import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { artifactQuery } from '../../api/artifacts';
import type { Artifact } from '../../api/types';
import { CopyLine, ErrorNote, formatBytes, formatTime, Spinner } from '../../components/ui';
import { useRegistryHost } from '../project/push-command-menu';
import { ArtifactIcon, artifactKind } from '../repository/artifact-kind';
import type { RepoContext } from '../repository/repository-page';
import { AccessoriesSection, BuildHistorySection, ChildrenSection } from './artifact-sections';
import { VulnerabilitiesSection } from './vulnerabilities-section';
import { ArtifactLabelsSection } from './artifact-labels';
import { TagsSection } from './tags-section';

const TABS = ['Overview', 'Tags', 'Build History', 'Labels', 'Accessories', 'Vulnerabilities'] as const;
type Tab = (typeof TABS)[number] | 'Children';

export function ArtifactPage(props: RepoContext & { reference: string }) {
  const { project, repo, reference } = props;
  const host = useRegistryHost();
  const artifactRef = { projectName: project.name, repo, reference };
  const artifact = useQuery(artifactQuery(artifactRef));
  const [tab, setTab] = useState<Tab>('Overview');
  const a = artifact.data;
  const isIndex = a ? artifactKind(a) === 'index' : false;
  const tabs: Tab[] = isIndex
    ? ['Overview', 'Children', ...TABS.slice(1).filter((t) => t !== 'Build History')]
    : [...TABS];
  return (
    <>
      <div className="breadcrumb">
        <Link to="/harbor/projects">Projects</Link> /{' '}
        <Link to={`/harbor/projects/${project.project_id}/repositories`}>{project.name}</Link> /{' '}
        <Link to={`/harbor/projects/${project.project_id}/repositories/${repo}/artifacts-tab`}>{repo}</Link> /
      </div>
      <h1 className="row">
        {a ? <ArtifactIcon artifact={a} /> : null}
        <code className="digest-title">{reference}</code>
      </h1>
      {artifact.isLoading ? <Spinner /> : null}
      <ErrorNote error={artifact.error} title="Could not load the artifact" />
      {a ? (
        <>
          <div className="tabs" role="tablist" aria-label="Artifact">
            {tabs.map((t) => (
              <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
                {t}
              </button>
            ))}
          </div>
          <div role="tabpanel" aria-label={tab}>
            {tab === 'Overview' ? (
              <section className="card">
                <dl className="facts">
                  <dt>Digest</dt>
                  <dd>
                    <CopyLine text={a.digest} testId="artifact-digest" />
                  </dd>
                  <dt>Type</dt>
                  <dd>{a.type ?? '—'}</dd>
                  <dt>Media type</dt>
                  <dd>{a.manifest_media_type ?? a.media_type}</dd>
                  <dt>Size</dt>
                  <dd>{formatBytes(a.size)}</dd>
                  <dt>Platform</dt>
                  <dd>{platformOf(a)}</dd>
                  <dt>Push time</dt>
                  <dd>{formatTime(a.push_time)}</dd>
                  <dt>Pull time</dt>
                  <dd>{formatTime(a.pull_time)}</dd>
                  <dt>Pull command</dt>
                  <dd>
                    <CopyLine text={`docker pull ${host}/${project.name}/${repo}@${a.digest}`} />
                  </dd>
                </dl>
              </section>
            ) : null}
            {tab === 'Tags' ? <TagsSection ctx={props} artifact={a} artifactRef={artifactRef} /> : null}
            {tab === 'Build History' ? <BuildHistorySection artifactRef={artifactRef} /> : null}
            {tab === 'Labels' ? (
              <ArtifactLabelsSection ctx={props} artifact={a} artifactRef={artifactRef} />
            ) : null}
            {tab === 'Accessories' ? <AccessoriesSection ctx={props} artifact={a} /> : null}
            {tab === 'Children' ? <ChildrenSection ctx={props} artifact={a} /> : null}
            {tab === 'Vulnerabilities' ? (
              <VulnerabilitiesSection ctx={props} artifactRef={artifactRef} artifact={a} />
            ) : null}
          </div>
        </>
      ) : null}
    </>
  );
}

function platformOf(a: Artifact): string {
  const x = a.extra_attrs ?? {};
  const os = typeof x.os === 'string' ? x.os : undefined;
  const arch = typeof x.architecture === 'string' ? x.architecture : undefined;
  return os || arch ? [os, arch].filter(Boolean).join('/') : '—';
}
