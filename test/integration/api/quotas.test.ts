// Storage quotas: limits set through /quotas, project create/update and storage_per_project; enforced on
// blob upload, mount and manifest PUT with Harbor's 403 DENIED; usage counts each blob once per project and
// drops at once on delete; refusals are counted in /metrics and written to the audit log.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import {
  assertOciError,
  blobOf,
  body,
  descriptorOf,
  makeImage,
  manifestOf,
  mediaTypes,
  randomBlob,
  useBerth,
  type Blob,
  type OciErrorBody,
} from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

interface Quota {
  id: number;
  ref: { id: number; name: string };
  hard: { storage: number };
  used: { storage: number };
}

/** An OCI image of the given layers (which may be shared with other images) and a fresh config. */
function imageOf(layers: Blob[]) {
  const config = blobOf(Buffer.from(JSON.stringify({ nonce: Math.random() })), mediaTypes.ociConfig);
  const doc = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    config: descriptorOf(config),
    layers: layers.map(descriptorOf),
  };
  return manifestOf(doc, [config, ...layers]);
}

let n = 0;
const projectName = () => `quota${++n}${Math.random().toString(36).slice(2, 6)}`;

for (const backend of backends()) {
  describe(`storage quotas [${backend}]`, () => {
    const fx = useBerth(backend);
    const api = () => new HarborApi(fx.berth.url);

    async function project(hard: number): Promise<{ name: string; id: number }> {
      const name = projectName();
      await api().expect(201, 'POST', '/projects', { project_name: name, storage_limit: hard });
      const { body: p } = await api().expect<{ project_id: number }>(200, 'GET', `/projects/${name}`);
      return { name, id: p.project_id };
    }
    async function quota(id: number): Promise<Quota> {
      return (await api().expect<Quota>(200, 'GET', `/quotas/${id}`)).body;
    }
    async function used(id: number): Promise<number> {
      return (await quota(id)).used.storage;
    }
    async function refusedCount(): Promise<number> {
      const text = await (await fetch(`${fx.berth.url}/metrics`)).text();
      return Number(/^berth_quota_exceeded_total (\d+)/m.exec(text)?.[1] ?? 'NaN');
    }

    test('limits: set by create, update and PUT /quotas; shown by /quotas and the summary', async () => {
      const p = await project(5000);
      let q = await quota(p.id);
      assert.equal(q.ref.name, p.name);
      assert.deepEqual([q.hard.storage, q.used.storage], [5000, 0]);
      await api().expect(200, 'PUT', `/projects/${p.name}`, { storage_limit: 6000 });
      assert.equal((await quota(p.id)).hard.storage, 6000);
      await api().expect(200, 'PUT', `/quotas/${p.id}`, { hard: { storage: 7000 } });
      q = await quota(p.id);
      assert.equal(q.hard.storage, 7000);
      const { body: summary } = await api().expect<{ quota: { hard: { storage: number } } }>(
        200,
        'GET',
        `/projects/${p.name}/summary`,
      );
      assert.equal(summary.quota.hard.storage, 7000);
      const { body: list, headers } = await api().expect<Quota[]>(
        200,
        'GET',
        `/quotas?reference=project&reference_id=${p.id}`,
      );
      assert.equal(headers.get('x-total-count'), '1');
      assert.equal(list[0]?.hard.storage, 7000);
      await api().expect(200, 'PUT', `/quotas/${p.id}`, { hard: { storage: -1 } });
      assert.equal((await quota(p.id)).hard.storage, -1);
    });

    test('bad limits get a 400 naming the field, and change nothing', async () => {
      const p = await project(5000);
      const cases: [string, string, unknown, RegExp][] = [
        ['PUT', `/quotas/${p.id}`, { hard: { storage: -5 } }, /hard\.storage.*non-positive/],
        ['PUT', `/quotas/${p.id}`, { hard: { storage: 0 } }, /hard\.storage/],
        ['PUT', `/quotas/${p.id}`, { hard: { storage: '10' } }, /hard\.storage/],
        ['PUT', `/quotas/${p.id}`, { hard: { storage: 1.5 } }, /hard\.storage/],
        ['PUT', `/quotas/${p.id}`, { hard: { count: 3 } }, /hard\.count/],
        ['PUT', `/quotas/${p.id}`, {}, /hard required/],
        ['PUT', `/projects/${p.name}`, { storage_limit: -2 }, /storage_limit.*non-positive/],
        ['PUT', `/projects/${p.name}`, { storage_limit: 'lots' }, /storage_limit/],
        ['POST', '/projects', { project_name: projectName(), storage_limit: -7 }, /storage_limit/],
        ['PUT', '/configurations', { storage_per_project: -3 }, /storage_per_project/],
        ['PUT', '/configurations', { storage_per_project: 'x' }, /storage_per_project/],
      ];
      for (const [method, path, payload, message] of cases) {
        const text = await api().expectError(400, 'BAD_REQUEST', method, path, payload);
        assert.match(text, message, `${method} ${path} ${JSON.stringify(payload)}`);
      }
      assert.equal((await quota(p.id)).hard.storage, 5000);
      await api().expectError(404, 'NOT_FOUND', 'PUT', '/quotas/999999', { hard: { storage: 1 } });
    });

    test('only quota administrators change limits; project admins keep their limit', async () => {
      await api().expect(201, 'POST', '/users', { username: 'quser', password: 'Quser-Pass123' });
      const user = api().as('quser', 'Quser-Pass123');
      const name = projectName();
      await user.expect(201, 'POST', '/projects', { project_name: name, storage_limit: 10 });
      const { body: p } = await api().expect<{ project_id: number }>(200, 'GET', `/projects/${name}`);
      assert.equal((await quota(p.project_id)).hard.storage, -1, 'a non-admin gets storage_per_project');
      await user.expect(200, 'PUT', `/projects/${name}`, { storage_limit: 10 });
      assert.equal((await quota(p.project_id)).hard.storage, -1, 'a project admin cannot set the limit');
      await user.expectError(403, 'FORBIDDEN', 'PUT', `/quotas/${p.project_id}`, { hard: { storage: 10 } });
      await api().anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/quotas');
    });

    test('storage_per_project is the limit of projects created without one', async () => {
      const { body: before } = await api().expect<Record<string, { value: unknown }>>(
        200,
        'GET',
        '/configurations',
      );
      assert.equal(before.storage_per_project?.value, -1);
      await api().expect(200, 'PUT', '/configurations', { storage_per_project: 123456 });
      try {
        const name = projectName();
        await api().expect(201, 'POST', '/projects', { project_name: name });
        const { body: p } = await api().expect<{ project_id: number }>(200, 'GET', `/projects/${name}`);
        assert.equal((await quota(p.project_id)).hard.storage, 123456);
        const own = await project(999);
        assert.equal((await quota(own.id)).hard.storage, 999, 'an admin may still choose');
      } finally {
        await api().expect(200, 'PUT', '/configurations', { storage_per_project: -1 });
      }
    });

    test('a blob upload past the limit is refused with 403 DENIED, keeps nothing and is counted', async () => {
      const p = await project(10_000);
      const repo = `${p.name}/app`;
      const first = randomBlob(6000);
      await fx.client.pushBlob(repo, first);
      assert.equal(await used(p.id), 6000);
      const before = await refusedCount();
      const second = randomBlob(5000);
      // A chunked upload: the refusal comes at the completing PUT, and the session is gone after it.
      const location = await fx.client.startUpload(repo);
      const patch = await fx.client.fetch(location, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream' },
        body: body(second.bytes),
      });
      assert.equal(patch.status, 202);
      const next = patch.headers.get('location')!;
      const put = await fx.client.fetch(`${next}${next.includes('?') ? '&' : '?'}digest=${second.digest}`, {
        method: 'PUT',
      });
      assert.equal(put.status, 403);
      const err = ((await put.json()) as OciErrorBody).errors[0]!;
      assert.equal(err.code, 'DENIED');
      assert.equal(
        err.message,
        'Quota exceeded when processing the request of adding 4.9 KiB of storage resource, which when ' +
          `updated to current usage of 5.9 KiB will exceed the configured upper limit of 9.8 KiB of project ${p.name}.`,
      );
      assert.equal(await used(p.id), 6000);
      const head = await fx.client.fetch(`/v2/${repo}/blobs/${second.digest}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
      const status = await fx.client.fetch(next);
      await assertOciError(status, 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.equal(await refusedCount(), before + 1);
      // Once there is room again, the same blob goes in.
      await api().expect(200, 'PUT', `/quotas/${p.id}`, { hard: { storage: 11_000 } });
      await fx.client.pushBlob(repo, second);
      assert.equal(await used(p.id), 11_000);
    });

    test('each blob counts once per project; a mount is counted in the target project', async () => {
      const source = await project(-1);
      const target = await project(20_000);
      const image = makeImage({ layers: 2, layerSize: 4000 });
      const size = image.blobs.reduce((s, b) => s + b.bytes.length, 0) + image.bytes.length;
      await fx.client.pushImage(`${source.name}/base`, image, 'v1');
      await fx.client.pushImage(`${source.name}/copy`, image, 'v1');
      assert.equal(await used(source.id), size, 'one image in two repositories counts once');
      for (const blob of image.blobs) {
        const res = await fx.client.fetch(
          `/v2/${target.name}/app/blobs/uploads/?mount=${blob.digest}&from=${source.name}/base`,
          { method: 'POST' },
        );
        await res.body?.cancel();
        assert.equal(res.status, 201);
      }
      await fx.client.putManifest(`${target.name}/app`, image, 'v1');
      assert.equal(await used(target.id), size);
      // A mount that would pass the limit is refused like an upload.
      await api().expect(200, 'PUT', `/quotas/${target.id}`, { hard: { storage: size + 100 } });
      const big = randomBlob(5000);
      await fx.client.pushBlob(`${source.name}/base`, big);
      const res = await fx.client.fetch(
        `/v2/${target.name}/app/blobs/uploads/?mount=${big.digest}&from=${source.name}/base`,
        { method: 'POST' },
      );
      await assertOciError(res, 403, 'DENIED');
      assert.equal(await used(target.id), size);
    });

    test('an artifact copy into a project without room is refused with 403 DENIED', async () => {
      const source = await project(-1);
      const target = await project(1000);
      const image = makeImage({ layers: 1, layerSize: 4000 });
      await fx.client.pushImage(`${source.name}/app`, image, 'v1');
      const from = encodeURIComponent(`${source.name}/app:v1`);
      const text = await api().expectError(
        403,
        'DENIED',
        'POST',
        `/projects/${target.name}/repositories/app/artifacts?from=${from}`,
      );
      assert.match(text, new RegExp(`Quota exceeded .* of project ${target.name}\\.`));
      assert.equal(await used(target.id), 0);
      await api().expect(200, 'PUT', `/quotas/${target.id}`, { hard: { storage: 1024 * 1024 } });
      await api().expect(201, 'POST', `/projects/${target.name}/repositories/app/artifacts?from=${from}`);
      assert.equal(await used(target.id), await used(source.id));
    });

    test('a manifest PUT past the limit is refused and leaves no artifact', async () => {
      const image = makeImage({ layers: 1, layerSize: 8900 });
      // Room for the blobs, not for the manifest.
      const p = await project(image.blobs.reduce((s, b) => s + b.bytes.length, 0) + 10);
      for (const blob of image.blobs) await fx.client.pushBlob(`${p.name}/app`, blob);
      const res = await fx.client.fetch(`/v2/${p.name}/app/manifests/v1`, {
        method: 'PUT',
        headers: { 'content-type': image.mediaType },
        body: body(image.bytes),
      });
      assert.equal(res.status, 403);
      const err = ((await res.json()) as OciErrorBody).errors[0]!;
      assert.equal(err.code, 'DENIED');
      assert.match(err.message ?? '', /^Quota exceeded when processing the request of adding/);
      const get = await fx.client.fetch(`/v2/${p.name}/app/manifests/v1`);
      await assertOciError(get, 404, 'MANIFEST_UNKNOWN');
      const blobsOnly = image.blobs.reduce((s, b) => s + b.bytes.length, 0);
      assert.equal(await used(p.id), blobsOnly);
    });

    test('deleting an artifact or a repository lowers usage at once, keeping shared blobs', async () => {
      const p = await project(-1);
      const shared = randomBlob(3000);
      const a = imageOf([randomBlob(1000), shared]);
      const b = imageOf([randomBlob(2000), shared]);
      await fx.client.pushImage(`${p.name}/one`, a, 'a');
      await fx.client.pushImage(`${p.name}/one`, b, 'b');
      const sizeOf = (m: typeof a) => m.blobs.reduce((s, x) => s + x.bytes.length, 0) + m.bytes.length;
      const total = sizeOf(a) + sizeOf(b) - 3000;
      assert.equal(await used(p.id), total);
      // Through the API: the artifact's own blobs go; the shared layer stays with b.
      await api().expect(200, 'DELETE', `/projects/${p.name}/repositories/one/artifacts/${a.digest}`);
      assert.equal(await used(p.id), sizeOf(b));
      // An untagged artifact deleted through /v2 by digest.
      await fx.client.pushImage(`${p.name}/two`, a);
      assert.equal(await used(p.id), total);
      const del = await fx.client.fetch(`/v2/${p.name}/two/manifests/${a.digest}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      assert.equal(await used(p.id), sizeOf(b));
      await api().expect(200, 'DELETE', `/projects/${p.name}/repositories/one`);
      assert.equal(await used(p.id), 0);
    });

    test('16 concurrent uploads cannot take a project past its limit', async () => {
      const size = 10_000;
      const p = await project(Math.floor(5.5 * size));
      const blobs = Array.from({ length: 16 }, () => randomBlob(size));
      const results = await Promise.all(
        blobs.map(async (blob, i) => {
          const res = await fx.client.fetch(`/v2/${p.name}/r${i % 4}/blobs/uploads/?digest=${blob.digest}`, {
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream' },
            body: body(blob.bytes),
          });
          await res.body?.cancel();
          return res.status;
        }),
      );
      assert.deepEqual(
        results.filter((s) => s !== 201 && s !== 403),
        [],
      );
      const accepted = results.filter((s) => s === 201).length;
      assert.equal(accepted, 5, `statuses ${results.join(',')}`);
      assert.equal(await used(p.id), accepted * size);
    });

    test('quota changes and refusals are in the audit log', async () => {
      const p = await project(100);
      await api().expect(200, 'PUT', `/quotas/${p.id}`, { hard: { storage: 200 } });
      const blob = blobOf(Buffer.alloc(300, 7));
      const res = await fx.client.fetch(`/v2/${p.name}/app/blobs/uploads/?digest=${blob.digest}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: body(blob.bytes),
      });
      await assertOciError(res, 403, 'DENIED');
      type Log = { operation: string; resource_type: string; resource: string; username: string };
      const logs = await waitFor('audit rows', async () => {
        const { body: rows } = await api().expect<Log[]>(200, 'GET', `/audit-logs?q=resource_type%3Dquota`);
        const update = rows.find((r) => r.operation === 'update' && r.resource === `quotas/${p.id}`);
        const refusal = rows.find((r) => r.operation === 'exceed' && r.resource.startsWith(`${p.name}/app@`));
        return update && refusal ? { update, refusal } : undefined;
      });
      assert.equal(logs.refusal.username, 'admin');
      assert.match(logs.refusal.resource, /adding 300 B to 0 B of 200 B/);
    });
  });
}
