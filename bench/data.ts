import { createHash } from 'node:crypto';

/** Bytes of pseudo-random data shared by every generated blob (generated once, reused). */
const poolSize = 16 * 1024 * 1024;
export const chunkSize = 1024 * 1024;

/** A seeded xorshift32 fill: fast, reproducible, and incompressible enough for a registry. */
function seededPool(seed: number): Buffer {
  const words = new Uint32Array(poolSize / 4);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer);
}

let pool: Buffer | undefined;
function thePool(): Buffer {
  pool ??= seededPool(20240601);
  return pool;
}

/**
 * A blob of `size` bytes that depends only on `seed`: chunk i is a 1 MiB window of the shared pool at
 * an offset derived from (seed, i); the first 16 bytes carry the seed so two seeds never collide.
 * Chunks are views of the pool (no copy) except the first.
 */
export function* blobChunks(seed: number, size: number, from = 0, to = size): Generator<Buffer> {
  const p = thePool();
  const first = Math.floor(from / chunkSize);
  const last = Math.ceil(to / chunkSize);
  for (let i = first; i < last; i++) {
    const start = i * chunkSize;
    const len = Math.min(chunkSize, size - start);
    const offset = (Math.imul(seed, 7919) + Math.imul(i, 104729)) >>> 0;
    const at = offset % (poolSize - chunkSize);
    let chunk = p.subarray(at, at + len);
    if (i === 0) {
      chunk = Buffer.from(chunk);
      const stamp = Buffer.alloc(16);
      stamp.writeUInt32BE(seed >>> 0, 0);
      stamp.writeUInt32BE(size >>> 0, 4);
      stamp.writeUInt32BE(Math.floor(size / 2 ** 32), 8);
      stamp.copy(chunk, 0, 0, Math.min(16, len));
    }
    const lo = Math.max(from - start, 0);
    const hi = Math.min(to - start, len);
    yield lo === 0 && hi === len ? chunk : chunk.subarray(lo, hi);
  }
}

export interface BlobSpec {
  seed: number;
  size: number;
  digest: string;
}

const digests = new Map<string, string>();

/** The blob for (seed, size) with its sha256 digest (hashed once, before any timing). */
export function blob(seed: number, size: number): BlobSpec {
  const key = `${seed}/${size}`;
  let digest = digests.get(key);
  if (!digest) {
    const h = createHash('sha256');
    for (const c of blobChunks(seed, size)) h.update(c);
    digest = `sha256:${h.digest('hex')}`;
    digests.set(key, digest);
  }
  return { seed, size, digest };
}

/** Small JSON blob (an image config) for a seed. */
export function configJson(seed: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: [`BENCH_SEED=${seed}`] },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
}

export function sha256(buf: Buffer): string {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}
