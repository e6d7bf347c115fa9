import { sql, type Kysely } from 'kysely';
import type { Database } from '../tables.js';
import { packDocument, unpackDocument } from './scan-reports.js';

/**
 * The built-in scanner's readings of layers (0015), keyed by layer digest: a scan reads and gunzips a
 * layer only when no reading of the current version is stored.
 */
export class LayerInventoryRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** The layer's reading (JSON) of this version, or undefined. */
  async get(digest: string, version: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('layer_inventory')
      .select('reading')
      .where('digest', '=', digest)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? unpackDocument(row.reading) : undefined;
  }

  /**
   * Stores (or replaces) the layer's reading, only while its blob is live: a blob that garbage
   * collection has marked or deleted gets no row, so none outlives its blob (gc.ts deletes the rows of
   * the blobs it removes). Answers whether it was stored.
   */
  async put(digest: string, version: string, reading: string, now: string): Promise<boolean> {
    const packed = packDocument(reading);
    const text = (v: string) => sql<string>`cast(${v} as text)`;
    const result = await this.db
      .insertInto('layer_inventory')
      .columns(['digest', 'version', 'reading', 'creation_time'])
      .expression(
        this.db
          .selectFrom('blob')
          .select([
            text(digest).as('digest'),
            text(version).as('version'),
            text(packed).as('reading'),
            text(now).as('creation_time'),
          ])
          .where('digest', '=', digest)
          .where('gc_mark', 'is', null),
      )
      .onConflict((oc) => oc.column('digest').doUpdateSet({ version, reading: packed, creation_time: now }))
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** How many readings are stored (tests, and the bench's bound check). */
  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('layer_inventory')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
