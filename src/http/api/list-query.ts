import { AppError } from '../../lib/errors.js';
import type { FieldType, Keyword, ListFields, ListQuery, Sort } from '../../lib/query.js';

/**
 * Harbor's list conventions: `q` (k=v exact, k=~v fuzzy, k=[a~b] range, k={a b c} any-of, k=(a b c)
 * all-of, comma-separated), `sort=-name,id`, `page` (1-based) and `page_size` (at most 100). Every list
 * endpoint parses through here and answers `X-Total-Count` and `Link`.
 */
export const maxPageSize = 100;
export const defaultPageSize = 10;

export type { FieldType, ListFields };

export interface RawListParams {
  q?: string | undefined;
  sort?: string | undefined;
  page?: number | undefined;
  page_size?: number | undefined;
}

/**
 * Parses one list's query against its fields (the repository's map, so a key is declared once). A list
 * with only paging passes `{}`. Every rule on which `q` and `sort` keys a list accepts lives here.
 */
export function parseListQuery(raw: RawListParams, fields: ListFields): ListQuery {
  const page = raw.page ?? 1;
  const pageSize = raw.page_size ?? defaultPageSize;
  if (!Number.isInteger(page) || page < 1) throw bad('page must be an integer of at least 1');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize)
    throw bad(`page_size must be an integer from 1 to ${maxPageSize}`);
  const keywords = parseQ(raw.q ?? '');
  for (const [key, kw] of Object.entries(keywords)) {
    const field = fields[key];
    if (!field || field.filter === false)
      throw bad(`filtering by "${key}" is not supported; supported: ${keysWhere(fields, 'filter')}`);
    checkTypes(key, kw, field.type);
  }
  // Harbor's rule (lib/q, lib/orm setSorts): a sort key the list does not know is ignored, never refused,
  // and with no known key left the list keeps its default order.
  const sorts = parseSort(raw.sort ?? '').filter((s) => {
    const field = fields[s.key];
    return field !== undefined && field.sort !== false;
  });
  return { keywords, sorts, page, pageSize };
}

/** Parses a `q` string into keywords; a syntax error is a BAD_REQUEST naming the offending part. */
export function parseQ(input: string): Record<string, Keyword> {
  let q = input;
  // Harbor unescapes `q` once more, so clients that encode it twice work too.
  if (q.includes('%')) {
    try {
      q = decodeURIComponent(q.replace(/\+/g, ' '));
    } catch {
      // not encoded twice: keep it as it is
    }
  }
  const out: Record<string, Keyword> = {};
  if (q.trim() === '') return out;
  for (const part of splitTopLevel(q)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (key === '' || value === '')
      throw bad(`invalid query "${clip(part)}": each term must be key=value with neither empty`);
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw bad(`invalid query key "${clip(key)}"`);
    if (key in out) throw bad(`query key "${key}" is given twice`);
    out[key] = parseValue(value);
  }
  return out;
}

function parseValue(value: string): Keyword {
  const open = value[0]!;
  const close = { '[': ']', '{': '}', '(': ')' }[open];
  if (close !== undefined) {
    if (!value.endsWith(close)) throw bad(`invalid query value "${clip(value)}": missing "${close}"`);
    const inner = value.slice(1, -1);
    if (open === '[') {
      const tilde = inner.indexOf('~');
      if (tilde < 0) throw bad(`invalid range "${clip(value)}": expected [min~max]`);
      const min = unquote(inner.slice(0, tilde).trim());
      const max = unquote(inner.slice(tilde + 1).trim());
      if (min === '' && max === '') throw bad(`invalid range "${clip(value)}": min and max are both empty`);
      return { kind: 'range', ...(min === '' ? {} : { min }), ...(max === '' ? {} : { max }) };
    }
    const values = inner
      .split(' ')
      .map((v) => unquote(v.trim()))
      .filter((v) => v !== '');
    if (values.length === 0) throw bad(`invalid list "${clip(value)}": no values`);
    return open === '{' ? { kind: 'or', values } : { kind: 'and', values };
  }
  if (/[\]})]$/.test(value) && !value.startsWith('"'))
    throw bad(`invalid query value "${clip(value)}": unbalanced bracket`);
  if (open === '~') {
    const v = unquote(value.slice(1).trim());
    if (v === '') throw bad('invalid fuzzy match: nothing after "~"');
    return { kind: 'fuzzy', value: v };
  }
  return { kind: 'exact', value: unquote(value) };
}

