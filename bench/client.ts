import { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { blobChunks, configJson, sha256, type BlobSpec } from './data.js';

/** One registry under test, seen from the client. */
export interface Target {
  name: 'berth' | 'distribution';
  url: string;
  pid: number;
}

export const manifestAccept = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

async function expectStatus(
  what: string,
  res: Dispatcher.ResponseData,
  ...ok: number[]
): Promise<Dispatcher.ResponseData> {
  if (!ok.includes(res.statusCode)) {
    const text = (await res.body.text()).slice(0, 500);
    throw new Error(`${what}: HTTP ${res.statusCode} ${text}`);
  }
  return res;
}

function location(base: string, res: Dispatcher.ResponseData): string {
  const loc = res.headers.location;
  if (typeof loc !== 'string') throw new Error('no Location header');
  return new URL(loc, base).toString();
}

function withDigest(loc: string, digest: string): string {
  const u = new URL(loc);
  u.searchParams.set('digest', digest);
  return u.toString();
}

async function openSession(t: Target, repo: string, d: Dispatcher): Promise<string> {
  const res = await request(`${t.url}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    headers: { 'content-length': '0' },
    dispatcher: d,
  });
  await expectStatus('POST upload', res, 202);
  await res.body.dump();
  return location(t.url, res);
}

/** POST a session, then PUT ?digest= with the whole blob as the body. */
export async function pushMonolithic(t: Target, repo: string, b: BlobSpec, d: Dispatcher): Promise<void> {
  const loc = await openSession(t, repo, d);
  const res = await request(withDigest(loc, b.digest), {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(b.size) },
    body: Readable.from(blobChunks(b.seed, b.size)),
    dispatcher: d,
  });
  await expectStatus('PUT blob', res, 201);
  await res.body.dump();
}

/** POST a session, PATCH chunks of `chunk` bytes with Content-Range, then PUT ?digest= without a body. */
export async function pushChunked(
  t: Target,
  repo: string,
  b: BlobSpec,
  chunk: number,
  d: Dispatcher,
): Promise<void> {
  let loc = await openSession(t, repo, d);
  for (let from = 0; from < b.size; from += chunk) {
    const to = Math.min(from + chunk, b.size);
    const res = await request(loc, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(to - from),
        'content-range': `${from}-${to - 1}`,
      },
      body: Readable.from(blobChunks(b.seed, b.size, from, to)),
      dispatcher: d,
    });
    await expectStatus('PATCH blob', res, 202);
    await res.body.dump();
    loc = location(t.url, res);
  }
  const res = await request(withDigest(loc, b.digest), {
    method: 'PUT',
    headers: { 'content-length': '0' },
    dispatcher: d,
  });
  await expectStatus('PUT blob (finish)', res, 201);
  await res.body.dump();
}

/** Small blobs (configs) in one request. */
export async function pushBytes(t: Target, repo: string, body: Buffer, d: Dispatcher): Promise<string> {
  const digest = sha256(body);
  const loc = await openSession(t, repo, d);
  const res = await request(withDigest(loc, digest), {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
    body,
    dispatcher: d,
  });
  await expectStatus('PUT small blob', res, 201);
  await res.body.dump();
  return digest;
}

/** GETs a blob and counts its bytes (no hashing: the client shares the CPU with the servers). */
export async function pullBlob(t: Target, repo: string, digest: string, d: Dispatcher): Promise<number> {
  const res = await request(`${t.url}/v2/${repo}/blobs/${digest}`, { method: 'GET', dispatcher: d });
  await expectStatus(`GET blob ${digest}`, res, 200);
  let n = 0;
  for await (const c of res.body) n += (c as Buffer).length;
  const declared = Number(res.headers['content-length']);
  if (n !== declared) throw new Error(`GET blob: got ${n} bytes, content-length ${declared}`);
  return n;
}

export interface PushedImage {
  repo: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
  configSize: number;
  layers: BlobSpec[];
  bytes: number;
}

/** An OCI image manifest over a config and layers; `annotations` make otherwise equal manifests differ. */
export function imageManifest(
  configDigest: string,
  configSize: number,
  layers: Array<Pick<BlobSpec, 'digest' | 'size'>>,
  annotations?: Record<string, string>,
  layerMediaType = 'application/vnd.oci.image.layer.v1.tar',
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: configSize,
      },
      layers: layers.map((l) => ({
        mediaType: layerMediaType,
        digest: l.digest,
        size: l.size,
      })),
      ...(annotations ? { annotations } : {}),
    }),
  );
}

/** PUTs an OCI image manifest under `reference`; anything but 201 throws. */
export async function putManifest(
  t: Target,
  repo: string,
  reference: string,
  manifest: Buffer,
  d: Dispatcher,
): Promise<void> {
  const res = await request(`${t.url}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
    dispatcher: d,
  });
  await expectStatus(`PUT manifest ${repo}:${reference}`, res, 201);
  await res.body.dump();
}

/** Pushes config + layers + an OCI image manifest under `tag`. */
export async function pushImage(
  t: Target,
  repo: string,
  tag: string,
  seed: number,
  layers: BlobSpec[],
  d: Dispatcher,
): Promise<PushedImage> {
  const config = configJson(seed);
  const configDigest = await pushBytes(t, repo, config, d);
  for (const l of layers) await pushMonolithic(t, repo, l, d);
  const manifest = imageManifest(configDigest, config.length, layers);
  await putManifest(t, repo, tag, manifest, d);
  const bytes = manifest.length + config.length + layers.reduce((s, l) => s + l.size, 0);
  return {
    repo,
    tag,
    manifestDigest: sha256(manifest),
    configDigest,
    configSize: config.length,
    layers,
    bytes,
  };
}

/** What a client does to pull an image: manifest by tag, then config and layers. Returns bytes read. */
export async function pullImage(t: Target, img: PushedImage, d: Dispatcher): Promise<number> {
  const res = await request(`${t.url}/v2/${img.repo}/manifests/${img.tag}`, {
    headers: { accept: manifestAccept },
    dispatcher: d,
  });
  await expectStatus('GET manifest', res, 200);
  let n = (await res.body.arrayBuffer()).byteLength;
  n += await pullBlob(t, img.repo, img.configDigest, d);
  for (const l of img.layers) n += await pullBlob(t, img.repo, l.digest, d);
  return n;
}
