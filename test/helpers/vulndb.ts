import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ImageLayer } from '../../src/services/scanning/builtin/inventory/index.js';
import { sha256, tarArchive, type LayerFile } from './images.js';
import { blobOf, descriptorOf, digestOf, manifestOf, mediaTypes, type Manifest } from './registry-client.js';

/** The committed OSV fixture: Debian:12 records modelled on real DSA/DEBIAN-CVE records. */
export const DEBIAN12_FIXTURE_DIR = new URL('../fixtures/osv-debian12/', import.meta.url).pathname;

export function debian12Records(): Array<{ file: string; record: unknown }> {
  return readdirSync(DEBIAN12_FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      record: JSON.parse(readFileSync(join(DEBIAN12_FIXTURE_DIR, file), 'utf8')) as unknown,
    }));
}

const BOOKWORM_FIXTURE_DIR = new URL('../fixtures/bookworm/', import.meta.url).pathname;

/**
 * A Debian 12 machine's dpkg database (823 packages) and os-release, committed: a snapshot of a development
 * machine's, taken 2026-12-06. The tests read it rather than the machine's own, whose packages move with
 * each machine image and each `apt-get install` (curl went from +deb12u15 on the machine the expectations
 * were written on to +deb12u14 on the next, and the API test that compares whole reports failed there).
 */
export function bookwormFiles(): { dpkgStatus: Buffer; osRelease: Buffer } {
  return {
    dpkgStatus: gunzipSync(readFileSync(join(BOOKWORM_FIXTURE_DIR, 'dpkg-status.gz'))),
    osRelease: readFileSync(join(BOOKWORM_FIXTURE_DIR, 'os-release')),
  };
}

/** The gzipped layer of bookwormImageLayers(): the committed dpkg database and os-release. */
let bookworm: Buffer | undefined;

/**
 * Built once per process: tarArchive stamps each entry with the current second, so two calls that straddle
 * a second differ, and scan-image.test compares the digest of one call with the layer another call scanned
 * (it failed so in a full run).
 */
export function bookwormLayer(): Buffer {
  bookworm ??= gzipSync(
    tarArchive([
      { path: 'usr/lib/os-release', content: bookwormFiles().osRelease },
      { path: 'var/lib/dpkg/status', content: bookwormFiles().dpkgStatus },
    ]),
  );
  return bookworm;
}

/** A one-layer image made of the committed dpkg database and os-release (Debian 12 bookworm). */
export function bookwormImageLayers(): ImageLayer[] {
  const gz = bookwormLayer();
  return [
    {
      digest: sha256(gz),
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      open: () => Promise.resolve(Readable.from([gz])),
    },
  ];
}

/** The source packages the expectations rest on, at the versions of the committed dpkg database. */
export const BOOKWORM_SOURCES: Record<string, string> = {
  openssl: '3.0.22-1~deb12u2',
  curl: '7.88.1-10+deb12u14',
  bash: '5.2.15-2',
  sqlite3: '3.40.1-2+deb12u2',
  libxml2: '2.9.14+dfsg-1.3~deb12u5',
  expat: '2.5.0-1+deb12u1',
  glibc: '2.36-9+deb12u14',
  zlib: '1:1.2.13.dfsg-1',
  git: '1:2.39.5-0+deb12u3',
};

