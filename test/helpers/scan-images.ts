import { gzipSync } from 'node:zlib';
import { tarArchive } from './images.js';
import { blobOf, descriptorOf, manifestOf, mediaTypes, type Manifest } from './registry-client.js';

const osRelease =
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';

/** A dpkg status stanza of an installed package. */
export function dpkgStanza(p: { name: string; version: string; source?: string }): string {
  return [
    `Package: ${p.name}`,
    'Status: install ok installed',
    'Architecture: amd64',
    ...(p.source ? [`Source: ${p.source}`] : []),
    `Version: ${p.version}`,
    '',
  ].join('\n');
}

/**
 * A Debian 12 image with a real dpkg status file listing `packages`, scannable by the built-in scanner
 * against test/fixtures/osv-debian12; `nonce` makes its digest unique.
 */
export function debianImage(
  packages: { name: string; version: string; source?: string }[],
  nonce: string,
): Manifest {
  const layer = blobOf(
    gzipSync(
      tarArchive([
        { path: 'usr/lib/os-release', content: Buffer.from(osRelease) },
        { path: 'var/lib/dpkg/status', content: Buffer.from(packages.map(dpkgStanza).join('\n')) },
        { path: 'etc/nonce', content: Buffer.from(nonce) },
      ]),
    ),
    mediaTypes.ociLayer,
  );
  const config = blobOf(
    Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
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

/** bash 5.2.15-2 (CVE-2022-3715, High, fixed in 5.2.15-3) and sqlite3 3.40.1-2+deb12u2 (CVE-2025-6965, Critical). */
export const VULNERABLE_PACKAGES = [
  { name: 'bash', version: '5.2.15-2+b8', source: 'bash (5.2.15-2)' },
  { name: 'libsqlite3-0', version: '3.40.1-2+deb12u2', source: 'sqlite3' },
];

/** A package no fixture record names. */
export const CLEAN_PACKAGES = [{ name: 'base-files', version: '12.4+deb12u5' }];
