import { AppError } from '../../lib/errors.js';
import { doublestar, patternProblem } from '../policies/doublestar.js';

/** Harbor's preheat filter: `{"type": "repository", "value": "**"}`, as the API's `filters` JSON carries it. */
export interface PreheatFilter {
  type: string;
  value: unknown;
}

/** One artifact under one of its tags, as a policy's filters see it (Harbor's selector candidate). */
export interface PreheatCandidate {
  /** The repository without the project (`library/a/b` is `a/b`). */
  repository: string;
  digest: string;
  tag: string;
  labels: string[];
  /** Harbor's severity code of the latest successful scan (None 0 … Critical 5), 99 when not scanned. */
  severity: number;
  /** Has a signature accessory (cosign or notation). */
  signed: boolean;
  /** Harbor's artifact type in lower case (`image`). */
  kind: string;
}

/** Harbor's code for an artifact without a successful scan: every vulnerability filter excludes it. */
export const unscannedSeverity = 99;

const order: Record<string, number> = { repository: 0, tag: 1, label: 2, signature: 3, vulnerability: 4 };

/** Parses and checks a policy's `filters` JSON; BAD_REQUEST names what is wrong. */
export function parseFilters(text: string): PreheatFilter[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('BAD_REQUEST', `invalid filters of preheat policy: ${text}`);
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new AppError('BAD_REQUEST', 'filters of preheat policy must be a list');
  return parsed.map((f: unknown) => {
    if (!f || typeof f !== 'object') throw new AppError('BAD_REQUEST', 'nil policy filter object');
    const { type, value } = f as { type?: unknown; value?: unknown };
    if (typeof type !== 'string' || !(type in order))
      throw new AppError('BAD_REQUEST', `unknown filter type: ${String(type)}`);
    if (value === undefined || value === null)
      throw new AppError('BAD_REQUEST', `pattern value is missing for filter: ${type}`);
    const expected = type === 'signature' ? 'boolean' : type === 'vulnerability' ? 'number' : 'string';
    if (typeof value !== expected)
      throw new AppError('BAD_REQUEST', `invalid ${expected} pattern format for filter: ${type}`);
    if ((type === 'repository' || type === 'tag') && typeof value === 'string') {
      const problem = patternProblem(value);
      if (problem) throw new AppError('BAD_REQUEST', `invalid ${type} filter pattern ${value}: ${problem}`);
    }
    return { type, value };
  });
}

/**
 * Applies filters in Harbor's fixed order (repository, tag, label, signature, vulnerability): doublestar
 * patterns on the repository (without the project) and the tag, all of a comma-separated label list,
 * signed when asked, and a severity strictly below the filter's code.
 */
export function applyFilters(
  filters: readonly PreheatFilter[],
  candidates: PreheatCandidate[],
): PreheatCandidate[] {
  const sorted = [...filters].sort((a, b) => order[a.type]! - order[b.type]!);
  let out = candidates;
  for (const f of sorted) {
    if (out.length === 0) break;
    out = out.filter(selector(f));
  }
  return out;
}

function selector(f: PreheatFilter): (c: PreheatCandidate) => boolean {
  switch (f.type) {
    case 'repository': {
      const match = doublestar(f.value as string);
      return (c) => match(c.repository);
    }
    case 'tag': {
      const match = doublestar(f.value as string);
      return (c) => match(c.tag);
    }
    case 'label': {
      const wanted = (f.value as string).split(',').filter((l) => l !== '');
      return (c) => wanted.every((l) => c.labels.includes(l));
    }
    case 'signature':
      return (c) => !(f.value as boolean) || c.signed;
    default: {
      const below = f.value as number;
      return (c) => c.severity < below;
    }
  }
}
