import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { readZipEntries } from '../../../lib/zip-reader.js';
import type { MetaStore } from '../../../db/store.js';
import type { AdvisoryRow, AffectedRow } from '../../../db/repos/vuln-db.js';
import { InvalidOsvRecord, normalizeRecord } from './osv-record.js';
import { compareCodeUnits } from '../../../lib/code-unit-order.js';

export interface ImportProgress {
  records: number;
  skipped: number;
  file: string;
}

export interface ImportResult {
  /** `imported`: the new records are active; `unchanged`: the same records were already active. */
  outcome: 'imported' | 'unchanged';
  version: string;
  records: number;
  entries: number;
  /** Files that were not valid OSV records, with why; they were skipped. */
  skipped: Array<{ file: string; reason: string }>;
  withdrawn: number;
  importTime: string;
}

export class VulnDbImportError extends Error {}

const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const MAX_ZIP_ENTRIES = 2_000_000;
/** Records per transaction: big enough for SQLite to go fast, small enough to keep memory flat. */
const CHUNK = 2000;

/**
 * Imports OSV records offline into the metadata database, from a zip laid out like osv.dev's
 * per-ecosystem `all.zip` (one record per `.json` entry) or a directory of `.json` files (searched
 * recursively). The records load as a new generation and replace the active one in one transaction at
 * the end, so scans never see a half import and a failed import changes nothing.
 *
 * A file that is not a valid OSV record (bad JSON, no id, malformed `affected`) is skipped and listed
 * with its name; withdrawn records are left out; a record id seen twice keeps its first file. A source
 * without one valid record fails the import (an empty or wrong file must not wipe the database).
 * The version is a digest of the records read (file names and bytes): importing the same records again
 * leaves the active generation and its import time as they were (`unchanged`).
 */
export async function importVulnDb(
  deps: { store: Pick<MetaStore, 'vulnDb' | 'transaction'>; now?: () => Date },
  source: string,
  onProgress: (p: ImportProgress) => void = () => {},
): Promise<ImportResult> {
  const { store } = deps;
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  for (const id of await store.vulnDb.stale()) await store.vulnDb.drop(id);
  const importTime = now();
  const importId = await store.vulnDb.beginImport(basename(source), importTime);
  const digests: string[] = [];
  const skipped: ImportResult['skipped'] = [];
  const seen = new Set<string>();
  let advisories: AdvisoryRow[] = [];
  let affected: AffectedRow[] = [];
  let records = 0;
  let entries = 0;
  let withdrawn = 0;
  const flush = async () => {
    const [a, e] = [advisories, affected];
    [advisories, affected] = [[], []];
    await store.transaction((tx) => tx.vulnDb.insert(importId, a, e));
  };
  try {
    for await (const { file, read } of recordFiles(source)) {
      let bytes: Buffer;
      try {
        bytes = await read();
      } catch (err) {
        skipped.push({ file, reason: (err as Error).message });
        continue;
      }
      digests.push(`${file}\0${createHash('sha256').update(bytes).digest('hex')}`);
      let parsed;
      try {
        parsed = normalizeRecord(JSON.parse(bytes.toString('utf8')) as unknown);
      } catch (err) {
        const why = err instanceof InvalidOsvRecord ? err.message : `not JSON: ${(err as Error).message}`;
        skipped.push({ file, reason: why });
        continue;
      }
      if (!parsed) {
        withdrawn++;
        continue;
      }
      if (seen.has(parsed.advisory.id)) {
        skipped.push({ file, reason: `record ${parsed.advisory.id} was already read from another file` });
        continue;
      }
      seen.add(parsed.advisory.id);
      advisories.push({ ...parsed.advisory, modified: parsed.modified });
      affected.push(...parsed.entries);
      records++;
      entries += parsed.entries.length;
      if (advisories.length >= CHUNK) {
        await flush();
        onProgress({ records, skipped: skipped.length, file });
      }
    }
    await flush();
    if (records === 0)
      throw new VulnDbImportError(
        `${source} holds no valid OSV record${skipped.length ? ` (${skipped.length} files skipped)` : ''}; the database is unchanged`,
      );
    const version = `osv-${createHash('sha256').update(digests.sort().join('\n')).digest('hex').slice(0, 16)}`;
    const active = await store.vulnDb.active();
    if (active?.version === version) {
      await store.vulnDb.drop(importId);
      return {
        outcome: 'unchanged',
        version,
        records,
        entries,
        skipped,
        withdrawn,
        importTime: active.importTime,
      };
    }
    const retired = await store.transaction((tx) =>
      tx.vulnDb.activate(importId, { version, recordCount: records, skippedCount: skipped.length }, now()),
    );
    if (retired !== undefined) await store.vulnDb.drop(retired);
    return { outcome: 'imported', version, records, entries, skipped, withdrawn, importTime };
  } catch (err) {
    await store.vulnDb.drop(importId).catch(() => {});
    throw err;
  }
}

/** The `.json` files of a zip or a directory, each with a bounded reader, in a stable order. */
async function* recordFiles(source: string): AsyncGenerator<{ file: string; read(): Promise<Buffer> }> {
  const info = await stat(source).catch(() => undefined);
  if (!info) throw new VulnDbImportError(`${source}: no such file or directory`);
  if (info.isDirectory()) {
    for (const path of await jsonFiles(source)) {
      const file = relative(source, path);
      yield {
        file,
        read: async () => {
          if ((await stat(path)).size > MAX_RECORD_BYTES)
            throw new Error(`larger than ${MAX_RECORD_BYTES} bytes`);
          return readFile(path);
        },
      };
    }
    return;
  }
  try {
    for await (const entry of readZipEntries(source, {
      maxEntries: MAX_ZIP_ENTRIES,
      maxEntryBytes: MAX_RECORD_BYTES,
    }))
      if (entry.name.endsWith('.json')) yield { file: entry.name, read: entry.read };
  } catch (err) {
    if ((err as { bound?: string }).bound === 'format')
      throw new VulnDbImportError(
        `${source} is neither a directory nor a zip archive (${(err as Error).message})`,
      );
    throw err;
  }
}

async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    compareCodeUnits(a.name, b.name),
  )) {
    const path = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await jsonFiles(path)));
    else if (d.isFile() && d.name.endsWith('.json')) out.push(path);
  }
  return out;
}
