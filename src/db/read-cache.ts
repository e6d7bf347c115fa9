import {
  AliasNode,
  TableNode,
  type KyselyPlugin,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { LRUCache } from 'lru-cache';

/**
 * Tables the push path reads on every request and that change only by an administrator's hand (or a
 * login): projects and their metadata, webhook, replication, immutability and P2P preheat policies, users and their
 * groups. A write to any of them, anywhere, drops every cached read (migration 0025 makes PostgreSQL
 * announce them; SQLite is watched through `PRAGMA data_version`).
 */
export const watchedTables: ReadonlySet<string> = new Set([
  'project',
  'project_metadata',
  'notification_policy',
  'replication_policy',
  'immutable_tag_rule',
  'p2p_preheat_policy',
  'harbor_user',
  'user_group',
  'user_group_member',
]);

/** A read that may be answered from memory: `load` runs on a miss. */
export interface CachedReads {
  get<T>(key: string, load: () => Promise<T>): Promise<T>;
}

/** No cache: every read goes to the database (CLIs, tests that build a MetaStore by hand). */
export const uncached: CachedReads = { get: (_key, load) => load() };

export interface ReadCacheFigures {
  hits: number;
  misses: number;
  drops: number;
}

/**
 * The process's cache of reads over `watchedTables`. It is dropped whole on any change: such changes are
 * rare, and a coarse drop cannot miss a dependency between rows. A read that began before a drop is not
 * kept (`generation`), so a value read just before a change committed never outlives the change. While
 * this process cannot hear other processes' changes (`heard` false: PostgreSQL listener not connected),
 * nothing is kept and every read goes to the database.
 */
export class ReadCache implements CachedReads {
  private readonly entries = new LRUCache<string, { value: unknown }>({ max: 4096 });
  private generation = 0;
  private heard: boolean;
  readonly figures: ReadCacheFigures = { hits: 0, misses: 0, drops: 0 };

  constructor(
    private readonly options: {
      /** Whether changes made by other processes reach `drop` from the start. */
      heard: boolean;
      /** Checked before every read: true when another process changed the database since the last call. */
      changedElsewhere?: () => boolean;
    },
  ) {
    this.heard = options.heard;
  }

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.options.changedElsewhere?.()) this.drop();
    if (!this.heard) return load();
    const hit = this.entries.get(key);
    if (hit) {
      this.figures.hits++;
      return copyOf(hit.value) as T;
    }
    this.figures.misses++;
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && generation === this.generation && this.heard)
      this.entries.set(key, { value: copyOf(value) });
    return value;
  }

  /** Forgets everything, and every read in flight: a watched table changed. */
  drop(): void {
    this.entries.clear();
    this.generation++;
    this.figures.drops++;
  }

  /** Whether reads are kept (other processes' changes are heard). */
  get live(): boolean {
    return this.heard;
  }

  /** Whether other processes' changes reach this cache; a change of state drops everything. */
  setHeard(heard: boolean): void {
    this.heard = heard;
    this.drop();
  }

  /** Drops the cache whenever a query through the plugged-in Kysely writes a watched table. */
  writeWatcher(): KyselyPlugin {
    return new WriteWatcher(() => this.drop());
  }

  /**
   * The cache as one transaction sees it: once the transaction wrote a watched table, its reads go to the
   * database (they must see its own uncommitted rows, which must not be cached). `watcher` goes on the
   * transaction's Kysely.
   */
  forTransaction(): { reads: CachedReads; watcher: KyselyPlugin; committed: () => void } {
    let wrote = false;
    return {
      reads: { get: (key, load) => (wrote ? load() : this.get(key, load)) },
      watcher: new WriteWatcher(() => {
        wrote = true;
      }),
      // A read on another connection between the transaction's write and its commit saw, and kept, the
      // old row; PostgreSQL's notification drops it only a moment later. Dropping at the commit makes this
      // process read its own writes at once.
      committed: () => {
        if (wrote) this.drop();
      },
    };
  }
}

/**
 * Calls `onWrite` when an insert, update or delete of a watched table is compiled, and again when it has
 * run: outside a transaction the second call comes after the commit, so a read that raced the write is
 * not kept either. (A transaction's writes are final at its commit; until then the connection is its
 * own on SQLite, and PostgreSQL's trigger announces the commit.)
 */
class WriteWatcher implements KyselyPlugin {
  private readonly pending = new WeakSet<QueryId>();

  constructor(private readonly onWrite: () => void) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (writesWatchedTable(args.node)) {
      this.pending.add(args.queryId);
      this.onWrite();
    }
    return args.node;
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.pending.has(args.queryId)) {
      this.pending.delete(args.queryId);
      this.onWrite();
    }
    return Promise.resolve(args.result);
  }
}

/** True when the query inserts into, updates or deletes from a table the read cache watches. */
export function writesWatchedTable(node: RootOperationNode): boolean {
  switch (node.kind) {
    case 'InsertQueryNode':
      return watched(node.into);
    case 'UpdateQueryNode':
      return watched(node.table);
    case 'DeleteQueryNode':
      return node.from.froms.some(watched);
    default:
      return false;
  }
}

function watched(node: OperationNode | undefined): boolean {
  if (!node) return false;
  if (AliasNode.is(node)) return watched(node.node);
  return TableNode.is(node) && watchedTables.has(node.table.identifier.name);
}

/** Rows and lists of rows are handed out as copies, so a caller that edits one edits only its own. */
function copyOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyOf);
  if (value && typeof value === 'object') return { ...value };
  return value;
}