/** Exactly what a scan of bookwormImageLayers() against the fixture reports: `id package version fix severity`. */
export const BOOKWORM_EXPECTED = [
  'CVE-2025-6965 libsqlite3-0 3.40.1-2+deb12u2 3.40.1-2+deb12u3 Critical',
  'CVE-2025-6965 libsqlite3-dev 3.40.1-2+deb12u2 3.40.1-2+deb12u3 Critical',
  'CVE-2025-6965 sqlite3 3.40.1-2+deb12u2 3.40.1-2+deb12u3 Critical',
  'CVE-2022-3715 bash 5.2.15-2+b8 5.2.15-3 High',
  'CVE-2024-45490 libexpat1 2.5.0-1+deb12u1 2.5.0-1+deb12u2 High',
  'CVE-2024-45490 libexpat1-dev 2.5.0-1+deb12u1 2.5.0-1+deb12u2 High',
  'CVE-2024-45491 libexpat1 2.5.0-1+deb12u1 2.5.0-1+deb12u2 High',
  'CVE-2024-45491 libexpat1-dev 2.5.0-1+deb12u1 2.5.0-1+deb12u2 High',
  'CVE-2024-45492 libexpat1 2.5.0-1+deb12u1 2.5.0-1+deb12u2 High',
  'CVE-2024-45492 libexpat1-dev 2.5.0-1+deb12u1 2.5.0-1+deb12u2 High',
  'CVE-2025-49794 libxml2 2.9.14+dfsg-1.3~deb12u5  High',
  'CVE-2025-49794 libxml2-dev 2.9.14+dfsg-1.3~deb12u5  High',
  'CVE-2025-9230 libssl-dev 3.0.22-1~deb12u2 3.0.22-1~deb12u3 High',
  'CVE-2025-9230 libssl3 3.0.22-1~deb12u2 3.0.22-1~deb12u3 High',
  'CVE-2025-9230 openssl 3.0.22-1~deb12u2 3.0.22-1~deb12u3 High',
  'CVE-2025-9086 curl 7.88.1-10+deb12u14  Low',
  'CVE-2025-9086 libcurl3-gnutls 7.88.1-10+deb12u14  Low',
  'CVE-2025-9086 libcurl3-nss 7.88.1-10+deb12u14  Low',
  'CVE-2025-9086 libcurl4 7.88.1-10+deb12u14  Low',
];

/** A gzipped layer of `files`, as the scanner takes it. */
export function layerOf(files: LayerFile[]): ImageLayer {
  const gz = gzipSync(tarArchive(files));
  return {
    digest: sha256(gz),
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    open: () => Promise.resolve(Readable.from([gz])),
  };
}

/** A Go (1.18+) binary's buildinfo section with inline strings, inside ELF-looking padding. */
export function goBinary(goVersion: string, modinfo: string): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
    out.push(n);
    return Buffer.from(out);
  };
  const header = Buffer.alloc(32);
  header.write('\xff Go buildinf:', 0, 'latin1');
  header[14] = 8;
  header[15] = 2;
  const sentinel = Buffer.alloc(16, 0x30);
  const mod = Buffer.concat([sentinel, Buffer.from(modinfo), sentinel]);
  const elf = Buffer.concat([Buffer.from('\x7fELF', 'latin1'), Buffer.alloc(70_000, 0x90)]);
  return Buffer.concat([
    elf,
    header,
    varint(goVersion.length),
    Buffer.from(goVersion),
    varint(mod.length),
    mod,
    Buffer.alloc(5000),
  ]);
}

/** An rpm sqlite database (RHEL 9 layout: table Packages of header blobs) at `file`. */
export function rpmSqliteDb(file: string, packages: Array<Record<number, string | number>>): void {
  const db = new Database(file);
  db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
  for (const tags of packages) insert.run(rpmHeader(tags));
  db.close();
}

/** An rpm header blob (no lead) with string tags and an INT32 epoch (tag 1003). */
function rpmHeader(tags: Record<number, string | number>): Buffer {
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let offset = 0;
  for (const [tag, value] of Object.entries(tags)) {
    const e = Buffer.alloc(16);
    e.writeUInt32BE(Number(tag), 0);
    let bytes: Buffer;
    if (typeof value === 'number') {
      const pad = (4 - (offset % 4)) % 4;
      data.push(Buffer.alloc(pad));
      offset += pad;
      bytes = Buffer.alloc(4);
      bytes.writeInt32BE(value);
      e.writeUInt32BE(4, 4);
    } else {
      bytes = Buffer.from(`${value}\0`);
      e.writeUInt32BE(6, 4);
    }
    e.writeUInt32BE(offset, 8);
    e.writeUInt32BE(1, 12);
    index.push(e);
    data.push(bytes);
    offset += bytes.length;
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(index.length, 0);
  head.writeUInt32BE(offset, 4);
  return Buffer.concat([head, ...index, ...data]);
}

/** bookwormImageLayers() as an OCI image ready to push (config naming the layer's diff id). */
export function bookwormImage(): Manifest {
  const tar = tarArchive([
    { path: 'usr/lib/os-release', content: bookwormFiles().osRelease },
    { path: 'var/lib/dpkg/status', content: bookwormFiles().dpkgStatus },
  ]);
  const layer = blobOf(gzipSync(tar), mediaTypes.ociLayer);
  const config = blobOf(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
      }),
    ),
    mediaTypes.ociConfig,
  );
  return manifestOf(
    {
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: descriptorOf(config),
      layers: [descriptorOf(layer)],
    },
    [config, layer],
  );
}
