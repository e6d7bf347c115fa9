// Builds container images locally, as OCI image layouts (image-spec `image-layout.md`), so the e2e tests
// need no network: by hand (random layers, config, manifest, index) or with umoci.
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { run } from './exec.js';

export const ociMediaTypes = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface BuiltImage {
  /** The manifest's descriptor; `digest` is what a registry must answer for this image. */
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

export interface BuiltIndex {
  index: Descriptor;
  children: (BuiltImage & { platform: Platform })[];
}

/** A file to put in a layer; `content` defaults to random bytes so every build is unique. */
export interface LayerFile {
  path: string;
  content?: string | Buffer;
  mode?: number;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `berth-e2e-${prefix}-`));
}

/** An OCI image layout directory: `oci-layout`, `index.json` and `blobs/sha256/`. */
export class OciLayout {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    const marker = join(dir, 'oci-layout');
    if (!existsSync(marker)) writeFileSync(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (!existsSync(join(dir, 'index.json'))) this.writeIndex([]);
  }

  /** `oci:<dir>:<ref>`, the transport reference skopeo understands. */
  ref(tag: string): string {
    return `oci:${this.dir}:${tag}`;
  }

  writeBlob(bytes: Buffer | string, mediaType: string): Descriptor {
    const digest = sha256(bytes);
    writeFileSync(this.blobPath(digest), bytes);
    return { mediaType, digest, size: Buffer.byteLength(bytes) };
  }

  blobPath(digest: string): string {
    const [algorithm, hex] = digest.split(':');
    return join(this.dir, 'blobs', algorithm!, hex!);
  }

  readJson<T>(digest: string): T {
    return JSON.parse(readFileSync(this.blobPath(digest), 'utf8')) as T;
  }

