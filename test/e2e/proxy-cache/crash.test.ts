// kill -9 in the middle of a proxied blob, on every backend: Berth runs as a child process, streams a blob
// from a throttled upstream (proxy_speed_kb) to a client, and is SIGKILLed once the client has part of
// it. Nothing of the blob is in the cache afterwards (no file at its path, nothing served for it), and
// after a restart on the same data the next pull fetches it again, whole, and caches it intact.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { spawnBerth, type BerthProcess } from '../../helpers/berth-process.js';
import { dockerRegistryBinary } from '../../helpers/docker-registry.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { createDatabase } from '../../helpers/postgres.js';
import {
  addUpstreamEndpoint,
  createProxyProject,
  expireFetchClaims,
  pullThrough,
  startUpstream,
  type Upstream,
} from '../../helpers/proxy-cache.js';
import { digestOf, makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { seedImage } from '../../helpers/replication.js';
import { needTools } from '../../helpers/tools.js';

for (const backend of backends()) {
  describe(`proxy cache after kill -9 mid-blob (${backend})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-proxy-crash-'));
    let berth: BerthProcess | undefined;
    let up: Upstream | undefined;
    after(async () => {
      await berth?.stop(2000);
      await up?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('caches nothing of the interrupted blob, and the next pull after restart completes intact', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const databaseUrl =
        backend === 'sqlite'
          ? `sqlite:${join(dataDir, 'berth.db')}`
          : await createDatabase(process.env.BERTH_TEST_PG_URL!);
      const site = {
        dataDir,
        ...(backend === 'postgres' ? { databaseUrl } : {}),
        startTimeoutMs: 120_000,
      };
      up = await startUpstream();
      const image = makeImage({ layers: 1, layerSize: 4 << 20 });
      const layer = image.blobs.find((b) => b.bytes.length === 4 << 20)!;
      await seedImage(up.seed, 'team/big', image, 'v1');
      berth = await spawnBerth(site);
      let api = new HarborApi(berth.url);
      // 2048 Kbit/s (256 KiB/s): the 4 MiB layer takes about 16 s, time enough to kill Berth in its middle.
      await createProxyProject(api, 'crash', await addUpstreamEndpoint(api, up), { proxy_speed_kb: '2048' });
      let client = new RegistryClient(berth.url);
      const manifest = await client.fetch('/v2/crash/team/big/manifests/v1');
      assert.equal(manifest.status, 200);
      await manifest.arrayBuffer();

      const res = await client.fetch(`/v2/crash/team/big/blobs/${layer.digest}`);
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let received = 0;
      while (received < 256 << 10) {
        const { value, done } = await reader.read();
        assert.ok(!done, 'the blob ended before Berth was killed');
        received += value.length;
      }
      await berth.kill('SIGKILL');
      await reader.read().then(
        () => undefined,
        () => undefined,
      );
      assert.ok(received < layer.bytes.length, `killed mid-blob (${received} bytes received)`);
      const hex = layer.digest.slice('sha256:'.length);
      const blobPath = join(dataDir, 'blobs', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
      assert.equal(existsSync(blobPath), false, 'nothing is at the blob path');
      // The killed process's claim on the fetch would hold others off until it expires (60 s).
      assert.equal(await expireFetchClaims(databaseUrl), 1, 'the killed fetch left its claim');

      berth = await spawnBerth(site);
      api = new HarborApi(berth.url);
      client = new RegistryClient(berth.url);
      await api.expect(200, 'PUT', '/projects/crash', { metadata: { proxy_speed_kb: '0' } });
      assert.equal(await pullThrough(client, 'crash/team/big', 'v1'), image.digest);
      assert.equal(digestOf(readFileSync(blobPath)), layer.digest, 'the cached copy is whole');
      assert.equal(
        up.gate.count(new RegExp(`^GET /v2/team/big/blobs/${layer.digest}$`)),
        2,
        'fetched once before the kill and once after',
      );
      // And from the cache, without the upstream.
      await up.close();
      up = undefined;
      assert.equal(await pullThrough(client, 'crash/team/big', image.digest), image.digest);
    });
  });
}
