import { AppError } from '../../lib/errors.js';

/**
 * Harbor's project metadata: string key/values. `public` lives on the project row as well (the registry
 * reads it on every pull); the rest are stored as given, after checking each value's form.
 */
const booleans = [
  'public',
  'enable_content_trust',
  'enable_content_trust_cosign',
  'prevent_vul',
  'auto_scan',
  'auto_sbom_generation',
  'reuse_sys_cve_allowlist',
  'proxy_cache_local_on_not_found',
  'proxy_referrer_api',
] as const;
const integers = [
  'retention_id',
  'proxy_speed_kb',
  'max_upstream_conn',
  // Berth's own: how long a cached tag may be served while its upstream cannot be asked (docs/proxy-cache.md).
  'proxy_cache_stale_minutes',
  // Berth's own: how long an upstream check of a cached tag stands before the next pull asks again.
  'proxy_cache_check_seconds',
] as const;
const severities = ['none', 'unknown', 'negligible', 'low', 'medium', 'high', 'critical'];

export const metadataKeys = [
  ...booleans,
  ...integers,
  'severity',
  'proxy_cache_filter_pattern',
  'proxy_cache_filter_kind',
] as const;
export type MetadataKey = (typeof metadataKeys)[number];

/** Normalises and checks metadata values; a bad one is a BAD_REQUEST naming the key. */
export function checkMetadata(
  input: Partial<Record<string, string | null | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined || raw === null) continue;
    if (!(metadataKeys as readonly string[]).includes(key))
      throw new AppError('BAD_REQUEST', `unknown project metadata "${key}"`);
    const value = String(raw).trim();
    if ((booleans as readonly string[]).includes(key)) {
      const v = value.toLowerCase();
      if (v !== 'true' && v !== 'false')
        throw new AppError(
          'BAD_REQUEST',
          `metadata ${key} must be "true" or "false", got "${value.slice(0, 40)}"`,
        );
      out[key] = v;
    } else if ((integers as readonly string[]).includes(key)) {
      if (!/^-?\d{1,12}$/.test(value))
        throw new AppError('BAD_REQUEST', `metadata ${key} must be an integer, got "${value.slice(0, 40)}"`);
      out[key] = value;
    } else if (key === 'severity') {
      if (!severities.includes(value.toLowerCase()))
        throw new AppError('BAD_REQUEST', `metadata severity must be one of ${severities.join(', ')}`);
      out[key] = value.toLowerCase();
    } else if (key === 'proxy_cache_filter_kind') {
      // Empty is accepted and means doublestar, as in Harbor.
      if (value !== '' && value !== 'doublestar' && value !== 'regex')
        throw new AppError(
          'BAD_REQUEST',
          `invalid proxy_cache_filter_kind: "${value.slice(0, 40)}", must be "doublestar" or "regex"`,
        );
      out[key] = value;
    } else {
      if (value.length > 1024)
        throw new AppError('BAD_REQUEST', `metadata ${key} is longer than 1024 characters`);
      out[key] = value;
    }
  }
  return out;
}
