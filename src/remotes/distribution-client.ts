import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type {
  BlobUploadOptions,
  FetchedBlob,
  FetchedManifest,
  ListOptions,
  ManifestDescriptor,
  RemoteReferrers,
} from './adapter.js';
import type { Authorizer } from './auth.js';
import type { HttpResponse, RemoteHttp } from './http.js';

/**
 * A client of the OCI distribution v2 API (`/v2/...`) shared by every adapter: catalog and tag listing
 * with `Link` paging, manifests, blobs (streamed download, monolithic or chunked upload, cross-repository
 * mount). Authentication is delegated to an Authorizer; a 401 is retried once after the authorizer has
 * learned from the challenge, except for a streamed body, which is only sent once a preceding call in
 * the same scope has obtained credentials.
 */

export const manifestAccept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
].join(', ');

export interface CallOptions {
  operation: string;
  method: Dispatcher.HttpMethod;
  /** Path under the base URL, or an absolute URL (upload locations). */
  path: string;
  scopes: string[];
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  signal?: AbortSignal;
  stream?: boolean;
  follow?: boolean;
}

export const pullScope = (repo: string) => `repository:${repo}:pull`;
export const pushScope = (repo: string) => `repository:${repo}:pull,push`;
const deleteScope = (repo: string) => `repository:${repo}:pull,push,delete`;

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export class DistributionClient {
  constructor(
    readonly http: RemoteHttp,
    /** Mutable: some providers name their registry host only in the auth exchange (ECR's proxyEndpoint). */
    public baseUrl: string,
    readonly authorizer: Authorizer,
  ) {}

  /** Sends a request with authorization, retrying once after a 401 challenge when the body allows. */
  async call(o: CallOptions): Promise<HttpResponse> {
    const attempt = async (scopes: string[]) => {
      const auth = await this.authorizer.header(scopes, o.signal);
      const url = new URL(o.path, this.baseUrl).toString();
      const headers = { ...o.headers, ...(auth ? { authorization: auth } : {}) };
      const req = {
        operation: o.operation,
        method: o.method,
        url,
        headers,
        body: o.body,
        signal: o.signal,
        stream: o.stream,
      };
      return o.follow ? this.http.sendFollowing(req) : this.http.send(req);
    };
    const res = await attempt(o.scopes);
    const replayable = o.body === undefined || typeof o.body === 'string' || Buffer.isBuffer(o.body);
    if (res.status !== 401 || !replayable) return res;
    const retry = await this.authorizer.challenged(res.headers['www-authenticate'], o.scopes);
    if (!retry) return res;
    await res.body.dump();
    return attempt(retry);
  }

  /** `GET /v2/` with credentials: proves reachability and that the credentials are accepted. */
  async ping(options: ListOptions = {}): Promise<void> {
    const res = await this.call({
      operation: 'ping',
      method: 'GET',
      path: '/v2/',
      scopes: [],
      signal: options.signal,
    });
    if (res.status === 200) return void (await res.body.dump());
    throw await this.http.failure('ping', res);
  }

  async catalog(options: ListOptions = {}): Promise<string[]> {
    return this.paged<{ repositories?: string[] }>(
      'list repositories',
      '/v2/_catalog?n=1000',
      ['registry:catalog:*'],
      options,
      (b) => b.repositories ?? [],
    );
  }

  async tags(repository: string, options: ListOptions = {}): Promise<string[]> {
    return this.paged<{ tags?: string[] | null }>(
      `list tags of ${repository}`,
      `/v2/${repository}/tags/list?n=1000`,
      [pullScope(repository)],
      options,
      (b) => b.tags ?? [],
    );
  }

  /** Follows `Link: <...>; rel="next"` pages. */
  private async paged<T>(
    operation: string,
    first: string,
    scopes: string[],
    options: ListOptions,
    pick: (body: T) => string[],
  ): Promise<string[]> {
    const out: string[] = [];
    let path: string | undefined = first;
    for (let page = 0; path && page < 10_000; page++) {
      const res = await this.call({ operation, method: 'GET', path, scopes, signal: options.signal });
      if (res.status === 404 && out.length === 0) {
        await res.body.dump();
        return out;
      }
      if (res.status !== 200) throw await this.http.failure(operation, res);
      out.push(...pick(await this.http.json<T>(operation, res)));
      path = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.link ?? '')?.[1];
    }
    return out;
  }

  async headManifest(
    repository: string,
    reference: string,
    options: ListOptions = {},
  ): Promise<ManifestDescriptor | null> {
    const operation = `check manifest ${ref(repository, reference)}`;
    const res = await this.call({
      operation,
      method: 'HEAD',
      path: `/v2/${repository}/manifests/${reference}`,
      scopes: [pullScope(repository)],
      headers: { accept: manifestAccept },
      signal: options.signal,
    });
    // The failure reads the body: it must not be dumped first (undici throws reading a dumped body).
    if (res.status !== 200 && res.status !== 404) throw await this.http.failure(operation, res);
    await res.body.dump();
    if (res.status === 404) return null;
    const digest = res.headers['docker-content-digest'] ?? (reference.includes(':') ? reference : undefined);
    if (!digest) return (await this.getManifest(repository, reference, options)) satisfies ManifestDescriptor;
    return { digest, mediaType: mediaTypeOf(res.headers), size: Number(res.headers['content-length'] ?? 0) };
  }

  async getManifest(
    repository: string,
    reference: string,
    options: ListOptions = {},
  ): Promise<FetchedManifest> {
    const operation = `pull manifest ${ref(repository, reference)}`;
    const res = await this.call({
      operation,
      method: 'GET',
      path: `/v2/${repository}/manifests/${reference}`,
      scopes: [pullScope(repository)],
      headers: { accept: manifestAccept },
      signal: options.signal,
    });
    if (res.status !== 200) throw await this.http.failure(operation, res);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw this.http.error(operation, 'invalid', `the manifest's bytes hash to ${digest}, not ${reference}`);
    }
    return { digest, mediaType: mediaTypeOf(res.headers, bytes), size: bytes.length, bytes };
  }

  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
    options: ListOptions = {},
  ): Promise<string> {
    const operation = `push manifest ${ref(repository, reference)}`;
    const res = await this.call({
      operation,
      method: 'PUT',
      path: `/v2/${repository}/manifests/${reference}`,
      scopes: [pushScope(repository)],
      headers: { 'content-type': mediaType },
      body: bytes,
      signal: options.signal,
    });
    if (res.status !== 201 && res.status !== 200) throw await this.http.failure(operation, res);
    await res.body.dump();
    return res.headers['docker-content-digest'] ?? sha256(bytes);
  }

  async deleteManifest(repository: string, reference: string, options: ListOptions = {}): Promise<void> {
    let digest = reference;
    if (!reference.includes(':')) {
      const head = await this.headManifest(repository, reference, options);
      if (!head) return;
      digest = head.digest;
    }
    const operation = `delete manifest ${ref(repository, reference)}`;
    const res = await this.call({
      operation,
      method: 'DELETE',
      path: `/v2/${repository}/manifests/${digest}`,
      scopes: [deleteScope(repository)],
      signal: options.signal,
    });
    await res.body.dump();
    if (res.status === 202 || res.status === 200 || res.status === 404) return;
    throw await this.http.failure(operation, res);
  }

  /**
   * One page of the OCI referrers API (`query` as the client sent it: artifactType, n, last); null when
   * the upstream answers 404 (no such manifest, or no referrers API).
   */
  async referrers(
    repository: string,
    digest: string,
    query: string,
    options: ListOptions = {},
  ): Promise<RemoteReferrers | null> {
    const operation = `list referrers of ${ref(repository, digest)}`;
    const res = await this.call({
      operation,
      method: 'GET',
      path: `/v2/${repository}/referrers/${digest}${query ? `?${query}` : ''}`,
      scopes: [pullScope(repository)],
      headers: { accept: 'application/vnd.oci.image.index.v1+json' },
      signal: options.signal,
    });
    if (res.status === 404) {
      await res.body.dump();
      return null;
    }
    if (res.status !== 200) throw await this.http.failure(operation, res);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const index = JSON.parse(bytes.toString('utf8')) as { manifests?: unknown };
    if (!Array.isArray(index.manifests))
      throw this.http.error(operation, 'invalid', 'answered something that is not an image index');
    const headers: Record<string, string> = {};
    for (const h of ['link', 'oci-filters-applied', 'x-total-count'])
      if (res.headers[h] !== undefined) headers[h] = res.headers[h];
    return { manifests: index.manifests as RemoteReferrers['manifests'], headers };
  }

  async headBlob(repository: string, digest: string, options: ListOptions = {}): Promise<number | null> {
    const operation = `check blob ${digest} in ${repository}`;
    const res = await this.call({
      operation,
      method: 'HEAD',
      path: `/v2/${repository}/blobs/${digest}`,
      scopes: [pullScope(repository)],
      signal: options.signal,
      follow: true,
    });
    if (res.status !== 200 && res.status !== 404) throw await this.http.failure(operation, res);
    await res.body.dump();
    if (res.status === 404) return null;
    return Number(res.headers['content-length'] ?? 0);
  }

  async getBlob(repository: string, digest: string, options: ListOptions = {}): Promise<FetchedBlob> {
    const operation = `pull blob ${digest} from ${repository}`;
    const res = await this.call({
      operation,
      method: 'GET',
      path: `/v2/${repository}/blobs/${digest}`,
      scopes: [pullScope(repository)],
      signal: options.signal,
      stream: true,
      follow: true,
    });
    if (res.status !== 200) throw await this.http.failure(operation, res);
    return { size: Number(res.headers['content-length'] ?? -1), stream: res.body };
  }

  async putBlob(
    repository: string,
    digest: string,
    size: number,
    stream: Readable,
    options: BlobUploadOptions = {},
  ): Promise<void> {
    const operation = `push blob ${digest} to ${repository}`;
    let location: string;
    try {
      location = await this.startUpload(operation, repository, options.signal);
    } catch (err) {
      stream.destroy();
      throw err;
    }
    const put = (url: string, body: Buffer | Readable, length: number) =>
      this.call({
        operation,
        method: 'PUT',
        path: withQuery(url, { digest }),
        scopes: [pushScope(repository)],
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
        body,
        signal: options.signal,
      });
    let res: HttpResponse;
    if (!options.chunkSize) {
      res = await put(location, stream, size);
    } else {
      let offset = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < options.chunkSize) continue;
        location = await this.patch(
          operation,
          repository,
          location,
          Buffer.concat(pending),
          offset,
          options.signal,
        );
        offset += pendingBytes;
        pending = [];
        pendingBytes = 0;
      }
      res = await put(location, Buffer.concat(pending), pendingBytes);
    }
    if (res.status !== 201) throw await this.http.failure(operation, res);
    await res.body.dump();
  }

  private async patch(
    operation: string,
    repository: string,
    location: string,
    bytes: Buffer,
    offset: number,
    signal?: AbortSignal,
  ): Promise<string> {
    const res = await this.call({
      operation,
      method: 'PATCH',
      path: location,
      scopes: [pushScope(repository)],
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.length),
        'content-range': `${offset}-${offset + bytes.length - 1}`,
      },
      body: bytes,
      signal,
    });
    if (res.status !== 202) throw await this.http.failure(operation, res);
    await res.body.dump();
    return res.headers.location ?? location;
  }

  private async startUpload(operation: string, repository: string, signal?: AbortSignal): Promise<string> {
    const res = await this.call({
      operation,
      method: 'POST',
      path: `/v2/${repository}/blobs/uploads/`,
      scopes: [pushScope(repository)],
      signal,
    });
    if (res.status !== 202) throw await this.http.failure(operation, res);
    await res.body.dump();
    const location = res.headers.location;
    if (!location) throw this.http.error(operation, 'invalid', 'the upload was accepted without a Location');
    return new URL(location, this.baseUrl).toString();
  }

  async mountBlob(from: string, digest: string, to: string, options: ListOptions = {}): Promise<boolean> {
    const operation = `mount blob ${digest} from ${from} into ${to}`;
    const res = await this.call({
      operation,
      method: 'POST',
      path: `/v2/${to}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      scopes: [pushScope(to), pullScope(from)],
      signal: options.signal,
    });
    await res.body.dump();
    if (res.status === 201) return true;
    if (res.status === 202 && res.headers.location) {
      // The registry opened an ordinary upload instead; cancel it.
      const cancel = await this.call({
        operation,
        method: 'DELETE',
        path: new URL(res.headers.location, this.baseUrl).toString(),
        scopes: [pushScope(to)],
        signal: options.signal,
      });
      await cancel.body.dump();
      return false;
    }
    if (res.status === 202 || res.status === 404 || res.status === 403) return false;
    throw await this.http.failure(operation, res);
  }
}

function ref(repository: string, reference: string): string {
  return reference.includes(':') ? `${repository}@${reference}` : `${repository}:${reference}`;
}

function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

function mediaTypeOf(headers: Record<string, string>, bytes?: Buffer): string {
  const header = (headers['content-type'] ?? '').split(';')[0]!.trim();
  if (header && header !== 'application/json' && header !== 'application/octet-stream') return header;
  if (bytes) {
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as {
        mediaType?: string;
        manifests?: unknown;
        schemaVersion?: number;
      };
      if (doc.mediaType) return doc.mediaType;
      if (doc.manifests) return 'application/vnd.oci.image.index.v1+json';
      if (doc.schemaVersion === 2) return 'application/vnd.oci.image.manifest.v1+json';
    } catch {
      // not JSON; fall through
    }
  }
  return header || 'application/vnd.oci.image.manifest.v1+json';
}
