import { AppError } from '../../../lib/errors.js';

/** Harbor's ceiling for a limited quota: 1024 TiB. */
export const maxStorageLimit = 1_125_899_906_842_624;

/**
 * Checks a storage limit as Harbor does: -1 (no limit) or a whole number of bytes from 1 to 1024 TiB.
 * The 400 names `field` (`storage_limit`, `hard.storage`, `storage_per_project`).
 */
export function assertStorageLimit(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new AppError('BAD_REQUEST', `${field} must be a whole number of bytes, or -1 for no limit`);
  if (value <= 0 && value !== -1)
    throw new AppError(
      'BAD_REQUEST',
      `${field}: invalid non-positive value for quota limit, value=${value} (use -1 for no limit)`,
    );
  if (value > maxStorageLimit)
    throw new AppError(
      'BAD_REQUEST',
      `${field}: exceeded 1024TB, which is ${maxStorageLimit} Bytes, value=${value}`,
    );
  return value;
}

/** Bytes as Harbor prints them in quota messages: "512 B", "1.5 MiB". */
export function formatBytes(value: number): string {
  const unit = 1024;
  if (value < unit) return `${value} B`;
  let div = unit;
  let exp = 0;
  for (let n = Math.floor(value / unit); n >= unit; n = Math.floor(n / unit)) {
    div *= unit;
    exp++;
  }
  return `${(value / div).toFixed(1)} ${'KMGTPE'[exp]}iB`;
}

/** The usage a push would leave, when it would break the limit; undefined when it fits. */
export function overflow(hard: number, used: number, adding: number): { newUsed: number } | undefined {
  if (hard === -1 || adding <= 0) return undefined;
  return used + adding > hard ? { newUsed: used + adding } : undefined;
}

/**
 * Harbor's refusal ("Quota exceeded when processing the request of adding … of storage resource, which
 * when updated to current usage of … will exceed the configured upper limit of …."), naming the project.
 */
export function quotaExceededMessage(project: string, hard: number, used: number, adding: number): string {
  return (
    `Quota exceeded when processing the request of adding ${formatBytes(adding)} of storage resource, ` +
    `which when updated to current usage of ${formatBytes(used)} will exceed the configured upper limit ` +
    `of ${formatBytes(hard)} of project ${project}.`
  );
}
