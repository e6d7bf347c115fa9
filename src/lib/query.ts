/**
 * The one list model (Harbor's `q`, `sort`, `page`, `page_size`), shared by the API layer that parses it,
 * the services that narrow it and the repositories that turn it into SQL. Values stay strings here; each
 * list converts them to its fields' types (see db/repos/list-filter.ts).
 */
export type Keyword =
  /** `k=v` */
  | { kind: 'exact'; value: string }
  /** `k=~v`: substring match, case-insensitive */
  | { kind: 'fuzzy'; value: string }
  /** `k=[min~max]`, either bound may be left out */
  | { kind: 'range'; min?: string; max?: string }
  /** `k={a b c}`: any of */
  | { kind: 'or'; values: string[] }
  /** `k=(a b c)`: all of (for multi-valued fields such as labels) */
  | { kind: 'and'; values: string[] };

/** How a list field's `q` values are read. */
export type FieldType = 'string' | 'int' | 'number' | 'bool' | 'time';

/** One key of a list: how its `q` values read, and whether `q` may filter by it and `sort` order by it. */
export interface ListField {
  type: FieldType;
  filter?: false;
  sort?: false;
}

/**
 * A list's keys, declared once beside the repository that answers the list (db/repos); the API layer
 * derives the keys it accepts from the same map (http/api/list-query.ts).
 */
export type ListFields = Record<string, ListField>;

export interface Sort {
  key: string;
  desc: boolean;
}

export interface ListQuery {
  keywords: Record<string, Keyword>;
  sorts: Sort[];
  /** 1-based. */
  page: number;
  pageSize: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export function offsetOf(q: Pick<ListQuery, 'page' | 'pageSize'>): number {
  return (q.page - 1) * q.pageSize;
}

/** A query that takes everything in its default order: for internal callers. */
export function allQuery(pageSize = 100): ListQuery {
  return { keywords: {}, sorts: [], page: 1, pageSize };
}
