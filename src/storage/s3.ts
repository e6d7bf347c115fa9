import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  assertSafePath,
  PathNotFoundError,
  type ByteRange,
  type FileInfo,
  type StorageDriver,
} from './driver.js';
import type { S3Options } from './s3-options.js';

/** S3's smallest part but the last one. */
const minPart = 5 * 1024 * 1024;
/** Parts are cut at this size from a stream (at most this plus one chunk is held in memory per write). */
const partSize = 8 * 1024 * 1024;
/** Largest object CopyObject copies in one call; a move of a bigger one copies parts. */
const maxCopy = 5 * 1024 * 1024 * 1024;
const copyPart = 1024 * 1024 * 1024;
/** Names the driver keeps beside an append file: its multipart upload's id and its tail (see `append`). */
const multipartTag = '.multipart-';
const tailTag = '.tail-';
const internal = /\.(multipart|tail)-[^/]*$/;

interface AppendState {
  uploadId?: string;
  parts: { PartNumber: number; ETag: string; Size: number }[];
  partsSize: number;
  tail?: { key: string; size: number };
  /** Keys of markers and tails (all of them, for sealing and deleting). */
  extras: string[];
  /** Size of the sealed file at the path itself, if there is one. */
  sealed?: number;
}

/**
 * Bytes in one bucket of S3 or an S3-compatible server, every key under `prefix`. Writes go through
 * multipart uploads, so nothing is visible before it is whole. An append file (an upload session) is a
 * multipart upload whose id is kept in an empty marker object `<key>.multipart-<id>`; bytes that do not yet
 * fill S3's 5 MiB minimum part wait in `<key>.tail-<offset>` and are folded into the next part. All of the
 * state is in the bucket, so any process may continue the upload; `seal` completes the multipart upload.
 */
export class S3Driver implements StorageDriver {
  readonly name = 's3';
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  /** Set only with `redirect` on (see StorageDriver.redirectUrl). */
  readonly redirectUrl?: (path: string, expiresInSeconds: number) => Promise<string | undefined>;

