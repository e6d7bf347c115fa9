import picomatch from 'picomatch';
import { z } from 'zod';
import { AppError } from '../../lib/errors.js';

/** Harbor's ReplicationFilter: name and tag are doublestar patterns, label a list of label names. */
export const replicationFilter = z
  .object({
    type: z.enum(['name', 'tag', 'label', 'resource']),
    value: z.union([z.string(), z.array(z.string())]),
    decoration: z.enum(['matches', 'excludes']).optional(),
  })
  .strict();
export type ReplicationFilter = z.infer<typeof replicationFilter>;

export interface CandidateArtifact {
  tags: string[];
  labels?: string[];
  mediaType?: string;
}

/** The filters of a policy, compiled once per execution. */
export interface CompiledFilters {
  /** The name filter, applied to the source repository name. */
  repository(name: string): boolean;
  /** The tags of `artifact` to replicate; [] = skip it. Untagged artifacts pass only with no tag filter. */
  tags(artifact: CandidateArtifact): string[] | 'untagged' | null;
}

const glob = (pattern: string) => picomatch(pattern, { dot: true });
const imageTypes =
  /(docker\.distribution\.manifest|oci\.image\.(manifest|index)|docker\.distribution\.manifest\.list)/;

export function compileFilters(filters: ReplicationFilter[]): CompiledFilters {
  const single = (type: ReplicationFilter['type']) => filters.find((f) => f.type === type);
  const text = (f: ReplicationFilter | undefined) => {
    if (!f) return undefined;
    if (typeof f.value !== 'string') throw new AppError('BAD_REQUEST', `the ${f.type} filter takes a string`);
    return f.value.trim() === '' ? undefined : f.value.trim();
  };
  const name = text(single('name'));
  const tagFilter = single('tag');
  const tag = text(tagFilter);
  const labelFilter = single('label');
  const labels = labelFilter
    ? Array.isArray(labelFilter.value)
      ? labelFilter.value
      : [labelFilter.value]
    : [];
  const resource = text(single('resource')) ?? 'all';
  if (!['image', 'artifact', 'all', 'chart'].includes(resource)) {
    throw new AppError('BAD_REQUEST', `unknown resource type "${resource}"; use image, artifact or all`);
  }
  const nameMatch = name ? glob(name) : () => true;
  const tagMatch = tag ? glob(tag) : undefined;
  const tagExcludes = tagFilter?.decoration === 'excludes';
  const labelExcludes = labelFilter?.decoration === 'excludes';

  return {
    repository: (repo) => nameMatch(repo),
    tags(artifact) {
      if (resource === 'image' && artifact.mediaType && !imageTypes.test(artifact.mediaType)) return null;
      if (labels.length > 0) {
        const have = new Set(artifact.labels ?? []);
        const ok = labelExcludes ? labels.every((l) => !have.has(l)) : labels.every((l) => have.has(l));
        if (!ok) return null;
      }
      if (artifact.tags.length === 0) return tagMatch ? null : 'untagged';
      if (!tagMatch) return artifact.tags;
      const kept = artifact.tags.filter((t) => tagMatch(t) !== tagExcludes);
      return kept.length > 0 ? kept : null;
    },
  };
}

/**
 * Harbor's destination naming. With no destination namespace the name is kept. `replaceCount` < 0 is
 * "flatten all levels" (namespace + last component); n >= 0 drops the first n components of the source
 * name and puts the namespace in front (0 = no flattening: namespace + the whole name).
 */
export function destinationRepository(repository: string, namespace: string, replaceCount: number): string {
  const ns = namespace.replace(/^\/+|\/+$/g, '');
  if (ns === '') return repository;
  const parts = repository.split('/');
  if (replaceCount < 0) return `${ns}/${parts.at(-1)!}`;
  if (replaceCount > parts.length - 1) {
    throw new AppError(
      'BAD_REQUEST',
      `the source repository ${repository} has only ${parts.length - 1} path component(s) before its last one, but the destination namespace flattening level is ${replaceCount}`,
    );
  }
  return [ns, ...parts.slice(replaceCount)].join('/');
}
