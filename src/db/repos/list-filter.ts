import { sql, type Expression, type ExpressionBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { FieldType, Keyword, ListField, ListQuery, Sort } from '../../lib/query.js';

/**
 * A list's keys (see ListFields) mapped to SQL columns (`project.name`). A key without a column is
 * answered by the repository's own code (artifact `tags`, `labels`) or by its caller (robot `Level`).
 */
export type FieldMap = Record<string, ListField & { column?: string }>;

/** The SQL value of one `q` value for a column of the given type (booleans are 0/1, times ISO strings). */
export function sqlValue(value: string, type: FieldType): string | number {
  if (type === 'int' || type === 'number') return Number(value);
  if (type === 'bool') return value === 'true' || value === '1' ? 1 : 0;
  if (type === 'time') {
    // Harbor's form has no zone (2006-01-02T15:04:05 or with a space): read it as UTC.
    const iso = value.replace(' ', 'T');
    return new Date(/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`).toISOString();
  }
  return value;
}

/** `%`, `_` and `\` in a fuzzy value match themselves. */
export function likePattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The condition one keyword puts on one column. */
export function keywordCondition<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  column: string,
  type: FieldType,
  kw: Keyword,
): Expression<SqlBool> {
  const ref = sql.ref(column);
  const v = (x: string) => sqlValue(x, type);
  switch (kw.kind) {
    case 'exact':
      return eb(ref, '=', v(kw.value));
    case 'fuzzy':
      return sql<SqlBool>`lower(${ref}) like lower(${likePattern(kw.value)}) escape '\\'`;
    case 'range': {
      const parts: Expression<SqlBool>[] = [];
      if (kw.min !== undefined) parts.push(eb(ref, '>=', v(kw.min)));
      if (kw.max !== undefined) parts.push(eb(ref, '<=', v(kw.max)));
      return eb.and(parts);
    }
    case 'or':
      return eb(ref, 'in', kw.values.map(v));
    case 'and':
      return eb.and(kw.values.map((x) => eb(ref, '=', v(x))));
  }
}

/**
 * Applies the keywords of `query` that `fields` maps to columns; keys the caller handles itself (labels,
 * tags) are skipped here. The API layer has already refused keys outside the list's spec.
 */
export function applyKeywords<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  fields: FieldMap,
  keywords: ListQuery['keywords'],
): SelectQueryBuilder<DB, TB, O> {
  let out = qb;
  for (const [key, kw] of Object.entries(keywords)) {
    const column = fields[key]?.column;
    if (!column) continue;
    const type = fields[key]!.type;
    out = out.where((eb) => keywordCondition(eb, column, type, kw));
  }
  return out;
}

/** Orders by the requested sorts, then by `tiebreak` so pages never overlap. */
export function applySorts<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  fields: FieldMap,
  sorts: readonly Sort[],
  fallback: readonly Sort[],
  tiebreak: string,
): SelectQueryBuilder<DB, TB, O> {
  let out = qb;
  const chosen = sorts.length > 0 ? sorts : fallback;
  for (const s of chosen) {
    const column = fields[s.key]?.column;
    if (column) out = out.orderBy(sql.ref(column), s.desc ? 'desc' : 'asc');
  }
  return out.orderBy(sql.ref(tiebreak), 'asc');
}

/**
 * The total of a page read with `count(*) over ()` as `total_rows` beside its rows, so that the page and
 * its total agree while jobs add rows between reads (Harbor counts in a query of its own). An empty
 * first page means none; past the last page the total is counted on its own.
 */
export async function windowTotal(
  page: readonly { total_rows: number | string | bigint }[],
  offset: number,
  count: () => Promise<number | string | bigint>,
): Promise<number> {
  if (page.length > 0) return Number(page[0]!.total_rows);
  return offset === 0 ? 0 : Number(await count());
}
