import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { assertOciError, makeImage, useBerth } from '../../helpers/registry-client.js';

for (const backend of backends()) {
  describe(`/v2/ base and /v2/_catalog [${backend}]`, () => {
    const fx = useBerth(backend);

    test('GET /v2/ answers 200 with the API version header', async () => {
      const res = await fx.client.fetch('/v2/');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await res.json(), {});
    });

    test('GET /v2 without the trailing slash and HEAD /v2/ answer 200 too', async () => {
      const noSlash = await fx.client.fetch('/v2');
      await noSlash.body?.cancel();
      assert.equal(noSlash.status, 200);
      const head = await fx.client.fetch('/v2/', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.equal(head.headers.get('content-length'), '2', 'the length of GET /v2/ body {}');
    });

    test('an unsupported method on /v2/ answers 405 UNSUPPORTED', async () => {
      const res = await fx.client.fetch('/v2/', { method: 'DELETE' });
      await assertOciError(res, 405, 'UNSUPPORTED');
    });

    test('an unknown /v2 endpoint answers 404 with an OCI error body', async () => {
      const res = await fx.client.fetch('/v2/foo/bar/nothing-here');
      await assertOciError(res, 404, 'NAME_UNKNOWN');
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    });

    test('the catalog is empty on a fresh registry', async () => {
      const { res, body } = await fx.client.getJson<{ repositories: string[] }>('/v2/_catalog');
      assert.deepEqual(body, { repositories: [] });
      assert.equal(res.headers.get('link'), null);
    });

    test('the catalog lists repositories in order and pages with n, last and Link', async () => {
      const names = ['cat/zeta', 'cat/alpha', 'cat/nested/deep/repo', 'other/beta', 'cat/mid'];
      for (const name of names)
        await fx.client.pushImage(name, makeImage({ layers: 1, layerSize: 16 }), 'v1');
      const sorted = [...names].sort();

      const all = await fx.client.getJson<{ repositories: string[] }>('/v2/_catalog');
      assert.deepEqual(all.body.repositories, sorted);
      assert.equal(all.res.headers.get('link'), null);

      const seen: string[] = [];
      let next: string | null = '/v2/_catalog?n=2';
      let pages = 0;
      while (next) {
        const page: { res: Response; body: { repositories: string[] } } = await fx.client.getJson(next);
        assert.ok(page.body.repositories.length <= 2);
        seen.push(...page.body.repositories);
        const link = page.res.headers.get('link');
        if (link) {
          const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
          assert.ok(m, `malformed Link header: ${link}`);
          assert.match(m[1]!, /^\/v2\/_catalog\?/);
          next = m[1]!;
        } else next = null;
        pages += 1;
        assert.ok(pages < 10, 'pagination does not end');
      }
      assert.deepEqual(seen, sorted);
      assert.equal(pages, 3);

      const afterLast = await fx.client.getJson<{ repositories: string[] }>(
        `/v2/_catalog?last=${encodeURIComponent('cat/mid')}`,
      );
      assert.deepEqual(
        afterLast.body.repositories,
        sorted.filter((n) => n > 'cat/mid'),
      );

      const exact = await fx.client.getJson<{ repositories: string[] }>(`/v2/_catalog?n=${names.length}`);
      assert.deepEqual(exact.body.repositories, sorted);
      assert.equal(exact.res.headers.get('link'), null, 'no Link when the page holds the rest');
    });

    test('a negative or non-numeric n is refused with 400', async () => {
      for (const n of ['-1', 'abc']) {
        const res = await fx.client.fetch(`/v2/_catalog?n=${n}`);
        await assertOciError(res, 400);
      }
    });
  });
}
