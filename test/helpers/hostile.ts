import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { tarHeader } from './images.js';

/** JSON text nesting `depth` arrays: `[[[…]]]`, the shape that overflows a recursive stringify. */
export function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Every file under the filesystem driver's root (`<dataDir>/blobs`), as driver paths. */
export function storedFiles(dataDir: string): string[] {
  const root = join(dataDir, 'blobs');
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, path);
      else out.push(path);
    }
  };
  walk(root, '');
  return out;
}

/** The digest a stored blob path names (`blobs/sha256/ab/abcd…/data` → `sha256:abcd…`), else undefined. */
export function digestOfPath(path: string): string | undefined {
  const m = /^blobs\/([a-z0-9]+)\/[0-9a-f]{2}\/([0-9a-f]+)\/data$/.exec(path);
  return m ? `${m[1]}:${m[2]}` : undefined;
}

/**
 * A gzip bomb shaped as a chart archive: a template declaring `size` bytes of zeros (which a reader must
 * decompress to get past), then a values.yaml; about a thousandth of `size` compressed. Written through a
 * streaming gzip from one reused 1 MiB buffer, so making it leaves no garbage for the GC of the process
 * that also runs Berth.
 */
export async function gzipBombChart(size: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  const write = (b: Buffer) =>
    new Promise<void>((resolve) => {
      if (gzip.write(b)) resolve();
      else gzip.once('drain', resolve);
    });
  await write(tarHeader('bomb/templates/zeros.yaml', size, 0o644));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let left = size; left > 0; left -= zeros.length)
    await write(zeros.subarray(0, Math.min(left, zeros.length)));
  await write(Buffer.alloc((512 - (size % 512)) % 512));
  const values = Buffer.from('replicas: 1\n');
  await write(
    Buffer.concat([
      tarHeader('bomb/values.yaml', values.length, 0o644),
      values,
      Buffer.alloc(512 - values.length),
    ]),
  );
  gzip.end(Buffer.alloc(1024));
  await done;
  return Buffer.concat(out);
}

/**
 * Polls `GET <url>/v2/` back to back until `stop()` and reports the slowest answer: proof that whatever
 * runs meanwhile leaves the event loop free. Any status counts (401 included); only the delay matters.
 */
export function latencyProbe(url: string): {
  stop(): Promise<{ maxMs: number; p90Ms: number; count: number }>;
} {
  let running = true;
  const times: number[] = [];
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      times.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const sorted = [...times].sort((a, b) => a - b);
      return {
        maxMs: sorted.at(-1) ?? 0,
        p90Ms: sorted[Math.floor(sorted.length * 0.9)] ?? 0,
        count: sorted.length,
      };
    },
  };
}
