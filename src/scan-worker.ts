/**
 * A built-in scanner's worker thread (services/scanning/builtin/scan-pool.ts starts it): runs one scan
 * at a time, reading the layers' bytes chunk by chunk from the thread that owns the StorageDriver, and
 * the vulnerability database over a connection of its own (SQLite's WAL lets it read beside the server's
 * connection; PostgreSQL gives it one more session).
 */
import { constants, setPriority } from 'node:os';
import { Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { connect, type DbHandle } from './db/connect.js';
import { VulnDbRepo } from './db/repos/vuln-db.js';
import type { FromScanWorker, ToScanWorker } from './services/scanning/builtin/scan-pool.js';
import { runScanWork } from './services/scanning/builtin/scan-work.js';

// Scans are background work: on Linux this lowers this thread's priority only (the event loop that
// serves pulls keeps its own), so on a busy machine the scan yields the CPU to the requests.
try {
  setPriority(0, constants.priority.PRIORITY_LOW);
} catch {
  // not permitted here: the scan runs at the process's priority
}

const port = parentPort!;
let db: { url: string; handle: DbHandle; store: { vulnDb: VulnDbRepo } } | undefined;
const layers = new Map<number, Readable>();
let opened = 0;
const send = (m: FromScanWorker) => port.postMessage(m);

function storeFor(url: string) {
  if (db?.url !== url) {
    const handle = connect({ url, poolMax: 1, acquireTimeoutMs: 30_000 });
    db = { url, handle, store: { vulnDb: new VulnDbRepo(handle.db) } };
  }
  return db.store;
}

/** A layer's bytes as the inventory reads them: each read asks the owning thread for one more chunk. */
function layerStream(digest: string): Readable {
  const id = opened++;
  const stream = new Readable({ read: () => send({ kind: 'pull', stream: id, digest }) });
  layers.set(id, stream);
  return stream;
}

port.on('message', (m: ToScanWorker) => {
  if (m.kind === 'chunk') {
    const stream = layers.get(m.stream);
    if (!stream) return;
    if (m.error) stream.destroy(new Error(m.error));
    else if (m.end) stream.push(null);
    else stream.push(Buffer.from(m.data!.buffer, m.data!.byteOffset, m.data!.byteLength));
    return;
  }
  runScanWork(m.work, (digest) => Promise.resolve(layerStream(digest)), {
    get vulnDb() {
      return storeFor(m.databaseUrl).vulnDb;
    },
  })
    .then((result) => send({ kind: 'done', result }))
    .catch((err: unknown) =>
      send({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
    )
    .finally(() => {
      for (const s of layers.values()) s.destroy();
      layers.clear();
    });
});
