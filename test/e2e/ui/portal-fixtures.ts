// What the portal e2e needs besides the browser: an image with a build history, and API calls made
// directly (as the admin, with basic auth) to set up or check what the UI did.
import { gzipSync } from 'node:zlib';
import { ociMediaTypes, OciLayout, sha256, tarArchive, type BuiltImage } from '../../helpers/images.js';

export interface Creds {
  username: string;
  password: string;
}

/** The admin every test Berth starts with (identity's test helper sets admin.password). */
export function adminOf(berth: object): Creds {
  return (berth as { admin?: Creds }).admin ?? { username: 'admin', password: 'Berth-Test-12345' };
}

export const buildSteps = ['ADD rootfs.tar /', 'RUN make install', 'CMD ["/usr/local/bin/app"]'];

/** A two-layer image whose config records a build history (the third step made no layer). */
export function imageWithHistory(layout: OciLayout, tag: string): BuiltImage {
  const specs = [[{ path: 'etc/os-release', content: 'ID=berth-test\n' }], [{ path: 'usr/local/bin/app' }]];
  const diffIds: string[] = [];
  const layers = specs.map((files) => {
    const tar = tarArchive(files);
    diffIds.push(sha256(tar));
    return layout.writeBlob(gzipSync(tar), ociMediaTypes.layerGzip);
  });
  const created = new Date().toISOString();
  const config = layout.writeBlob(
    JSON.stringify({
      created,
      os: 'linux',
      architecture: 'amd64',
      config: { Cmd: ['/usr/local/bin/app'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: buildSteps.map((step, i) => ({
        created,
        created_by: step,
        ...(i === 2 ? { empty_layer: true } : {}),
      })),
    }),
    ociMediaTypes.config,
  );
  const manifest = layout.writeBlob(
    JSON.stringify({ schemaVersion: 2, mediaType: ociMediaTypes.manifest, config, layers }),
    ociMediaTypes.manifest,
  );
  layout.tag(tag, manifest);
  return { manifest, config, layers };
}

/** A JSON API call with basic auth; throws with the body when the status is not 2xx. */
export async function apiAs<T>(
  base: string,
  who: Creds,
  path: string,
  init: { method?: string; body?: unknown } = {},
) {
  const res = await fetch(`${base}/api/v2.0${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Tags of a repository as a registry's /v2 lists them (optionally with basic auth). */
export async function registryTags(base: string, repo: string, who?: Creds): Promise<string[]> {
  const headers: Record<string, string> = who
    ? { authorization: `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}` }
    : {};
  const res = await fetch(`${base}/v2/${repo}/tags/list`, { headers });
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return [...(body.tags ?? [])].sort();
}