  constructor(options: S3Options) {
    // The SDK's notice that later releases want Node 22: this release is pinned because it runs on Node 20.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.bucket = options.bucket;
    this.prefix = options.prefix ? `${options.prefix}/` : '';
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials:
        options.accessKeyId && options.secretAccessKey
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
      // Without these a store that accepts connections but stops answering holds requests forever.
      requestHandler: { connectionTimeout: options.connectTimeoutMs, socketTimeout: options.idleTimeoutMs },
      maxAttempts: options.maxAttempts,
      // S3-compatible servers do not all know the newer checksum headers; S3 itself does not require them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    if (options.redirect) {
      this.redirectUrl = (path, expiresIn) =>
        getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }), {
          expiresIn,
        });
    }
  }

  /** A driver whose bucket answered a listing: a clear error at start-up rather than at the first push. */
  static async open(options: S3Options): Promise<S3Driver> {
    const driver = new S3Driver(options);
    try {
      await driver.client.send(new ListObjectsV2Command({ Bucket: options.bucket, MaxKeys: 1 }));
    } catch (err) {
      driver.client.destroy();
      const e = err as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
      const code = e.Code ?? e.name;
      const status = e.$metadata?.httpStatusCode;
      const hint =
        code === 'SignatureDoesNotMatch' || code === 'InvalidAccessKeyId'
          ? ': check storage.s3.accessKeyId and secretAccessKey'
          : code === 'NoSuchBucket'
            ? ': create the bucket first'
            : '';
      throw new Error(
        `storage.s3: cannot list bucket "${options.bucket}" at ${options.endpoint ?? 'AWS'}: ${code}` +
          `${status ? ` (HTTP ${status})` : ''}${hint}${e.message && e.message !== code && e.message !== 'UnknownError' ? ` - ${e.message}` : ''}`,
      );
    }
    return driver;
  }

  close(): void {
    this.client.destroy();
  }

  private key(path: string): string {
    assertSafePath(path);
    return this.prefix + path;
  }

  async stat(path: string): Promise<FileInfo> {
    const key = this.key(path);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: head.ContentLength ?? 0,
        modified: head.LastModified ?? new Date(0),
        isDirectory: false,
      };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const inside = await this.client.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${key}/`, MaxKeys: 1 }),
    );
    if ((inside.KeyCount ?? 0) > 0) return { size: 0, modified: new Date(0), isDirectory: true };
    throw new PathNotFoundError(path);
  }

  async read(path: string, range?: ByteRange): Promise<Readable> {
    const key = this.key(path);
    const header = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: header }),
      );
      return (res.Body as Readable | undefined) ?? Readable.from([]);
    } catch (err) {
      if (isNotFound(err)) throw new PathNotFoundError(path);
      // A range that starts at or past the end of an existing object: no bytes.
      if (statusOf(err) === 416) return Readable.from([]);
      throw err;
    }
  }

  async write(path: string, source: Readable): Promise<number> {
    const key = this.key(path);
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    let total = 0;
    try {
      for await (const { data, last } of cut(source, [])) {
        total += data.length;
        if (last && !uploadId) {
          await this.put(key, data);
          return total;
        }
        if (data.length === 0) break;
        uploadId ??= await this.createMultipart(key);
        parts.push(await this.uploadPart(key, uploadId, parts.length + 1, data));
      }
      await this.complete(key, uploadId!, parts);
      return total;
    } catch (err) {
      if (uploadId) await this.abort(key, uploadId).catch(() => undefined);
      throw err;
    }
  }

  async append(path: string, source: Readable): Promise<number> {
    const key = this.key(path);
    const state = await this.appendState(key);
    const held = state.tail ? [await this.getBytes(state.tail.key)] : [];
    let uploadId = state.uploadId;
    let offset = state.partsSize;
    let next = state.parts.length + 1;
    let added = -held.reduce((n, b) => n + b.length, 0);
    for await (const { data, last } of cut(source, held)) {
      added += data.length;
      if (last && data.length < minPart) {
        // Nothing new: the old tail stays as it is.
        if (data.length > 0 && added > 0) await this.put(`${key}${tailTag}${offset}`, data);
        break;
      }
      if (!uploadId) {
        uploadId = await this.createMultipart(key);
        await this.put(
          `${key}${multipartTag}${Buffer.from(uploadId).toString('base64url')}`,
          Buffer.alloc(0),
        );
      }
      await this.uploadPart(key, uploadId, next++, data);
      offset += data.length;
    }
    // Tails of earlier offsets are now inside parts.
    const stale = state.extras.filter((k) => k.includes(tailTag) && k !== `${key}${tailTag}${offset}`);
    if (stale.length > 0) await this.deleteKeys(stale);
    return added;
  }

  async appendedSize(path: string): Promise<number> {
    const state = await this.appendState(this.key(path));
    if (state.uploadId || state.tail) return state.partsSize + (state.tail?.size ?? 0);
    return state.sealed ?? 0;
  }

  async seal(path: string): Promise<void> {
    const key = this.key(path);
    const state = await this.appendState(key);
    if (state.uploadId) {
      const parts: CompletedPart[] = state.parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
      if (state.tail) {
        const copied = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: state.uploadId,
            PartNumber: parts.length + 1,
            CopySource: this.copySource(state.tail.key),
          }),
        );
        parts.push({ PartNumber: parts.length + 1, ETag: copied.CopyPartResult?.ETag });
      }
      await this.complete(key, state.uploadId, parts);
    } else if (state.tail) {
      await this.copy(state.tail.key, key);
    } else if (state.sealed === undefined) {
      await this.put(key, Buffer.alloc(0));
    }
    if (state.extras.length > 0) await this.deleteKeys(state.extras);
  }

  async putContent(path: string, data: Buffer): Promise<void> {
    await this.put(this.key(path), data);
  }

  /** An object is durable once S3 answers the PUT: nothing is left to flush. */
  async stageContent(path: string, data: Buffer): Promise<{ durable: Promise<void> }> {
    await this.putContent(path, data);
    return { durable: Promise.resolve() };
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      return await this.getBytes(this.key(path));
    } catch (err) {
      throw isNotFound(err) ? new PathNotFoundError(path) : err;
    }
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.key(from);
    const target = this.key(to);
    let size: number;
    try {
      size =
        (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: source }))).ContentLength ??
        0;
    } catch (err) {
      throw isNotFound(err) ? new PathNotFoundError(from) : err;
    }
    if (size <= maxCopy) await this.copy(source, target);
    else await this.copyInParts(source, target, size);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: source }));
  }

  async delete(path: string): Promise<void> {
    const keys = await this.keysUnder(this.key(path));
    if (keys.length === 0) throw new PathNotFoundError(path);
    await this.deleteKeys(keys);
  }

  async deleteMany(paths: string[]): Promise<void> {
    const roots = paths.map((p) => this.key(p));
    const keys: string[] = [];
    for (let i = 0; i < roots.length; i += 16) {
      const found = await Promise.all(roots.slice(i, i + 16).map((k) => this.keysUnder(k)));
      keys.push(...found.flat());
    }
    await this.deleteKeys(keys);
  }

  async list(path: string): Promise<string[]> {
    const prefix = `${this.key(path)}/`;
    const names = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      );
      for (const p of page.CommonPrefixes ?? []) names.add(p.Prefix!.slice(prefix.length, -1));
      for (const o of page.Contents ?? []) {
        const name = o.Key!.slice(prefix.length);
        if (!internal.test(name)) names.add(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return [...names];
  }

  /** The multipart upload, parts and tail of the append file at `key`, and the sealed file if any. */
  private async appendState(key: string): Promise<AppendState> {
    const state: AppendState = { parts: [], partsSize: 0, extras: [] };
    const tails = new Map<number, { key: string; size: number }>();
    for (const o of await this.listKeys(key)) {
      if (o.key === key) state.sealed = o.size;
      else if (o.key.startsWith(key + multipartTag)) {
        state.extras.push(o.key);
        state.uploadId ??= Buffer.from(o.key.slice(key.length + multipartTag.length), 'base64url').toString();
      } else if (o.key.startsWith(key + tailTag)) {
        state.extras.push(o.key);
        tails.set(Number(o.key.slice(key.length + tailTag.length)), { key: o.key, size: o.size });
      }
    }
    if (state.uploadId) {
      let marker: string | undefined;
      do {
        const page = await this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: state.uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const p of page.Parts ?? []) {
          state.parts.push({ PartNumber: p.PartNumber!, ETag: p.ETag!, Size: p.Size ?? 0 });
          state.partsSize += p.Size ?? 0;
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    }
    state.tail = tails.get(state.partsSize);
    return state;
  }

  /** Every key that is `root` itself, inside the folder `root`, or an append file's state beside `root`. */
  private async keysUnder(root: string): Promise<string[]> {
    return (await this.listKeys(root))
      .map((o) => o.key)
      .filter(
        (k) =>
          k === root ||
          k.startsWith(`${root}/`) ||
          k.startsWith(root + multipartTag) ||
          k.startsWith(root + tailTag),
      );
  }

  private async listKeys(prefix: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Deletes keys 1000 at a time; a marker's multipart upload is aborted first. */
  private async deleteKeys(keys: string[]): Promise<void> {
    for (const k of keys) {
      const at = k.lastIndexOf(multipartTag);
      if (at < 0 || k.includes('/', at)) continue;
      const uploadId = Buffer.from(k.slice(at + multipartTag.length), 'base64url').toString();
      await this.abort(k.slice(0, at), uploadId).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    for (let i = 0; i < keys.length; i += 1000) {
      const res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = res.Errors?.[0];
      if (failed)
        throw new Error(`S3 refused to delete ${failed.Key}: ${failed.Code} ${failed.Message ?? ''}`);
    }
  }

  private async put(key: string, data: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data }));
  }

  private async getBytes(key: string): Promise<Buffer> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return Buffer.from((await res.Body?.transformToByteArray()) ?? []);
  }

  private copySource(key: string): string {
    return `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async copy(from: string, to: string): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: this.copySource(from) }),
    );
  }

  private async copyInParts(from: string, to: string, size: number): Promise<void> {
    const uploadId = await this.createMultipart(to);
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0; start < size; start += copyPart) {
        const end = Math.min(start + copyPart, size) - 1;
        const res = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: to,
            UploadId: uploadId,
            PartNumber: parts.length + 1,
            CopySource: this.copySource(from),
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ PartNumber: parts.length + 1, ETag: res.CopyPartResult?.ETag });
      }
      await this.complete(to, uploadId, parts);
    } catch (err) {
      await this.abort(to, uploadId).catch(() => undefined);
      throw err;
    }
  }

  private async createMultipart(key: string): Promise<string> {
    const res = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    return res.UploadId!;
  }

  private async uploadPart(
    key: string,
    uploadId: string,
    PartNumber: number,
    data: Buffer,
  ): Promise<CompletedPart> {
    const res = await this.client.send(
      new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber, Body: data }),
    );
    return { PartNumber, ETag: res.ETag };
  }

  private async complete(key: string, uploadId: string, parts: CompletedPart[]): Promise<void> {
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  }

  private async abort(key: string, uploadId: string): Promise<void> {
    await this.client.send(
      new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
    );
  }
}

/**
 * Cuts a stream, after the `held` bytes, into pieces of at least `partSize` bytes; the last piece (flagged)
 * holds the rest, possibly nothing. At most one piece plus one chunk is in memory.
 */
async function* cut(source: Readable, held: Buffer[]): AsyncGenerator<{ data: Buffer; last: boolean }> {
  let chunks = [...held];
  let size = chunks.reduce((n, b) => n + b.length, 0);
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buf);
    size += buf.length;
    if (size >= partSize) {
      const data = Buffer.concat(chunks, size);
      chunks = [];
      size = 0;
      yield { data, last: false };
    }
  }
  yield { data: Buffer.concat(chunks, size), last: true };
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as Error).name;
  return name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchUpload' || statusOf(err) === 404;
}
