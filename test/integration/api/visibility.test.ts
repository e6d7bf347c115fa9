import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';

type Project = { name: string };
type Repository = { name: string };
type HarborErrors = { errors: { code: string; message: string }[] };

/**
 * What a caller who is not a member of a private project sees of it through /api/v2.0: nothing. Lists,
 * search and statistics leave it out, and asking for it by name answers exactly like a project that does
 * not exist; a member sees it, and their role still bounds what they may change.
 */
for (const backend of backends()) {
  describe(`private projects stay invisible through the API (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    let carol: HarborApi;
    let anon: HarborApi;
    const byName = { 'x-is-resource-name': 'true' };

    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
      anon = admin.anonymous();
      await admin.expect(201, 'POST', '/projects', { project_name: 'secret', metadata: { public: 'false' } });
      await admin.expect(201, 'POST', '/projects', { project_name: 'open', metadata: { public: 'true' } });
      const client = new RegistryClient(berth.url);
      await client.pushImage('secret/vault', makeImage(), 'v1');
      await client.pushImage('open/shelf', makeImage(), 'v1');
      await admin.expect(201, 'POST', '/users', { username: 'carol', password: 'Carol-Pass1' });
      carol = admin.as('carol', 'Carol-Pass1');
    });
    after(async () => berth?.close());

    const names = (items: { name: string }[]) => items.map((p) => p.name).sort();

    test('lists, search and statistics leave the private project out for non-members', async () => {
      const all = await admin.expect<Project[]>(200, 'GET', '/projects?page_size=100');
      assert.deepEqual(names(all.body), ['library', 'open', 'secret']);
      for (const who of [carol, anon]) {
        const projects = await who.expect<Project[]>(200, 'GET', '/projects?page_size=100');
        assert.deepEqual(names(projects.body), ['library', 'open']);
        assert.equal(projects.headers.get('x-total-count'), '2');
        const filtered = await who.expect<Project[]>(200, 'GET', '/projects?name=secret');
        assert.deepEqual(filtered.body, []);
      }
      const repos = await carol.expect<Repository[]>(200, 'GET', '/repositories?page_size=100');
      assert.deepEqual(names(repos.body), ['open/shelf']);
      const found = await carol.expect<{ project: Project[]; repository: { repository_name: string }[] }>(
        200,
        'GET',
        '/search?q=e',
      );
      assert.ok(!found.body.project.some((p) => p.name === 'secret'), 'search shows no private project');
      assert.ok(
        !found.body.repository.some((r) => r.repository_name.startsWith('secret/')),
        'search shows no private repository',
      );
      const stats = await carol.expect<Record<string, number>>(200, 'GET', '/statistics');
      assert.equal(stats.body.private_project_count, 0);
      assert.equal(stats.body.private_repo_count, 0);
      assert.equal(stats.body.total_project_count, 0, 'totals are for administrators');
    });

    test('asking for the private project by name or id answers like a missing project', async () => {
      const secret = await admin.expect<{ project_id: number }>(
        200,
        'GET',
        '/projects/secret',
        undefined,
        byName,
      );
      const paths: [string, string][] = [
        ['/projects/secret', '/projects/nosuch'],
        [`/projects/${secret.body.project_id}`, '/projects/999999'],
        ['/projects/secret/repositories', '/projects/nosuch/repositories'],
        ['/projects/secret/repositories/vault/artifacts', '/projects/nosuch/repositories/vault/artifacts'],
        ['/projects/secret/summary', '/projects/nosuch/summary'],
      ];
      for (const who of [carol, anon]) {
        for (const [hidden, missing] of paths) {
          const a = await who.call<HarborErrors>('GET', hidden, undefined, byName);
          const b = await who.call<HarborErrors>('GET', missing, undefined, byName);
          assert.equal(a.status, 404, `GET ${hidden}: ${a.status} ${a.text}`);
          assert.equal(b.status, 404, `GET ${missing}: ${b.status} ${b.text}`);
          assert.equal(a.body.errors[0]!.code, b.body.errors[0]!.code);
          // Same words apart from the name asked for.
          const strip = (m: string, ref: string) => m.replace(ref, '<ref>');
          const ref = (p: string) => p.split('/')[2]!;
          assert.equal(
            strip(a.body.errors[0]!.message, ref(hidden)),
            strip(b.body.errors[0]!.message, ref(missing)),
          );
        }
      }
      // Credentials that fail are refused, not taken for an anonymous caller.
      const typo = admin.as('carol', 'Carol-Pass2');
      await typo.expectError(401, 'UNAUTHORIZED', 'GET', '/projects/secret');
      await typo.expectError(401, 'UNAUTHORIZED', 'GET', '/projects');
      // Writing into it is refused the same way, and nothing changes.
      const del = await carol.call('DELETE', '/projects/secret/repositories/vault', undefined, byName);
      assert.equal(del.status, 404);
      const copy = await carol.call(
        'POST',
        '/projects/secret/repositories/stolen/artifacts?from=open/shelf:v1',
        undefined,
        byName,
      );
      assert.equal(copy.status, 404);
      // Out of it into a project of her own: the source is what is hidden.
      await carol.expect(201, 'POST', '/projects', { project_name: 'carols' });
      const copyOut = await carol.call(
        'POST',
        '/projects/carols/repositories/stolen/artifacts?from=secret/vault:v1',
        undefined,
        byName,
      );
      assert.equal(copyOut.status, 404, `copy out of a hidden project: ${copyOut.status} ${copyOut.text}`);
      const repos = await admin.expect<Repository[]>(200, 'GET', '/repositories?page_size=100');
      assert.deepEqual(names(repos.body), ['open/shelf', 'secret/vault']);
    });

    test('a Guest member sees the project and may read, not delete', async () => {
      await admin.expect(
        201,
        'POST',
        '/projects/secret/members',
        { role_id: 3, member_user: { username: 'carol' } },
        byName,
      );
      const projects = await carol.expect<Project[]>(200, 'GET', '/projects?page_size=100');
      assert.deepEqual(names(projects.body), ['carols', 'library', 'open', 'secret']);
      await carol.expect(200, 'GET', '/projects/secret', undefined, byName);
      const repos = await carol.expect<Repository[]>(200, 'GET', '/projects/secret/repositories');
      assert.deepEqual(names(repos.body), ['secret/vault']);
      const stats = await carol.expect<Record<string, number>>(200, 'GET', '/statistics');
      assert.equal(stats.body.private_project_count, 2, 'secret and her own carols');
      assert.equal(stats.body.private_repo_count, 1);
      await carol.expectError(403, 'FORBIDDEN', 'DELETE', '/projects/secret/repositories/vault');
      // Anonymous callers still see nothing of it.
      assert.equal((await anon.call('GET', '/projects/secret', undefined, byName)).status, 404);
      await admin.expect(200, 'GET', '/projects/secret/repositories/vault');
    });
  });
}
