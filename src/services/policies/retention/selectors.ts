import { doublestar } from '../doublestar.js';
import type { Selector } from './policy.js';

const compiled = new Map<string, (value: string) => boolean>();

/** Matches a (checked) doublestar pattern; compiled matchers are kept, patterns repeat across candidates. */
function globMatch(pattern: string, value: string): boolean {
  let match = compiled.get(pattern);
  if (!match) {
    if (compiled.size > 1000) compiled.clear();
    match = doublestar(pattern);
    compiled.set(pattern, match);
  }
  return match(value);
}

/** Whether a tag selector chooses an artifact with these tags (Harbor's doublestar selector). */
export function tagSelected(s: Selector, tags: readonly string[]): boolean {
  // Harbor's default: `matches` chooses untagged artifacts, `excludes` does not exclude them.
  let untagged = s.decoration !== 'excludes';
  if (s.extras) {
    const extras = JSON.parse(s.extras) as { untagged?: boolean };
    if (typeof extras.untagged === 'boolean') untagged = extras.untagged;
  }
  if (tags.length === 0) return s.decoration === 'excludes' ? !untagged : untagged;
  return s.decoration === 'excludes'
    ? tags.some((t) => !globMatch(s.pattern, t))
    : tags.some((t) => globMatch(s.pattern, t));
}

/**
 * Whether repository selectors choose a repository. Like Harbor, the pattern sees the name without the
 * project (`library/a/b` is matched as `a/b`); every selector must choose it.
 */
export function repositorySelected(selectors: readonly Selector[], repository: string): boolean {
  const slash = repository.indexOf('/');
  const name = slash < 0 ? repository : repository.slice(slash + 1);
  return selectors.every((s) => {
    const matched = globMatch(s.pattern, name);
    return s.decoration === 'repoExcludes' ? !matched : matched;
  });
}

/** Every tag selector of a rule must choose the artifact (Harbor chains them). */
export function tagsSelected(selectors: readonly Selector[], tags: readonly string[]): boolean {
  return selectors.every((s) => tagSelected(s, tags));
}
