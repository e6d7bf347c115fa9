import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before } from 'node:test';
import {
  basicAuth,
  startBerth,
  testAdmin,
  type Backend,
  type RunningBerth,
  type StartOptions,
} from './berth.js';

/**
 * A small OCI distribution client over `fetch`, plus builders for images, indexes and artifacts held in
 * memory. Shared by the /v2 integration suites; nothing here knows Berth's internals.
 */

export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export type Algorithm = 'sha256' | 'sha512';

export interface Blob {
  digest: string;
  bytes: Buffer;
  mediaType: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

/** A manifest ready to push: its exact bytes, digest and media type, and the blobs it needs. */
export interface Manifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  blobs: Blob[];
}

export function digestOf(bytes: Buffer | string, algorithm: Algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function blobOf(bytes: Buffer, mediaType: string = mediaTypes.ociLayer, algorithm?: Algorithm): Blob {
  return { digest: digestOf(bytes, algorithm), bytes, mediaType };
}

export function randomBlob(size: number, mediaType?: string, algorithm?: Algorithm): Blob {
  return blobOf(randomBytes(size), mediaType, algorithm);
}

export function descriptorOf(b: { digest: string; bytes: Buffer; mediaType: string }): Descriptor {
  return { mediaType: b.mediaType, digest: b.digest, size: b.bytes.length };
}

export function manifestOf(doc: object, blobs: Blob[] = []): Manifest {
  const bytes = Buffer.from(JSON.stringify(doc));
  const mediaType = (doc as { mediaType?: string }).mediaType ?? mediaTypes.ociManifest;
  return { bytes, digest: digestOf(bytes), mediaType, blobs };
}

export interface ImageOptions {
  /** OCI (default) or Docker schema 2. */
  format?: 'oci' | 'docker';
  layers?: number;
  layerSize?: number;
  architecture?: string;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** An image with random layers and a config naming the platform; every call yields new digests. */
export function makeImage(options: ImageOptions = {}): Manifest {
  const docker = options.format === 'docker';
  const architecture = options.architecture ?? 'amd64';
  const layers = Array.from({ length: options.layers ?? 1 }, () =>
    randomBlob(options.layerSize ?? 1024, docker ? mediaTypes.dockerLayer : mediaTypes.ociLayer),
  );
  const config = blobOf(
    Buffer.from(
      JSON.stringify({
        architecture,
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(l.bytes)) },
        config: { Labels: { nonce: randomBytes(8).toString('hex') } },
      }),
    ),
    docker ? mediaTypes.dockerConfig : mediaTypes.ociConfig,
  );
  const doc = {
    schemaVersion: 2,
    mediaType: docker ? mediaTypes.dockerManifest : mediaTypes.ociManifest,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: descriptorOf(config),
    layers: layers.map(descriptorOf),
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  return manifestOf(doc, [config, ...layers]);
}

/** An OCI artifact (empty config, one blob layer) that refers to `subject`. */
export function makeArtifact(subject: Manifest, artifactType: string, annotations?: Record<string, string>) {
  const empty = blobOf(Buffer.from('{}'), mediaTypes.ociEmpty);
  const payload = randomBlob(64, 'application/octet-stream');
  const doc = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    artifactType,
    config: descriptorOf(empty),
    layers: [descriptorOf(payload)],
    subject: descriptorOf(subject),
    ...(annotations ? { annotations } : {}),
  };
  return manifestOf(doc, [empty, payload]);
}

/** An OCI image index (or Docker manifest list) over `children`, one platform each. */
export function makeIndex(children: Manifest[], format: 'oci' | 'docker' = 'oci'): Manifest {
  const doc = {
    schemaVersion: 2,
    mediaType: format === 'docker' ? mediaTypes.dockerManifestList : mediaTypes.ociIndex,
    manifests: children.map((c, i) => ({
      ...descriptorOf(c),
      platform: { architecture: ['amd64', 'arm64', 's390x', 'ppc64le'][i % 4]!, os: 'linux' },
    })),
  };
  return manifestOf(doc);
}

