import {
  createQueryId,
  type Compilable,
  type DialectAdapter,
  type Kysely,
  type QueryResult,
  type RootOperationNode,
} from 'kysely';
import { writesWatchedTable } from './read-cache.js';
import type { Database } from './tables.js';

/** What a prepared query takes: values, or lists of values (an `in (…)` or a multi-row insert). */
export type PreparedArg = string | number | null | readonly (string | number | null)[];

/** One parameter of the compiled SQL: an argument's value (or one item of a list), or a constant. */
type Slot = { arg: number; item: number } | { value: unknown };

interface Plan {
  sql: string;
  query: RootOperationNode;
  slots: readonly Slot[];
}

const markerStart = '\u0000berth-arg:';
const marker = (arg: number, item: number) => `${markerStart}${arg}:${item}\u0000`;

/**
 * A query Kysely builds and compiles once per shape (per dialect, and per length of each list argument),
 * then runs with new values. Building and compiling a query cost ~20-40 µs of the event loop each time,
 * about as much as SQLite takes to run it: on a manifest PUT's dozen statements that was a tenth of the
 * serving thread (issue 15, bench/profile-top.ts). `build` must not look at its arguments' values (it is
 * called with placeholders), only put them where values go. Plugins see the query when it is compiled,
 * so a prepared query may not write a table the read cache watches (its cache would not be dropped).
 */
export function prepared<A extends readonly PreparedArg[], O>(
  build: (db: Kysely<Database>, ...args: A) => Compilable<O>,
): (db: Kysely<Database>, ...args: A) => Promise<QueryResult<O>> {
  const plans = new WeakMap<DialectAdapter, Map<string, Plan>>();
  const plan = (db: Kysely<Database>, args: A): Plan => {
    const adapter = db.getExecutor().adapter;
    let byShape = plans.get(adapter);
    if (!byShape) plans.set(adapter, (byShape = new Map()));
    let shape = '';
    for (const a of args) shape += Array.isArray(a) ? `${a.length},` : '-,';
    let p = byShape.get(shape);
    if (!p) {
      p = compile(db, args);
      byShape.set(shape, p);
    }
    return p;
  };
  const compile = (db: Kysely<Database>, args: A): Plan => {
    const placeholders = args.map((a, i) =>
      Array.isArray(a) ? a.map((_, j) => marker(i, j)) : marker(i, -1),
    ) as unknown as A;
    const compiled = build(db, ...placeholders).compile();
    if (writesWatchedTable(compiled.query)) {
      throw new Error('a prepared query may not write a table the read cache watches');
    }
    if (compiled.sql.includes(markerStart)) throw new Error('a prepared argument was inlined into the SQL');
    const used = new Set<string>();
    const slots = compiled.parameters.map((v): Slot => {
      if (typeof v !== 'string' || !v.startsWith(markerStart)) return { value: v };
      used.add(v);
      const [arg, item] = v.slice(markerStart.length, -1).split(':').map(Number) as [number, number];
      return { arg, item };
    });
    const expected = (placeholders as readonly unknown[]).flat().length;
    if (used.size !== expected) throw new Error('a prepared argument is missing from the compiled query');
    return { sql: compiled.sql, query: compiled.query, slots };
  };
  return (db, ...args) => {
    let p: Plan;
    try {
      p = plan(db, args);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const parameters = p.slots.map((s) =>
      'value' in s ? s.value : s.item < 0 ? args[s.arg] : (args[s.arg] as readonly unknown[])[s.item],
    );
    return db.executeQuery<O>({ sql: p.sql, query: p.query, parameters, queryId: createQueryId() });
  };
}
