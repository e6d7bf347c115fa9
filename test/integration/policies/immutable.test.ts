// Tag immutability through /api/v2.0 and /v2 on every metadata backend: rule CRUD and bad input, then
// each way a tag can move or go away, refused with Harbor's 412 PRECONDITION while a rule protects it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient, type Manifest } from '../../helpers/registry-client.js';

type Rule = {
  id: number;
  priority: number;
  disabled: boolean;
  action: string;
  template: string;
  tag_selectors: { kind: string; decoration: string; pattern: string }[];
  scope_selectors: Record<string, { kind: string; decoration: string; pattern: string }[]>;
};

/** A rule as Harbor's UI sends it. */
function rule(repo: string, tags: string, opts: { repoDecoration?: string; tagDecoration?: string } = {}) {
  return {
    disabled: false,
    action: 'immutable',
    template: 'immutable_template',
    priority: 0,
    tag_selectors: [{ kind: 'doublestar', decoration: opts.tagDecoration ?? 'matches', pattern: tags }],
    scope_selectors: {
      repository: [{ kind: 'doublestar', decoration: opts.repoDecoration ?? 'repoMatches', pattern: repo }],
    },
  };
}

for (const backend of backends()) {
  describe(`tag immutability (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let client: RegistryClient;
    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
      client = new RegistryClient(berth.url);
      for (const p of ['imm', 'other', 'copies'])
        await api.expect(201, 'POST', '/projects', { project_name: p });
    });
    after(() => berth.close());

    const rules = (project: string) => `/projects/${project}/immutabletagrules`;
    const create = async (project: string, body: unknown) => {
      const res = await api.expect(201, 'POST', rules(project), body);
      const location = res.headers.get('location')!;
      assert.match(location, new RegExp(`^/api/v2.0/projects/${project}/immutabletagrules/\\d+$`));
      return Number(location.split('/').pop());
    };
    const v2Error = async (res: Response, status: number, code: string) => {
      const text = await res.text();
      assert.equal(res.status, status, text);
      const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]!.code, code, text);
      return body.errors[0]!.message;
    };
    const put = (repo: string, m: Manifest, ref: string) =>
      client.fetch(`/v2/${repo}/manifests/${ref}`, {
        method: 'PUT',
        headers: { 'content-type': m.mediaType },
        body: new Uint8Array(m.bytes),
      });
    const tagsOf = async (repo: string, digest: string) => {
      const [project, ...rest] = repo.split('/');
      const path = `/projects/${project}/repositories/${encodeURIComponent(rest.join('/'))}/artifacts/${digest}/tags`;
      return (await api.expect<{ name: string; immutable: boolean }[]>(200, 'GET', path)).body;
    };
    const digestOf = async (repo: string, tag: string) =>
      (await client.fetch(`/v2/${repo}/manifests/${tag}`, { method: 'HEAD' })).headers.get(
        'docker-content-digest',
      );

    test('rules: create, list, get back as Harbor shows them, update, disable, delete', async () => {
      const id = await create('imm', rule('**', 'rel-*'));
      const list = await api.expect<Rule[]>(200, 'GET', rules('imm'));
      assert.equal(list.headers.get('x-total-count'), '1');
      assert.deepEqual(list.body, [{ id, ...rule('**', 'rel-*') }]);
      // Harbor's UI toggles a rule by sending it back whole with `disabled` flipped.
      await api.expect(200, 'PUT', `${rules('imm')}/${id}`, { id, ...rule('**', 'rel-*'), disabled: true });
      const second = await create('imm', rule('web', 'v2*', { tagDecoration: 'excludes' }));
      await api.expect(200, 'PUT', `${rules('imm')}/${second}`, { ...rule('web/**', '**'), priority: 3 });
      const after = (await api.expect<Rule[]>(200, 'GET', `${rules('imm')}?page=1&page_size=10`)).body;
      assert.deepEqual(
        after.map((r) => [r.id, r.disabled, r.priority, r.scope_selectors.repository![0]!.pattern]),
        [
          [id, true, 0, '**'],
          [second, false, 3, 'web/**'],
        ],
      );
      // By project id as well as by name.
      const pid = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/imm')).body.project_id;
      assert.equal((await api.expect<Rule[]>(200, 'GET', rules(String(pid)))).body.length, 2);
      await api.expect(200, 'DELETE', `${rules('imm')}/${id}`);
      await api.expect(200, 'DELETE', `${rules('imm')}/${second}`);
      await api.expectError(404, 'NOT_FOUND', 'DELETE', `${rules('imm')}/${second}`);
      assert.deepEqual((await api.expect<Rule[]>(200, 'GET', rules('imm'))).body, []);
    });

    test('bad input gets 400 naming the field; a rule of another project is not found there', async () => {
      const field = async (body: unknown, text: RegExp, path = rules('imm'), method = 'POST') =>
        assert.match(await api.expectError(400, 'BAD_REQUEST', method, path, body), text);
      const base = rule('**', '**');
      await field(
        { ...base, tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '[v1' }] },
        /tag_selectors\[0\]\.pattern/,
      );
      await field(
        {
          ...base,
          scope_selectors: {
            repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '{a,b' }],
          },
        },
        /scope_selectors\.repository\[0\]\.pattern/,
      );
      await field(
        { ...base, tag_selectors: [{ kind: 'label', decoration: 'with', pattern: 'x' }] },
        /tag_selectors\[0\]\.kind: unknown selector kind "label"/,
      );
      await field(
        { ...base, tag_selectors: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'x' }] },
        /tag_selectors\[0\]\.decoration/,
      );
      await field({ ...base, tag_selectors: [] }, /tag_selectors is required/);
      await field({ ...base, scope_selectors: {} }, /scope_selectors\.repository is required/);
      await field({ ...base, template: 'latestPushedK' }, /template: unknown template/);
      await field({ ...base, action: 'retain' }, /action: unknown action/);
      await field({ ...base, tag_selectors: 'v1' }, /tag_selectors/);
      const otherId = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/other')).body
        .project_id;
      await field({ ...base, project_id: otherId }, /project_id/);
      const id = await create('other', base);
      // Harbor answers a rule id of another project as not found in this one; the body's id must match.
      await api.expectError(404, 'NOT_FOUND', 'PUT', `${rules('imm')}/${id}`, { id, ...base });
      await api.expectError(404, 'NOT_FOUND', 'DELETE', `${rules('imm')}/${id}`);
      await field(
        { id: id + 1, ...base },
        /id .* does not match immutable_rule_id/,
        `${rules('other')}/${id}`,
        'PUT',
      );
      await api.expectError(409, 'CONFLICT', 'POST', rules('other'), base);
      await api.expect(200, 'DELETE', `${rules('other')}/${id}`);
      await api.expectError(404, 'NOT_FOUND', 'GET', rules('nope'));
    });

    test('a protected tag is pushed once, then neither moved nor overwritten through /v2', async () => {
      const id = await create('imm', rule('push/**', 'v*'));
      const [first, second] = [makeImage(), makeImage()];
      await client.pushImage('imm/push/app', first, 'v1');
      for (const b of second.blobs) await client.pushBlob('imm/push/app', b);
      const message = await v2Error(await put('imm/push/app', second, 'v1'), 412, 'PRECONDITION');
      assert.equal(message, "Failed to process request due to 'push/app:v1' configured as immutable.");
      assert.equal(await digestOf('imm/push/app', 'v1'), first.digest, 'the tag stayed where it was');
      // The refused push left no artifact behind.
      await api.expectError(
        404,
        'NOT_FOUND',
        'GET',
        `/projects/imm/repositories/push%252Fapp/artifacts/${second.digest}`,
      );
      // Tags the rule does not select move freely; an untagged push of the other digest is fine.
      await client.putManifest('imm/push/app', second, 'latest');
      await client.putManifest('imm/push/app', first, 'latest');
      await client.putManifest('imm/push/app', second);
      await api.expect(200, 'DELETE', `${rules('imm')}/${id}`);
      await client.putManifest('imm/push/app', second, 'v1');
      assert.equal(await digestOf('imm/push/app', 'v1'), second.digest, 'without the rule the tag moves');
    });

    test('re-pushing the very digest a protected tag holds is accepted (Berth beyond Harbor, which refuses it)', async () => {
      const id = await create('imm', rule('retry', '**'));
      const image = makeImage();
      await client.pushImage('imm/retry', image, '1.0');
      await client.pushImage('imm/retry', image, '1.0');
      assert.equal(await digestOf('imm/retry', '1.0'), image.digest);
      await api.expect(200, 'DELETE', `${rules('imm')}/${id}`);
    });

    test('deleting a protected tag or its artifact is refused through the API and /v2; nothing changes', async () => {
      const id = await create('imm', rule('del', 'keep-*'));
      const image = makeImage();
      await client.pushImage('imm/del', image, 'keep-1');
      await client.putManifest('imm/del', image, 'scratch');
      const art = `/projects/imm/repositories/del/artifacts/${image.digest}`;
      const words = 'the tag del:keep-1 configured as immutable, cannot be deleted';
      assert.equal(await api.expectError(412, 'PRECONDITION', 'DELETE', `${art}/tags/keep-1`), words);
      assert.equal(await api.expectError(412, 'PRECONDITION', 'DELETE', art), words);
      assert.equal(
        await v2Error(
          await client.fetch(`/v2/imm/del/manifests/${image.digest}`, { method: 'DELETE' }),
          412,
          'PRECONDITION',
        ),
        words,
      );
      assert.equal(
        await v2Error(
          await client.fetch('/v2/imm/del/manifests/keep-1', { method: 'DELETE' }),
          412,
          'PRECONDITION',
        ),
        words,
      );
      assert.equal(
        await api.expectError(412, 'PRECONDITION', 'DELETE', '/projects/imm/repositories/del'),
        words,
      );
      // The listing marks the protected tag.
      const tags = await tagsOf('imm/del', image.digest);
      assert.deepEqual(tags.map((t) => [t.name, t.immutable]).sort(), [
        ['keep-1', true],
        ['scratch', false],
      ]);
      const listed = await api.expect<{ tags: { name: string; immutable: boolean }[] }[]>(
        200,
        'GET',
        '/projects/imm/repositories/del/artifacts?with_tag=true&with_immutable_status=true',
      );
      assert.deepEqual(
        listed.body[0]!.tags.filter((t) => t.immutable).map((t) => t.name),
        ['keep-1'],
      );
      // An unprotected tag still goes; once the rule is disabled, everything does.
      await api.expect(200, 'DELETE', `${art}/tags/scratch`);
      await api.expect(200, 'PUT', `${rules('imm')}/${id}`, { ...rule('del', 'keep-*'), disabled: true });
      assert.equal((await tagsOf('imm/del', image.digest))[0]!.immutable, false);
      await api.expect(200, 'DELETE', art);
      await api.expect(200, 'DELETE', `${rules('imm')}/${id}`);
    });

    test('repoExcludes and excludes select the complement; rules of another project do not apply', async () => {
      await create(
        'imm',
        rule('scratch/**', 'dev-*', { repoDecoration: 'repoExcludes', tagDecoration: 'excludes' }),
      );
      const image = makeImage();
      await client.pushImage('imm/svc/api', image, 'prod');
      await client.putManifest('imm/svc/api', image, 'dev-1');
      await client.putManifest('imm/scratch/x', image, 'prod');
      await client.pushImage('other/svc/api', image, 'prod');
      const protectedIn = async (repo: string) =>
        (await tagsOf(repo, image.digest)).filter((t) => t.immutable).map((t) => t.name);
      assert.deepEqual(await protectedIn('imm/svc/api'), ['prod']);
      assert.deepEqual(await protectedIn('imm/scratch/x'), []);
      assert.deepEqual(await protectedIn('other/svc/api'), []);
      await api.expect(200, 'DELETE', '/projects/other/repositories/svc%252Fapi/artifacts/prod/tags/prod');
    });

    test('a copy that would move a protected tag is refused before anything is copied', async () => {
      await create('copies', rule('**', 'stable'));
      const [held, incoming] = [makeImage(), makeImage()];
      await client.pushImage('copies/app', held, 'stable');
      await client.pushImage('imm/src', incoming, 'stable');
      const message = await api.expectError(
        412,
        'PRECONDITION',
        'POST',
        `/projects/copies/repositories/app/artifacts?from=imm/src:stable`,
      );
      assert.equal(message, 'the tag app:stable configured as immutable, cannot be updated');
      assert.equal(await digestOf('copies/app', 'stable'), held.digest);
      await api.expectError(
        404,
        'NOT_FOUND',
        'GET',
        `/projects/copies/repositories/app/artifacts/${incoming.digest}`,
      );
      // Into a repository where the tag is new, the copy goes through and the tag is then protected.
      await api.expect(201, 'POST', `/projects/copies/repositories/fresh/artifacts?from=imm/src:stable`);
      assert.equal((await tagsOf('copies/fresh', incoming.digest))[0]!.immutable, true);
    });
  });
}
