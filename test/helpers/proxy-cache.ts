// Proxy-cache test fixtures: Debian's docker-registry (basic auth) as the upstream behind an UpstreamGate
// that counts and can fail its requests, a client that pulls as docker does, and a proxy project made
// through the API (docs/proxy-cache.md).
import assert from 'node:assert/strict';
import { connect } from '../../src/db/connect.js';
import type { RemoteRegistry } from '../../src/remotes/adapter.js';
import { createRemote } from '../../src/remotes/remotes.js';
import { startDockerRegistry, type RunningDockerRegistry } from './docker-registry.js';
import type { HarborApi } from './harbor-api.js';
import { digestOf, type RegistryClient } from './registry-client.js';
import { startUpstreamGate, type UpstreamGate } from './upstream-gate.js';

export const manifestAccept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Pulls an image as a client does: the manifest, then every blob; returns the manifest's digest. */
export async function pullThrough(client: RegistryClient, repo: string, ref: string): Promise<string> {
  const res = await client.fetch(`/v2/${repo}/manifests/${ref}`, { headers: { accept: manifestAccept } });
  const text = await res.text();
  assert.equal(res.status, 200, `pull ${repo}:${ref}: ${res.status} ${text}`);
  const bytes = Buffer.from(text);
  const doc = JSON.parse(text) as { config?: { digest: string }; layers?: { digest: string }[] };
  for (const d of [doc.config, ...(doc.layers ?? [])].filter((x) => x !== undefined)) {
    const blob = await client.fetch(`/v2/${repo}/blobs/${d.digest}`);
    const got = Buffer.from(await blob.arrayBuffer());
    assert.equal(blob.status, 200, `blob ${d.digest}`);
    assert.equal(digestOf(got), d.digest, 'the blob received hashes to its digest');
  }
  assert.equal(res.headers.get('docker-content-digest'), digestOf(bytes));
  return digestOf(bytes);
}

export interface Upstream {
  registry: RunningDockerRegistry;
  gate: UpstreamGate;
  /** Writes into the upstream directly (not through the gate). */
  seed: RemoteRegistry;
  /** The upstream's basic-auth credential; undefined for an upstream without auth. */
  credential: { username: string; password: string } | undefined;
  close(): Promise<void>;
}

/** docker-registry with basic auth (or, with `auth: false`, without any), behind a gate. */
export async function startUpstream(options: { auth?: boolean } = {}): Promise<Upstream> {
  const credential = options.auth === false ? undefined : { username: 'puller', password: 'pa55word' };
  const registry = await startDockerRegistry(
    credential ? { htpasswd: { [credential.username]: credential.password } } : {},
  );
  const gate = await startUpstreamGate(registry.url);
  const seed = createRemote({
    type: 'docker-registry',
    url: registry.url,
    ...(credential && {
      credential: { type: 'basic', accessKey: credential.username, accessSecret: credential.password },
    }),
  });
  return {
    registry,
    gate,
    seed,
    credential,
    async close() {
      await seed.close();
      await gate.close();
      await registry.stop();
    },
  };
}

/** Adds the gate as a registry endpoint (with the upstream's credential, if it has one); returns its id. */
export async function addUpstreamEndpoint(api: HarborApi, up: Upstream, name = 'upstream'): Promise<number> {
  const c = up.credential;
  const created = await api.expect(201, 'POST', '/registries', {
    name,
    type: 'docker-registry',
    url: up.gate.url,
    ...(c && { credential: { type: 'basic', access_key: c.username, access_secret: c.password } }),
  });
  return Number(created.headers.get('location')!.split('/').pop());
}

/** Creates a private proxy-cache project of the endpoint; returns its id. */
export async function createProxyProject(
  api: HarborApi,
  name: string,
  registryId: number,
  metadata: Record<string, string> = {},
): Promise<number> {
  const res = await api.expect(201, 'POST', '/projects', {
    project_name: name,
    registry_id: registryId,
    metadata: { public: 'false', ...metadata },
  });
  return Number(res.headers.get('location')!.split('/').pop());
}

/**
 * Moves every blob-fetch claim (`proxy_fetch`) into the past, directly in Berth's database: what a killed
 * node's claims are once their 60 s have passed.
 */
export async function expireFetchClaims(databaseUrl: string): Promise<number> {
  const handle = connect({ url: databaseUrl, poolMax: 1, acquireTimeoutMs: 30_000 });
  try {
    const res = await handle.db
      .updateTable('proxy_fetch')
      .set({ expires_at: '2000-01-01T00:00:00.000Z' })
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  } finally {
    await handle.close();
  }
}
