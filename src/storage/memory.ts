import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  assertSafePath,
  PathNotFoundError,
  type ByteRange,
  type FileInfo,
  type StorageDriver,
} from './driver.js';

export const memoryOptions = z.object({}).strict();

/** Keeps bytes in a Map: for unit tests and throwaway instances. */
export class MemoryDriver implements StorageDriver {
  readonly name = 'memory';
  private readonly files = new Map<string, { data: Buffer; modified: Date }>();

  async stat(path: string): Promise<FileInfo> {
    assertSafePath(path);
    const file = this.files.get(path);
    if (file) return { size: file.data.length, modified: file.modified, isDirectory: false };
    if (this.childrenOf(path).length > 0) return { size: 0, modified: new Date(0), isDirectory: true };
    throw new PathNotFoundError(path);
  }

  async read(path: string, range?: ByteRange): Promise<Readable> {
    const data = this.get(path);
    const start = range?.start ?? 0;
    const end = range?.end === undefined ? data.length : range.end + 1;
    return Readable.from([data.subarray(start, end)]);
  }

  async write(path: string, source: Readable): Promise<number> {
    assertSafePath(path);
    const added = await collect(source);
    this.files.set(path, { data: added, modified: new Date() });
    return added.length;
  }

  async append(path: string, source: Readable): Promise<number> {
    assertSafePath(path);
    const added = await collect(source);
    const previous = this.files.get(path)?.data ?? Buffer.alloc(0);
    this.files.set(path, { data: Buffer.concat([previous, added]), modified: new Date() });
    return added.length;
  }

  async appendedSize(path: string): Promise<number> {
    assertSafePath(path);
    return this.files.get(path)?.data.length ?? 0;
  }

  async seal(path: string): Promise<void> {
    assertSafePath(path);
    if (!this.files.has(path)) this.files.set(path, { data: Buffer.alloc(0), modified: new Date() });
  }

  async putContent(path: string, data: Buffer): Promise<void> {
    assertSafePath(path);
    this.files.set(path, { data: Buffer.from(data), modified: new Date() });
  }

  async stageContent(path: string, data: Buffer): Promise<{ durable: Promise<void> }> {
    await this.putContent(path, data);
    return { durable: Promise.resolve() };
  }

  async getContent(path: string): Promise<Buffer> {
    return Buffer.from(this.get(path));
  }

  async move(from: string, to: string): Promise<void> {
    assertSafePath(from);
    assertSafePath(to);
    const file = this.files.get(from);
    if (!file) throw new PathNotFoundError(from);
    this.files.set(to, file);
    this.files.delete(from);
  }

  async delete(path: string): Promise<void> {
    assertSafePath(path);
    const prefix = `${path}/`;
    let found = this.files.delete(path);
    for (const key of [...this.files.keys()]) {
      if (key.startsWith(prefix)) found = this.files.delete(key) || found;
    }
    if (!found) throw new PathNotFoundError(path);
  }

  async deleteMany(paths: string[]): Promise<void> {
    paths.forEach(assertSafePath);
    for (const path of paths) {
      await this.delete(path).catch((err: unknown) => {
        if (!(err instanceof PathNotFoundError)) throw err;
      });
    }
  }

  async list(path: string): Promise<string[]> {
    assertSafePath(path);
    return this.childrenOf(path);
  }

  private childrenOf(path: string): string[] {
    const prefix = `${path}/`;
    const names = new Set<string>();
    for (const key of this.files.keys()) {
      if (key.startsWith(prefix)) names.add(key.slice(prefix.length).split('/')[0]!);
    }
    return [...names];
  }

  private get(path: string): Buffer {
    assertSafePath(path);
    const file = this.files.get(path);
    if (!file) throw new PathNotFoundError(path);
    return file.data;
  }
}

async function collect(source: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
