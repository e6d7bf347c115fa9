import type { ProjectMetadata } from '../../api/types';
import { Field } from '../../components/ui';

/** The proxy-cache settings a proxy project's configuration edits (docs/proxy-cache.md). */
export const proxyKeys = [
  'proxy_cache_check_seconds',
  'proxy_cache_stale_minutes',
  'proxy_speed_kb',
  'max_upstream_conn',
] as const;
export type ProxyKey = (typeof proxyKeys)[number];
export type ProxyValues = Record<ProxyKey, string> & {
  proxy_cache_local_on_not_found: boolean;
  /** Harbor's repository filter: only upstream repositories matching it are served (empty: all). */
  proxy_cache_filter_pattern: string;
  proxy_cache_filter_kind: 'doublestar' | 'regex';
  /** Harbor's `proxy_referrer_api`: the referrers API asks the upstream. */
  proxy_referrer_api: boolean;
};

const fields: { key: ProxyKey; label: string; hint: string }[] = [
  {
    key: 'proxy_cache_check_seconds',
    label: 'Tag check window (seconds)',
    hint: 'A tag checked at the upstream this recently is served without asking again. Empty: 60. 0: ask on every pull.',
  },
  {
    key: 'proxy_cache_stale_minutes',
    label: 'Serve stale for at most (minutes)',
    hint: 'While the upstream is unavailable, a cached tag is served if its last check is this recent. Empty: no limit. 0: never.',
  },
  {
    key: 'proxy_speed_kb',
    label: 'Bandwidth from the upstream (Kbps)',
    hint: 'Kilobits a second (× 128 bytes, as Harbor), shared by all downloads of the project. Empty: unlimited.',
  },
  {
    key: 'max_upstream_conn',
    label: 'Max upstream connections',
    hint: 'Downloads the project may have open at the upstream at once; a pull beyond them gets 429. Empty: no limit.',
  },
];

/** The form's values from the project's metadata: a negative (Harbor's -1) or absent value shows empty. */
export function proxyValues(m: ProjectMetadata): ProxyValues {
  const shown = (v: string | undefined) => (v === undefined || v === '' || Number(v) < 0 ? '' : v);
  return {
    proxy_cache_check_seconds: shown(m.proxy_cache_check_seconds),
    proxy_cache_stale_minutes: shown(m.proxy_cache_stale_minutes),
    proxy_speed_kb: shown(m.proxy_speed_kb),
    max_upstream_conn: shown(m.max_upstream_conn),
    proxy_cache_local_on_not_found: m.proxy_cache_local_on_not_found === 'true',
    proxy_cache_filter_pattern: m.proxy_cache_filter_pattern ?? '',
    proxy_cache_filter_kind: m.proxy_cache_filter_kind === 'regex' ? 'regex' : 'doublestar',
    proxy_referrer_api: m.proxy_referrer_api === 'true',
  };
}

/** The metadata to save: an empty field is -1 (no limit, or the default window). */
export function proxyMetadata(v: ProxyValues): Record<string, string> {
  const out: Record<string, string> = {
    proxy_cache_local_on_not_found: String(v.proxy_cache_local_on_not_found),
    proxy_cache_filter_pattern: v.proxy_cache_filter_pattern.trim(),
    proxy_cache_filter_kind: v.proxy_cache_filter_kind,
    proxy_referrer_api: String(v.proxy_referrer_api),
  };
  for (const key of proxyKeys) out[key] = v[key].trim() === '' ? '-1' : v[key].trim();
  return out;
}

/** The first field that is not a whole number of 0 or more, as a message. */
export function proxyError(v: ProxyValues): string | null {
  const bad = fields.find((f) => v[f.key].trim() !== '' && !/^\d{1,9}$/.test(v[f.key].trim()));
  return bad ? `${bad.label}: enter a whole number of 0 or more, or leave it empty` : null;
}

/** The Proxy Cache fieldset of a proxy project's configuration. */
export function ProxyCacheFields(props: { values: ProxyValues; onChange: (v: ProxyValues) => void }) {
  const { values, onChange } = props;
  return (
    <fieldset aria-label="Proxy Cache" style={{ border: 0, padding: 0, margin: '16px 0 0' }}>
      <h3>Proxy Cache</h3>
      {fields.map((f) => (
        <Field key={f.key} label={f.label} hint={f.hint}>
          {(id) => (
            <input
              id={id}
              name={f.key}
              inputMode="numeric"
              value={values[f.key]}
              onChange={(e) => onChange({ ...values, [f.key]: e.target.value })}
            />
          )}
        </Field>
      ))}
      <label className="check">
        <input
          type="checkbox"
          name="proxy_cache_local_on_not_found"
          checked={values.proxy_cache_local_on_not_found}
          onChange={(e) => onChange({ ...values, proxy_cache_local_on_not_found: e.target.checked })}
        />
        Serve the cached copy when the upstream no longer has the tag
      </label>
      <Field
        label="Repository filter"
        hint="Only upstream repositories matching it are served (e.g. library/** or bitnami/*); others answer 404. Empty: all."
      >
        {(id) => (
          <input
            id={id}
            name="proxy_cache_filter_pattern"
            value={values.proxy_cache_filter_pattern}
            onChange={(e) => onChange({ ...values, proxy_cache_filter_pattern: e.target.value })}
          />
        )}
      </Field>
      <Field
        label="Filter kind"
        hint="doublestar: * stays within a path segment, ** spans them; regex: the whole name."
      >
        {(id) => (
          <select
            id={id}
            name="proxy_cache_filter_kind"
            value={values.proxy_cache_filter_kind}
            onChange={(e) =>
              onChange({
                ...values,
                proxy_cache_filter_kind: e.target.value === 'regex' ? 'regex' : 'doublestar',
              })
            }
          >
            <option value="doublestar">doublestar</option>
            <option value="regex">regex</option>
          </select>
        )}
      </Field>
      <label className="check">
        <input
          type="checkbox"
          name="proxy_referrer_api"
          checked={values.proxy_referrer_api}
          onChange={(e) => onChange({ ...values, proxy_referrer_api: e.target.checked })}
        />
        Ask the upstream for referrers (signatures, SBOMs)
      </label>
    </fieldset>
  );
}
