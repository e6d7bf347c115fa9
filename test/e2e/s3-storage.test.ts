// Berth on the S3 driver against a real Ceph RADOS Gateway, on every metadata backend: skopeo pushes and
// pulls with identical digests, a chunked upload survives the death of the process that began it, a
// digest mismatch leaves nothing in the bucket, and with `redirect` blob GETs answer 307 to the bucket.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { backends, basicAuth, startBerth, testAdmin, type RunningBerth } from '../helpers/berth.js';
import { spawnBerth } from '../helpers/berth-process.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { OciLayout, sha256, tempDir } from '../helpers/images.js';
import { createDatabase } from '../helpers/postgres.js';
import { assertOciError, clientFor, digestOf, randomBlob } from '../helpers/registry-client.js';
import { s3ServerAvailable, startS3Server, type RunningS3Server } from '../helpers/s3-server.js';
import { needTools } from '../helpers/tools.js';

const MiB = 1024 * 1024;
if (s3ServerAvailable('Berth on S3')) {
  const server: Promise<RunningS3Server> = startS3Server();
  after(async () => (await server.catch(() => undefined))?.stop());

  /** BERTH_* settings for a spawned Berth on this bucket. */
  const envFor = (s3: RunningS3Server, bucket: string): Record<string, string> => ({
    BERTH_STORAGE_DRIVER: 's3',
    BERTH_STORAGE_S3_BUCKET: bucket,
    BERTH_STORAGE_S3_REGION: s3.region,
    BERTH_STORAGE_S3_ENDPOINT: s3.endpoint,
    BERTH_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    BERTH_STORAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
    BERTH_STORAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });

  for (const backend of backends()) {
    describe(`Berth on S3 storage (${backend})`, () => {
      let s3: RunningS3Server;
      let bucket: string;
      let berth: RunningBerth;
      let tools: ContainerTools;
      let work: string;

      before(async () => {
        s3 = await server;
        bucket = await s3.createBucket();
        berth = await startBerth({
          backend,
          overrides: { storage: { driver: 's3', s3: { ...s3.storageOptions(bucket), prefix: 'registry' } } },
        });
        await berth.createProject('s3');
        tools = containerTools();
        tools.login(berth.host, berth.admin);
        work = tempDir('s3');
      });
      after(async () => {
        await berth?.close();
        tools?.close();
        if (work) rmSync(work, { recursive: true, force: true });
      });

      const keys = async (prefix: string) => {
        const res = await s3.client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        return (res.Contents ?? []).map((o) => o.Key!);
      };

      it('skopeo pushes an image and pulls it back with identical digests; blobs live in the bucket', async (t) => {
        if (!needTools(t, 'skopeo')) return;
        const layout = new OciLayout(join(work, 'src'));
        const built = layout.addImage({
          tag: 'v1',
          layers: [[{ path: 'big.bin', content: randomBytes(7 * MiB) }], [{ path: 'small.txt' }]],
        });
        await tools.skopeo([
          'copy',
          '--dest-tls-verify=false',
          layout.ref('v1'),
          `docker://${berth.host}/s3/app:v1`,
        ]);
        const dirBack = join(work, 'back');
        await tools.skopeo([
          'copy',
          '--src-tls-verify=false',
          `docker://${berth.host}/s3/app:v1`,
          `dir:${dirBack}`,
        ]);
        assert.equal(sha256(readFileSync(join(dirBack, 'manifest.json'))), built.manifest.digest);
        const pulled = readdirSync(dirBack).filter((f) => /^[0-9a-f]{64}$/.test(f));
        assert.deepEqual(
          pulled.map((hex) => `sha256:${hex}`).sort(),
          [built.config.digest, ...built.layers.map((l) => l.digest)].sort(),
        );
        for (const hex of pulled) assert.equal(sha256(readFileSync(join(dirBack, hex))), `sha256:${hex}`);
        const stored = await keys('registry/blobs/');
        for (const d of [built.manifest.digest, built.config.digest, ...built.layers.map((l) => l.digest)]) {
          const hex = d.slice('sha256:'.length);
          assert.ok(
            stored.includes(`registry/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`),
            `${d} not in the bucket`,
          );
        }
        assert.deepEqual(await keys('registry/uploads/'), []);
      });

      it('a digest mismatch leaves nothing in the bucket', async () => {
        const client = clientFor(berth);
        const bytes = randomBytes(6 * MiB);
        const wrong = digestOf('something else');
        const res = await client.fetch(`/v2/s3/bad/blobs/uploads/?digest=${wrong}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: new Uint8Array(bytes),
        });
        await res.body?.cancel();
        assert.equal(res.status, 400);
        const hex = (d: string) => d.slice('sha256:'.length);
        const stored = await keys('registry/');
        assert.ok(
          !stored.some((k) => k.includes(hex(wrong)) || k.includes(hex(digestOf(bytes)))),
          stored.join(),
        );
        assert.deepEqual(await keys('registry/uploads/'), []);
        const open = await s3.client().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        assert.equal(open.Uploads?.length ?? 0, 0);
      });

      it('a chunked upload begun by a Berth process killed midway is finished by another one', async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'berth-s3-kill-'));
        const databaseUrl =
          backend === 'postgres'
            ? await createDatabase(process.env.BERTH_TEST_PG_URL!)
            : `sqlite:${join(dataDir, 'berth.db')}`;
        const env = envFor(s3, bucket);
        const auth = { authorization: basicAuth(testAdmin) };
        const first = await spawnBerth({ dataDir, databaseUrl, env });
        try {
          const created = await fetch(`${first.url}/api/v2.0/projects`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ project_name: 'moved', metadata: { public: 'false' } }),
          });
          assert.equal(created.status, 201, await created.text());
          const whole = randomBytes(11 * MiB + 3);
          const cuts = [0, 1, 5 * MiB, 6 * MiB + 1, whole.length];
          const started = await fetch(`${first.url}/v2/moved/app/blobs/uploads/`, {
            method: 'POST',
            headers: auth,
          });
          assert.equal(started.status, 202);
          const location = started.headers.get('location')!;
          const patch = async (base: string, from: number, to: number) => {
            const res = await fetch(new URL(location, base), {
              method: 'PATCH',
              headers: {
                ...auth,
                'content-type': 'application/octet-stream',
                'content-range': `${from}-${to - 1}`,
              },
              body: new Uint8Array(whole.subarray(from, to)),
            });
            await res.body?.cancel();
            assert.equal(res.status, 202, `PATCH ${from}-${to - 1}`);
            assert.equal(res.headers.get('range'), `0-${to - 1}`);
          };
          await patch(first.url, cuts[0]!, cuts[1]!);
          await patch(first.url, cuts[1]!, cuts[2]!);
          await first.kill('SIGKILL');

          const second = await spawnBerth({ dataDir, databaseUrl, env });
          try {
            const status = await fetch(new URL(location, second.url), { headers: auth });
            assert.equal(status.status, 204);
            assert.equal(status.headers.get('range'), `0-${cuts[2]! - 1}`);
            await patch(second.url, cuts[2]!, cuts[3]!);
            await patch(second.url, cuts[3]!, cuts[4]!);
            const digest = digestOf(whole);
            const done = new URL(location, second.url);
            done.searchParams.set('digest', digest);
            const put = await fetch(done, { method: 'PUT', headers: auth });
            assert.equal(put.status, 201, await put.text());
            const got = await fetch(`${second.url}/v2/moved/app/blobs/${digest}`, { headers: auth });
            assert.equal(got.status, 200);
            assert.equal(digestOf(Buffer.from(await got.arrayBuffer())), digest);
          } finally {
            await second.stop();
          }
        } finally {
          await first.stop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      });

      if (backend === 'sqlite') {
        it('with redirect on, a blob GET answers 307 to a presigned URL and skopeo follows it', async (t) => {
          if (!needTools(t, 'skopeo')) return;
          const redirecting = await startBerth({
            backend,
            overrides: { storage: { driver: 's3', s3: { ...s3.storageOptions(bucket), redirect: true } } },
          });
          try {
            await redirecting.createProject('s3');
            const layout = new OciLayout(join(work, 'redirect'));
            const built = layout.addImage({ tag: 'v1' });
            const dest = `docker://${redirecting.host}/s3/redirected:v1`;
            await tools.skopeo([
              'copy',
              '--dest-tls-verify=false',
              `--dest-creds=${testAdmin.username}:${testAdmin.password}`,
              layout.ref('v1'),
              dest,
            ]);
            const layer = built.layers[0]!.digest;
            const res = await clientFor(redirecting).fetch(`/v2/s3/redirected/blobs/${layer}`);
            await res.body?.cancel();
            assert.equal(res.status, 307);
            const location = res.headers.get('location')!;
            assert.ok(location.startsWith(`${s3.endpoint}/${bucket}/blobs/sha256/`), location);
            assert.match(location, /X-Amz-Signature=/);
            const direct = await fetch(location);
            assert.equal(sha256(Buffer.from(await direct.arrayBuffer())), layer);
            const back = join(work, 'redirect-back');
            await tools.skopeo([
              'copy',
              '--src-tls-verify=false',
              `--src-creds=${testAdmin.username}:${testAdmin.password}`,
              dest,
              `dir:${back}`,
            ]);
            assert.equal(sha256(readFileSync(join(back, layer.slice('sha256:'.length)))), layer);
            assert.equal(sha256(readFileSync(join(back, 'manifest.json'))), built.manifest.digest);
          } finally {
            await redirecting.close();
          }
        });

        it('a store that stops answering is answered 503 with Retry-After after the timeouts, then serves again', async (t) => {
          const timeouts = { connectTimeoutMs: 500, idleTimeoutMs: 1000, maxAttempts: 2 };
          const stalling = await startBerth({
            backend,
            overrides: { storage: { driver: 's3', s3: { ...s3.storageOptions(bucket), ...timeouts } } },
          });
          try {
            const client = clientFor(stalling);
            await stalling.createProject('stall');
            const blob = randomBlob(64 * 1024);
            await client.pushBlob('stall/app', blob);
            await s3.pause();
            try {
              for (const [what, send] of [
                ['blob GET', () => client.fetch(`/v2/stall/app/blobs/${blob.digest}`)],
                [
                  'monolithic upload',
                  () => {
                    const other = randomBlob(1024);
                    return client.fetch(`/v2/stall/app/blobs/uploads/?digest=${other.digest}`, {
                      method: 'POST',
                      headers: { 'content-type': 'application/octet-stream' },
                      body: new Uint8Array(other.bytes),
                    });
                  },
                ],
              ] as const) {
                const started = Date.now();
                const res = await send();
                const ms = Date.now() - started;
                assert.equal(res.headers.get('retry-after'), '1', `${what}: ${res.status}`);
                await assertOciError(res, 503, 'UNAVAILABLE');
                // Two tries of 1 s each plus the SDK's backoff; without timeouts it never answered.
                assert.ok(ms < 15_000, `${what} answered after ${ms} ms`);
                t.diagnostic(`${what}: 503 after ${ms} ms`);
              }
            } finally {
              s3.resume();
            }
            const back = await client.fetch(`/v2/stall/app/blobs/${blob.digest}`);
            assert.equal(back.status, 200);
            assert.equal(digestOf(Buffer.from(await back.arrayBuffer())), blob.digest);
          } finally {
            await stalling.close();
          }
        });
      }
    });
  }
}
