/** Harbor's project name rule: lower-case letters, digits and . _ - separators, 1–255 characters. */
export const PROJECT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function projectNameProblem(name: string): string | null {
  if (name === '') return 'A name is required';
  if (name.length > 255) return 'At most 255 characters';
  if (/[A-Z]/.test(name)) return 'Use lower-case letters only';
  if (!/^[a-z0-9]/.test(name)) return 'Start with a letter or digit';
  if (!/[a-z0-9]$/.test(name)) return 'End with a letter or digit';
  if (!PROJECT_NAME.test(name)) return 'Only letters, digits and single . _ - between them';
  return null;
}

const UNITS = { MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;
export type SizeUnit = keyof typeof UNITS;
export const SIZE_UNITS = Object.keys(UNITS) as SizeUnit[];

/** Storage limit in bytes; -1 (unlimited) for an empty or -1 field. Undefined when the entry is invalid. */
export function storageLimitBytes(value: string, unit: SizeUnit): number | undefined {
  const v = value.trim();
  if (v === '' || v === '-1') return -1;
  if (!/^\d+$/.test(v)) return undefined;
  const n = Number(v) * UNITS[unit];
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}
