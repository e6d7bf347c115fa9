/**
 * Orders strings by their UTF-16 code units, as `Array.prototype.sort` does by default: for the digests,
 * timestamps, identifiers and names Berth sorts. Not `localeCompare` or `Intl.Collator`: their first use
 * in a process reads ICU's collation tables out of the node binary, ~2.7 MiB more resident for the
 * process's life (measured on Node 20, full ICU), and every call costs more than a comparison.
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
