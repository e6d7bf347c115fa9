import picomatch from 'picomatch';

/** Longest pattern a selector takes. */
export const maxPatternLength = 1024;

/**
 * Harbor's `doublestar` selector patterns (as Go's doublestar matches them): `*` and `?` stay inside one
 * path segment, `**` spans segments, `[...]` classes and `{a,b}` alternatives. An empty pattern matches
 * everything, as in Harbor.
 */
export function doublestar(pattern: string): (value: string) => boolean {
  if (pattern === '') return () => true;
  const match = picomatch(pattern, { dot: true, strictBrackets: true });
  return (value) => match(value);
}

/** Why `pattern` is not a valid doublestar pattern, or undefined when it is. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length > maxPatternLength) return `is longer than ${maxPatternLength} characters`;
  if (/(^|[^\\])(\\\\)*\\$/.test(pattern)) return 'ends with an unfinished escape "\\"';
  try {
    picomatch(pattern, { dot: true, strictBrackets: true });
    return undefined;
  } catch (err) {
    return `is not a valid doublestar pattern (${(err as Error).message.split(' - ')[0]})`;
  }
}
