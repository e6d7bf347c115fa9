import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { Bar, BarChart, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { usePagedList } from '../../api/hooks';
import { projectChoicesQuery } from '../../api/projects';
import { SEVERITIES, type Severity } from '../../api/scans';
import {
  hubVulnerabilityList,
  securitySummaryQuery,
  type HubFilters,
  type SecuritySummary,
} from '../../api/security';
import { ListPage } from '../../components/list-page';
import { Field, QueryState, shortDigest } from '../../components/ui';
import { artifactUrl } from '../repository/artifacts-table';
import { SEVERITY_COLORS, SeverityBadge } from '../shared/severity-bar';

/** The security hub, as Harbor's: the registry's vulnerabilities summed by severity, then searched. */
export function SecurityHubTab() {
  const summary = useQuery(securitySummaryQuery());
  return (
    <>
      <QueryState query={summary}>{(s) => <Summary s={s} />}</QueryState>
      <VulnerabilityList />
    </>
  );
}

const COUNT: Record<Severity, keyof SecuritySummary> = {
  Critical: 'critical_cnt',
  High: 'high_cnt',
  Medium: 'medium_cnt',
  Low: 'low_cnt',
  None: 'none_cnt',
  Unknown: 'unknown_cnt',
};

function Summary({ s }: { s: SecuritySummary }) {
  const data = SEVERITIES.map((sev) => ({ severity: sev, count: s[COUNT[sev]] as number }));
  return (
    <div className="cards">
      <section className="card" aria-label="Vulnerability summary">
        <h2>Vulnerabilities</h2>
        <p data-testid="hub-totals">
          {s.scanned_cnt} of {s.total_artifact} artifacts scanned · {s.total_vuls} vulnerabilities ·{' '}
          {s.fixable_cnt} fixable
        </p>
        <div role="img" aria-label={data.map((d) => `${d.count} ${d.severity}`).join(', ')}>
          <ResponsiveContainer width="100%" height={180}>
            <BarChart data={data} layout="vertical" margin={{ left: 16 }}>
              <XAxis type="number" allowDecimals={false} />
              <YAxis type="category" dataKey="severity" width={70} />
              <Tooltip />
              <Bar dataKey="count" isAnimationActive={false} maxBarSize={18}>
                {data.map((d) => (
                  <Cell key={d.severity} fill={SEVERITY_COLORS[d.severity]} />
                ))}
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        </div>
      </section>
      <section className="card" aria-label="Most dangerous artifacts">
        <h2>Top 5 most dangerous artifacts</h2>
        {s.dangerous_artifacts?.length ? (
          <ol>
            {s.dangerous_artifacts.map((a) => (
              <li key={`${a.repository_name}@${a.digest}`}>
                <Link
                  to={artifactUrl(a.project_id, a.repository_name.split('/').slice(1).join('/'), a.digest)}
                >
                  {a.repository_name}@{shortDigest(a.digest)}
                </Link>{' '}
                <span className="muted">
                  {a.critical_cnt} Critical, {a.high_cnt} High, {a.medium_cnt} Medium
                </span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">None.</p>
        )}
      </section>
      <section className="card" aria-label="Most dangerous CVEs">
        <h2>Top 5 most dangerous CVEs</h2>
        {s.dangerous_cves?.length ? (
          <ol>
            {s.dangerous_cves.map((c) => (
              <li key={`${c.cve_id} ${c.package} ${c.version}`}>
                <code>{c.cve_id}</code> <SeverityBadge severity={c.severity} />{' '}
                <span className="muted">
                  {c.package} {c.version} · CVSS3 {c.cvss_score_v3 || '—'}
                </span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">None.</p>
        )}
      </section>
    </div>
  );
}

const TEXT_FILTERS: [keyof HubFilters, string][] = [
  ['cve_id', 'CVE ID'],
  ['repository_name', 'Repository'],
  ['package', 'Package'],
  ['tag', 'Tag'],
];

const CVSS_FILTERS: [keyof HubFilters, string][] = [
  ['cvss_from', 'CVSS3 from'],
  ['cvss_to', 'CVSS3 to'],
];

/** Harbor's filters: CVE id, severity, CVSS3 range, project, repository, package, tag (all exact). */
function VulnerabilityList() {
  const [filters, setFilters] = useState<HubFilters>({});
  const projects = useQuery(projectChoicesQuery());
  const list = usePagedList(hubVulnerabilityList(filters));
  const set = (k: keyof HubFilters, v: string) => {
    setFilters((f) => ({ ...f, [k]: v || undefined }));
    list.setPage(1);
  };
  return (
    <section aria-label="Vulnerabilities">
      <h2>Vulnerabilities</h2>
      <div className="filter-row">
        {TEXT_FILTERS.map(([k, label]) => (
          <Field key={k} label={label}>
            {(id) => <input id={id} value={filters[k] ?? ''} onChange={(e) => set(k, e.target.value)} />}
          </Field>
        ))}
        <Field label="Severity">
          {(id) => (
            <select id={id} value={filters.severity ?? ''} onChange={(e) => set('severity', e.target.value)}>
              <option value="">Any</option>
              {SEVERITIES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          )}
        </Field>
        {CVSS_FILTERS.map(([k, label]) => (
          <Field key={k} label={label}>
            {(id) => (
              <input
                id={id}
                type="number"
                min={0}
                max={10}
                step={0.1}
                value={filters[k] ?? ''}
                onChange={(e) => set(k, e.target.value)}
              />
            )}
          </Field>
        ))}
        <Field label="Project">
          {(id) => (
            <select
              id={id}
              value={filters.project_id ?? ''}
              onChange={(e) => set('project_id', e.target.value)}
            >
              <option value="">Any</option>
              {(projects.data ?? []).map((p) => (
                <option key={p.project_id} value={String(p.project_id)}>
                  {p.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <ListPage
        list={list}
        tableLabel="Security hub vulnerabilities"
        empty="No vulnerability matches."
        columns={
          <>
            <th>CVE ID</th>
            <th>Repository</th>
            <th>Digest</th>
            <th>Tags</th>
            <th>CVSS3</th>
            <th>Severity</th>
            <th>Package</th>
            <th>Current version</th>
            <th>Fixed in version</th>
          </>
        }
        row={(v) => (
          <tr key={`${v.cve_id} ${v.repository_name} ${v.digest} ${v.package} ${v.version}`}>
            <td>
              {v.links[0] ? (
                <a href={v.links[0]} target="_blank" rel="noreferrer noopener">
                  {v.cve_id}
                </a>
              ) : (
                v.cve_id
              )}
            </td>
            <td>{v.repository_name}</td>
            <td>
              <Link to={artifactUrl(v.project_id, v.repository_name.split('/').slice(1).join('/'), v.digest)}>
                <code>{shortDigest(v.digest)}</code>
              </Link>
            </td>
            <td>{(v.tags ?? []).join(', ')}</td>
            <td className="num">{v.cvss_v3_score || '—'}</td>
            <td>
              <SeverityBadge severity={v.severity} />
            </td>
            <td>{v.package}</td>
            <td>{v.version}</td>
            <td>{v.fixed_version || '—'}</td>
          </tr>
        )}
      />
    </section>
  );
}
