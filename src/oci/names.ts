import { AppError } from '../lib/errors.js';

/** Repository name grammar of the OCI distribution spec; nested paths allowed. */
const component = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const nameRe = new RegExp(`^${component}(?:/${component})*$`);
const tagRe = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export const maxRepositoryNameLength = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= maxRepositoryNameLength && nameRe.test(name);
}

export function assertRepositoryName(name: string): void {
  if (!isRepositoryName(name)) {
    throw new AppError('NAME_INVALID', `invalid repository name "${name.slice(0, 300)}"`);
  }
}

export function isTag(value: string): boolean {
  return tagRe.test(value);
}

export function assertTag(value: string): void {
  if (!isTag(value)) throw new AppError('TAG_INVALID', `invalid tag "${value.slice(0, 200)}"`);
}

/** The project is the first path segment of a repository name. */
export function splitRepositoryName(name: string): { project: string; rest: string } {
  const slash = name.indexOf('/');
  return slash < 0
    ? { project: name, rest: '' }
    : { project: name.slice(0, slash), rest: name.slice(slash + 1) };
}