  /** Builds a one-layer image (plus any extra layers) and tags it `tag` in index.json. */
  addImage(options: {
    tag?: string;
    layers?: LayerFile[][];
    platform?: Platform;
    cmd?: string[];
  }): BuiltImage {
    const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
    const layerSpecs = options.layers ?? [[{ path: 'data/random.bin' }]];
    const diffIds: string[] = [];
    const layers = layerSpecs.map((files) => {
      const tar = tarArchive(files);
      diffIds.push(sha256(tar));
      return this.writeBlob(gzipSync(tar), ociMediaTypes.layerGzip);
    });
    const config = this.writeBlob(
      JSON.stringify({
        created: new Date().toISOString(),
        ...platform,
        config: { Cmd: options.cmd ?? ['/bin/true'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
      ociMediaTypes.config,
    );
    const manifest = this.writeBlob(
      JSON.stringify({ schemaVersion: 2, mediaType: ociMediaTypes.manifest, config, layers }),
      ociMediaTypes.manifest,
    );
    if (options.tag) this.tag(options.tag, manifest);
    return { manifest, config, layers };
  }

  /** Builds an OCI image index with one image per platform and tags it `tag`. */
  addIndex(tag: string, platforms: Platform[]): BuiltIndex {
    const children = platforms.map((platform) => ({
      ...this.addImage({
        platform,
        layers: [
          [{ path: `etc/${platform.architecture}.txt`, content: platform.architecture }, { path: 'r' }],
        ],
      }),
      platform,
    }));
    const index = this.writeBlob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: ociMediaTypes.index,
        manifests: children.map((c) => ({ ...c.manifest, platform: c.platform })),
      }),
      ociMediaTypes.index,
    );
    this.tag(tag, index);
    return { index, children };
  }

  /** Points `tag` (annotation `org.opencontainers.image.ref.name`) at a descriptor in index.json. */
  tag(tag: string, descriptor: Descriptor): void {
    const key = 'org.opencontainers.image.ref.name';
    const others = this.entries().filter((d) => d.annotations?.[key] !== tag);
    const { platform: _platform, ...plain } = descriptor;
    this.writeIndex([...others, { ...plain, annotations: { [key]: tag } }]);
  }

  /** The descriptor tagged `tag` in index.json. */
  find(tag: string): Descriptor {
    const found = this.entries().find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
    if (!found) throw new Error(`no ${tag} in ${this.dir}/index.json`);
    return found;
  }

  /** Reads back the image tagged `tag` (an image manifest, not an index). */
  image(tag: string): BuiltImage {
    const manifest = this.find(tag);
    const body = this.readJson<{ config: Descriptor; layers: Descriptor[] }>(manifest.digest);
    return { manifest, config: body.config, layers: body.layers };
  }

  /** Every blob whose content does not hash to its file name (should be none). */
  corruptBlobs(): string[] {
    const root = join(this.dir, 'blobs', 'sha256');
    return readdirSync(root)
      .map((hex) => `sha256:${hex}`)
      .filter((digest) => sha256(readFileSync(this.blobPath(digest))) !== digest);
  }

  private entries(): Descriptor[] {
    return (JSON.parse(readFileSync(join(this.dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] })
      .manifests;
  }

  private writeIndex(manifests: Descriptor[]): void {
    writeFileSync(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  }
}

/**
 * Builds an image with umoci in `layout` (created if needed): a fresh rootless bundle, `files` written
 * into its rootfs, repacked as one layer, `cmd` set in the config. Returns the image as umoci wrote it.
 */
export async function buildWithUmoci(
  layoutDir: string,
  tag: string,
  files: Record<string, string>,
  cmd: string[],
): Promise<BuiltImage> {
  if (!existsSync(join(layoutDir, 'oci-layout'))) await run('umoci', ['init', '--layout', layoutDir]);
  const image = `${layoutDir}:${tag}`;
  await run('umoci', ['new', '--image', image]);
  const bundleDir = tempDir('bundle');
  const bundle = join(bundleDir, 'b');
  try {
    await run('umoci', ['unpack', '--rootless', '--image', image, bundle]);
    for (const [path, content] of Object.entries(files)) {
      const full = join(bundle, 'rootfs', path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
    await run('umoci', ['repack', '--image', image, bundle]);
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
  }
  await run('umoci', ['config', '--image', image, ...cmd.flatMap((c) => ['--config.cmd', c])]);
  return new OciLayout(layoutDir).image(tag);
}

/** A POSIX ustar archive of `files` (regular files only; parent directories are implied). */
export function tarArchive(files: LayerFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const content =
      file.content === undefined
        ? randomBytes(4096 + Math.floor(Math.random() * 4096))
        : Buffer.from(file.content);
    blocks.push(tarHeader(file.path, content.length, file.mode ?? 0o644));
    blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function tarHeader(path: string, size: number, mode: number): Buffer {
  if (Buffer.byteLength(path) > 100) throw new Error(`tar path too long for this writer: ${path}`);
  const h = Buffer.alloc(512);
  const octal = (value: number, offset: number, width: number) =>
    h.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, 'ascii');
  h.write(path, 0, 'utf8');
  octal(mode, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(Math.floor(Date.now() / 1000), 136, 12);
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  // The checksum is computed with its own field read as eight spaces.
  h.fill(' ', 148, 156);
  const sum = h.reduce((acc, byte) => acc + byte, 0);
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

export interface TarEntry {
  path: string;
  /** ustar type flag: '0' file, '5' directory, '2' symlink, ... */
  type: string;
  content: Buffer;
}

/** Lists a tar archive's entries (gzip is undone when present); a PAX `path` record renames its entry. */
export function tarEntries(archive: Buffer): TarEntry[] {
  const tar = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive;
  const entries: TarEntry[] = [];
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) =>
      header.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    const name = field(0, 100);
    const content = tar.subarray(offset + 512, offset + 512 + size);
    if (type === 'x') paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString('utf8'))?.[1];
    else if (!['g', 'L', 'K'].includes(type)) {
      entries.push({ path: paxPath ?? (prefix ? `${prefix}/${name}` : name), type, content });
      paxPath = undefined;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}
