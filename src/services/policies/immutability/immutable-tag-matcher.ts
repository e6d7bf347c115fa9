import { AppError } from '../../../lib/errors.js';
import { splitRepositoryName } from '../../../oci/names.js';
import { compileImmutableRule, type ImmutableRule } from './immutable-rule.js';

/** What a refused change was: Harbor words a push and a delete/move of a protected tag differently. */
export type RefusedChange = 'push' | 'delete' | 'update';

/**
 * Harbor's 412 PRECONDITION for a change to a protected tag, naming `<repository>:<tag>` with the
 * repository without its project, as Harbor's messages do: the registry middleware's words for a push,
 * the tag controller's for a delete (of the tag or of its artifact) and an update (a copy moving it).
 */
export function immutableTagError(change: RefusedChange, repository: string, tag: string): AppError {
  const name = `${splitRepositoryName(repository).rest}:${tag}`;
  return new AppError(
    'PRECONDITION',
    change === 'push'
      ? `Failed to process request due to '${name}' configured as immutable.`
      : `the tag ${name} configured as immutable, cannot be ${change === 'delete' ? 'deleted' : 'updated'}`,
  );
}

/** The enabled immutability rules of one project, compiled: which tags they protect. */
export class ImmutableTagMatcher {
  private readonly rules: ((repository: string, tag: string) => boolean)[];

  constructor(rules: readonly ImmutableRule[]) {
    this.rules = rules.filter((r) => !r.disabled).map(compileImmutableRule);
  }

  /** True when no rule is enabled: nothing is protected. */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Whether `tag` of `repository` (the full name, `<project>/<rest>`) is protected. */
  protects(repository: string, tag: string): boolean {
    if (this.rules.length === 0) return false;
    const rest = splitRepositoryName(repository).rest;
    return this.rules.some((rule) => rule(rest, tag));
  }

  /** The protected ones among `tags` of `repository`, in the given order. */
  protectedTags(repository: string, tags: Iterable<string>): string[] {
    return [...tags].filter((t) => this.protects(repository, t));
  }

  /** Throws the PRECONDITION for the first protected tag among `tags`. */
  assertUnprotected(change: RefusedChange, repository: string, tags: Iterable<string>): void {
    const first = this.protectedTags(repository, tags)[0];
    if (first !== undefined) throw immutableTagError(change, repository, first);
  }
}
