import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { assertOciError, makeImage, uniqueRepo, useBerth } from '../../helpers/registry-client.js';

interface TagList {
  name: string;
  tags: string[];
}

for (const backend of backends()) {
  describe(`tags list [${backend}]`, () => {
    const fx = useBerth(backend);
    const tags = ['v1.0', 'latest', 'v2.0', 'beta', 'v1.1', 'alpha_1', '0.9'];
    const sorted = [...tags].sort();
    let repo = '';

    test('lists every tag in lexical order', async () => {
      repo = uniqueRepo('nested/path/app');
      const image = makeImage({ layers: 1, layerSize: 32 });
      await fx.client.pushImage(repo, image, tags[0]);
      for (const tag of tags.slice(1)) await fx.client.putManifest(repo, image, tag);
      const { res, body } = await fx.client.getJson<TagList>(`/v2/${repo}/tags/list`);
      assert.deepEqual(body, { name: repo, tags: sorted });
      assert.equal(res.headers.get('link'), null);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    });

    test('pages with n and follows Link headers to the end', async () => {
      const seen: string[] = [];
      let next: string | null = `/v2/${repo}/tags/list?n=3`;
      let pages = 0;
      while (next) {
        const page: { res: Response; body: TagList } = await fx.client.getJson(next);
        assert.equal(page.body.name, repo);
        assert.ok(page.body.tags.length <= 3);
        seen.push(...page.body.tags);
        const link = page.res.headers.get('link');
        if (link) {
          const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
          assert.ok(m, `malformed Link: ${link}`);
          assert.ok(m[1]!.startsWith(`/v2/${repo}/tags/list?`), m[1]);
          assert.match(m[1]!, /[?&]n=3(&|$)/);
          next = m[1]!;
        } else next = null;
        pages += 1;
        assert.ok(pages < 10, 'pagination does not end');
      }
      assert.deepEqual(seen, sorted);
      assert.equal(pages, Math.ceil(tags.length / 3));
    });

    test('last returns the tags after it; n larger than the rest has no Link', async () => {
      const { res, body } = await fx.client.getJson<TagList>(`/v2/${repo}/tags/list?n=100&last=beta`);
      assert.deepEqual(
        body.tags,
        sorted.filter((t) => t > 'beta'),
      );
      assert.equal(res.headers.get('link'), null);
      const first = await fx.client.getJson<TagList>(`/v2/${repo}/tags/list?n=1`);
      assert.deepEqual(first.body.tags, [sorted[0]]);
      assert.ok(first.res.headers.get('link'));
      const beyond = await fx.client.getJson<TagList>(`/v2/${repo}/tags/list?last=zzz`);
      assert.deepEqual(beyond.body.tags, []);
    });

    test('n=0 returns no tags', async () => {
      const { body } = await fx.client.getJson<TagList>(`/v2/${repo}/tags/list?n=0`);
      assert.deepEqual(body.tags, []);
    });

    test('a deleted tag leaves the list', async () => {
      const del = await fx.client.fetch(`/v2/${repo}/manifests/beta`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      const { body } = await fx.client.getJson<TagList>(`/v2/${repo}/tags/list`);
      assert.deepEqual(
        body.tags,
        sorted.filter((t) => t !== 'beta'),
      );
    });

    test('a repository with only untagged manifests lists no tags', async () => {
      const untagged = uniqueRepo();
      await fx.client.pushImage(untagged, makeImage({ layers: 1 }));
      const { body } = await fx.client.getJson<TagList>(`/v2/${untagged}/tags/list`);
      assert.deepEqual(body, { name: untagged, tags: [] });
    });

    test('an unknown repository answers 404 NAME_UNKNOWN', async () => {
      const res = await fx.client.fetch(`/v2/${uniqueRepo()}/tags/list`);
      await assertOciError(res, 404, 'NAME_UNKNOWN');
    });

    test('an invalid n answers 400', async () => {
      const res = await fx.client.fetch(`/v2/${repo}/tags/list?n=-5`);
      await assertOciError(res, 400);
    });
  });
}
