import { CompiledQuery, PostgresAdapter, type Kysely } from 'kysely';
import type { Database } from '../tables.js';

/**
 * A multi-row insert as plain SQL text and parameters, run as it is: no query builder nodes per value
 * and no compilation, and the driver's prepared statement is reused for each row count. For the inserts
 * of hot paths (the webhook delivery thread records a batch of deliveries in three of them). With
 * `returning`, the ids come back ascending: the order of the rows.
 */
export async function plainInsert<T extends keyof Database & string>(
  db: Kysely<Database>,
  table: T,
  columns: readonly (keyof Database[T] & string)[],
  rows: readonly unknown[][],
  returning?: 'id',
): Promise<number[]> {
  if (rows.length === 0) return [];
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const marks: string[] = [];
    for (const v of row) {
      params.push(v);
      marks.push(postgres ? `$${params.length}` : '?');
    }
    tuples.push(`(${marks.join(', ')})`);
  }
  const text = `insert into ${table} (${columns.join(', ')}) values ${tuples.join(', ')}${returning ? ' returning id' : ''}`;
  const res = await db.executeQuery<{ id: number }>(CompiledQuery.raw(text, params));
  return returning ? res.rows.map((r) => Number(r.id)).sort((a, b) => a - b) : [];
}