/** A Buffer as a fetch body (the DOM typings do not list Buffer). */
export function body(bytes: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

export interface OciErrorBody {
  errors: { code: string; message?: string; detail?: unknown }[];
}

/** Asserts the response is `status` with an OCI error body whose first code is one of `codes`. */
export async function assertOciError(res: Response, status: number, ...codes: string[]): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text.slice(0, 300)}`);
  if (codes.length === 0) return;
  let body: OciErrorBody;
  try {
    body = JSON.parse(text) as OciErrorBody;
  } catch {
    assert.fail(`expected an OCI error body, got: ${text.slice(0, 300)}`);
  }
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `no errors in ${text}`);
  assert.ok(
    codes.includes(body.errors[0]!.code),
    `expected code ${codes.join(' or ')}, got ${body.errors[0]!.code}`,
  );
  assert.equal(typeof body.errors[0]!.message, 'string');
}

export interface ClientOptions {
  /** Basic credentials sent with every request; null for anonymous. Default: the test admin. */
  auth?: { username: string; password: string } | null;
  /**
   * Called before the first write (POST/PUT/PATCH) into each project, so suites that push to fresh
   * `uniqueRepo()` names need not create projects themselves. Pushing never creates a project.
   */
  ensureProject?: (project: string) => Promise<unknown>;
}

export class RegistryClient {
  private readonly ensured = new Set<string>();

  constructor(
    readonly baseUrl: string,
    readonly options: ClientOptions = {},
  ) {}

  /** fetch relative to the registry; `path` may be a `Location` header (absolute path or URL). */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    const method = (init.method ?? 'GET').toUpperCase();
    const m = /^\/v2\/([^/]+)\/.+/.exec(url.pathname);
    if (m && this.options.ensureProject && ['POST', 'PUT', 'PATCH'].includes(method)) {
      const project = decodeURIComponent(m[1]!);
      if (!this.ensured.has(project)) {
        await this.options.ensureProject(project);
        this.ensured.add(project);
      }
    }
    const auth = this.options.auth === undefined ? testAdmin : this.options.auth;
    const headers = new Headers(init.headers);
    if (auth && !headers.has('authorization')) headers.set('authorization', basicAuth(auth));
    return fetch(url, { redirect: 'manual', ...init, headers });
  }

  /** Pushes a blob in one request (POST ?digest=); asserts 201. */
  async pushBlob(repo: string, blob: { digest: string; bytes: Buffer }): Promise<void> {
    const res = await this.fetch(`/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: body(blob.bytes),
    });
    const text = await res.text();
    assert.equal(res.status, 201, `push blob ${blob.digest} to ${repo}: ${res.status} ${text}`);
  }

  /** Opens an upload session; returns its Location. */
  async startUpload(repo: string): Promise<string> {
    const res = await this.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    await res.body?.cancel();
    assert.equal(res.status, 202);
    const location = res.headers.get('location');
    assert.ok(location, 'upload session without Location');
    return location;
  }

  /** PUTs the manifest under `reference` (a tag, or its digest by default); asserts 201. */
  async putManifest(repo: string, manifest: Manifest, reference?: string): Promise<Response> {
    const res = await this.fetch(`/v2/${repo}/manifests/${reference ?? manifest.digest}`, {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType },
      body: body(manifest.bytes),
    });
    await res.body?.cancel();
    assert.equal(res.status, 201, `push manifest ${manifest.digest} to ${repo}: ${res.status}`);
    return res;
  }

  /** Pushes every blob of the manifest, then the manifest itself. */
  async pushImage(repo: string, manifest: Manifest, reference?: string): Promise<Response> {
    for (const blob of manifest.blobs) await this.pushBlob(repo, blob);
    return this.putManifest(repo, manifest, reference);
  }

  async getJson<T>(path: string, init?: RequestInit): Promise<{ res: Response; body: T }> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    assert.equal(res.status, 200, `GET ${path}: ${res.status} ${text.slice(0, 300)}`);
    return { res, body: JSON.parse(text) as T };
  }
}

/** A client for a running Berth, as the test admin, creating each project before its first push. */
export function clientFor(berth: Pick<RunningBerth, 'url' | 'createProject'>): RegistryClient {
  return new RegistryClient(berth.url, { ensureProject: (p) => berth.createProject(p) });
}

export interface BerthFixture {
  readonly berth: RunningBerth;
  readonly client: RegistryClient;
}

/**
 * Starts a Berth for the enclosing `describe` (in `before`) and closes it in `after`. Use inside a
 * `describe` per backend; read `berth`/`client` only inside tests.
 */
export function useBerth(backend: Backend, options: Omit<StartOptions, 'backend'> = {}): BerthFixture {
  let berth: RunningBerth | undefined;
  let client: RegistryClient | undefined;
  before(async () => {
    berth = await startBerth({ ...options, backend });
    client = clientFor(berth);
  });
  after(async () => {
    if (berth) await closeNow(berth);
  });
  return {
    get berth() {
      assert.ok(berth, 'Berth is not running');
      return berth;
    },
    get client() {
      assert.ok(client, 'Berth is not running');
      return client;
    },
  };
}

/**
 * Closes Berth without waiting for the keep-alive connections fetch leaves open: a graceful close can
 * otherwise wait for the server's keep-alive timeout (65 s).
 */
export async function closeNow(berth: RunningBerth): Promise<void> {
  const closing = berth.close();
  berth.app.server.server.closeAllConnections();
  await closing;
}

let counter = 0;

/** A repository name unique within this process, e.g. `t3x9k/app`; nested paths allowed. */
export function uniqueRepo(suffix = 'app'): string {
  counter += 1;
  return `t${counter}${randomBytes(3).toString('hex')}/${suffix}`;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request with node:http, sending `path` exactly as given: fetch normalises `..` segments away, so
 * path-traversal attempts need this. Authenticates as the test admin unless `authorization` is given.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  payload?: Buffer,
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const all = { authorization: basicAuth(testAdmin), ...headers };
    const req = request({ host: hostname, port, method, path, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
