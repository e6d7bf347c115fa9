import { AppError } from '../../lib/errors.js';
import { doublestar, patternProblem } from '../policies/doublestar.js';

/**
 * Harbor's proxy-cache repository filter (`proxy_cache_filter_pattern` / `proxy_cache_filter_kind`,
 * src/lib/pattern in Harbor): only upstream repositories matching the pattern are served by the project.
 * `doublestar` (the default kind) is a glob where `*` stays inside one path segment; `regex` must match
 * the whole name. An empty pattern allows every repository.
 */
export type FilterKind = 'doublestar' | 'regex';

/** Why `pattern` is not valid for `kind` (empty kind = doublestar), or undefined when it is. */
export function filterProblem(pattern: string, kind: string): string | undefined {
  const p = pattern.trim();
  if (p === '') return undefined;
  if (kind === 'regex') {
    try {
      new RegExp(`^(?:${p})$`);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (kind === 'doublestar' || kind === '') return patternProblem(p);
  return `unsupported repository filter kind "${kind.slice(0, 40)}"`;
}

/**
 * The test a project's filter puts on upstream repository names; undefined when it allows all. An invalid
 * pattern (stored before it was checked) matches nothing, as in Harbor.
 */
export function repositoryFilter(
  pattern: string | undefined,
  kind: string | undefined,
): ((repository: string) => boolean) | undefined {
  const p = (pattern ?? '').trim();
  if (p === '') return undefined;
  if (filterProblem(p, kind ?? '') !== undefined) return () => false;
  if (kind === 'regex') {
    const re = new RegExp(`^(?:${p})$`);
    return (repository) => re.test(repository);
  }
  return doublestar(p);
}

/** Harbor's answer to a pull of a repository outside the project's filter (404 NOT_FOUND). */
export function filteredOut(repository: string): AppError {
  return new AppError('NOT_FOUND', `repository "${repository}" does not match project repository filter`);
}

/**
 * Harbor's check of the filter in a project's create or update body: when either key is given, the kind
 * must be named and the pattern valid for it (validateProxyCacheRepositoryFilter).
 */
export function assertFilterSettings(metadata: Record<string, string>): void {
  const pattern = metadata.proxy_cache_filter_pattern ?? '';
  const kind = metadata.proxy_cache_filter_kind ?? '';
  if (pattern === '' && kind === '') return;
  if (kind !== 'doublestar' && kind !== 'regex')
    throw new AppError(
      'BAD_REQUEST',
      `metadata.proxy_cache_filter_kind should be "doublestar" or "regex", but got: "${kind.slice(0, 40)}"`,
    );
  const problem = filterProblem(pattern, kind);
  if (problem)
    throw new AppError(
      'BAD_REQUEST',
      `metadata.proxy_cache_filter_pattern is invalid for kind "${kind}": ${problem}`,
    );
}

/**
 * Harbor's checks of one filter key set through /projects/{p}/metadatas: only proxy-cache projects take
 * them, a pattern must be valid for the kind given beside it or already stored (doublestar when none),
 * and a new kind must suit the pattern already stored.
 */
export function assertFilterMetadata(
  isProxy: boolean,
  values: Record<string, string>,
  current: Record<string, string>,
): void {
  const pattern = values.proxy_cache_filter_pattern;
  const kind = values.proxy_cache_filter_kind;
  if (pattern === undefined && kind === undefined) return;
  if (!isProxy)
    throw new AppError('BAD_REQUEST', 'can not update the normal project with proxy cache filter metadata');
  if (pattern !== undefined) {
    const k = kind || current.proxy_cache_filter_kind || 'doublestar';
    const problem = filterProblem(pattern, k);
    if (problem)
      throw new AppError('BAD_REQUEST', `invalid proxy_cache_filter_pattern: "${pattern}", err: ${problem}`);
  } else if (kind !== undefined) {
    const stored = current.proxy_cache_filter_pattern ?? '';
    const problem = stored === '' ? undefined : filterProblem(stored, kind || 'doublestar');
    if (problem)
      throw new AppError(
        'BAD_REQUEST',
        `existing proxy_cache_filter_pattern "${stored}" is invalid for new kind "${kind || 'doublestar'}": ${problem}`,
      );
  }
}

/** Harbor refuses to remove the kind while a pattern depends on it. */
export function assertFilterKindRemovable(name: string, current: Record<string, string>): void {
  if (name === 'proxy_cache_filter_kind' && (current.proxy_cache_filter_pattern ?? '') !== '')
    throw new AppError(
      'BAD_REQUEST',
      'cannot delete proxy_cache_filter_kind when proxy_cache_filter_pattern is not empty, please clear the pattern first',
    );
}