/** Splits on commas outside brackets and double quotes. */
function splitTopLevel(q: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (c === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') {
      if (--depth < 0) throw bad(`invalid query "${clip(q)}": unbalanced "${c}"`);
    } else if (c === ',' && depth === 0) {
      parts.push(q.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) throw bad(`invalid query "${clip(q)}": unterminated quote`);
  if (depth !== 0) throw bad(`invalid query "${clip(q)}": unclosed bracket`);
  parts.push(q.slice(start));
  return parts;
}

/** `sort=-name,id` as Harbor reads it: any text is accepted; what the list cannot sort by is dropped later. */
export function parseSort(sort: string): Sort[] {
  const out: Sort[] = [];
  for (const raw of sort.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const desc = item.startsWith('-');
    out.push({ key: desc ? item.slice(1) : item, desc });
  }
  return out;
}

function checkTypes(key: string, kw: Keyword, type: FieldType): void {
  const values =
    kw.kind === 'exact' || kw.kind === 'fuzzy'
      ? [kw.value]
      : kw.kind === 'range'
        ? [kw.min, kw.max].filter((v): v is string => v !== undefined)
        : kw.values;
  if (kw.kind === 'fuzzy' && type !== 'string') throw bad(`"${key}" does not support fuzzy match`);
  if (kw.kind === 'range' && (type === 'string' || type === 'bool'))
    throw bad(`"${key}" does not support range match`);
  for (const v of values) {
    if (type === 'int' && !/^-?\d{1,15}$/.test(v)) throw bad(`"${key}" expects an integer, got "${clip(v)}"`);
    if (type === 'number' && !/^-?\d{1,15}(\.\d{1,15})?$/.test(v))
      throw bad(`"${key}" expects a number, got "${clip(v)}"`);
    if (type === 'bool' && !['true', 'false', '1', '0'].includes(v))
      throw bad(`"${key}" expects true or false, got "${clip(v)}"`);
    if (type === 'time' && Number.isNaN(Date.parse(v)))
      throw bad(`"${key}" expects a time, got "${clip(v)}"`);
  }
}

/**
 * Harbor's `Link` header: `<url>; rel="prev" , <url>; rel="next"`, relative to the request, with `page`
 * and `page_size` set. Empty when there is no other page.
 */
export function linkHeader(requestUrl: string, total: number, page: number, pageSize: number): string {
  const links: string[] = [];
  const at = (p: number) => {
    const u = new URL(requestUrl, 'http://berth.invalid');
    u.searchParams.set('page', String(p));
    u.searchParams.set('page_size', String(pageSize));
    return `<${u.pathname}${u.search}>`;
  };
  if (page > 1 && (page - 1) * pageSize < total) links.push(`${at(page - 1)}; rel="prev"`);
  if (page * pageSize < total) links.push(`${at(page + 1)}; rel="next"`);
  return links.join(' , ');
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function keysWhere(fields: ListFields, use: 'filter' | 'sort'): string {
  return (
    Object.entries(fields)
      .filter(([, f]) => f[use] !== false)
      .map(([k]) => k)
      .join(', ') || 'none'
  );
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function bad(message: string): AppError {
  return new AppError('BAD_REQUEST', message);
}

/** Sets `X-Total-Count` and, when there are other pages, `Link` on a list answer. */
export function setPageHeaders(
  request: { url: string },
  reply: { header(name: string, value: string): unknown },
  total: number,
  query: Pick<ListQuery, 'page' | 'pageSize'>,
): void {
  reply.header('X-Total-Count', String(total));
  const link = linkHeader(request.url, total, query.page, query.pageSize);
  if (link) reply.header('Link', link);
}
