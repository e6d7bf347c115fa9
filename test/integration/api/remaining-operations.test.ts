// Issue 20's remaining operations: listArtifactsOfProject, getIcon, getPermissions, pingOIDC, getCert and
// getInternalconfig, as Harbor answers them.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { startFakeHttp, type FakeServer } from '../../helpers/fake-http.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeArtifact, makeImage, RegistryClient } from '../../helpers/registry-client.js';

type Artifact = { digest: string; repository_name: string; icon: string; type: string; tags?: unknown[] };
type Permissions = { system?: { resource: string; action: string }[]; project: unknown[] };

for (const backend of backends()) {
  describe(`remaining operations (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    let idp: FakeServer;
    const old = makeImage();
    const fresh = makeImage();
    const other = makeImage();
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
      const client = new RegistryClient(berth.url);
      await admin.expect(201, 'POST', '/projects', { project_name: 'ops', metadata: { public: 'true' } });
      await admin.expect(201, 'POST', '/projects', { project_name: 'hidden' });
      await client.pushImage('ops/a', old, 'old');
      await client.pushImage('ops/a', fresh, 'new');
      await client.pushImage('ops/b/c', other, 'v1');
      await client.pushImage('ops/a', makeArtifact(fresh, 'application/vnd.dev.cosign.artifact.sig.v1+json'));
      for (const username of ['padmin', 'plain'])
        await admin.expect(201, 'POST', '/users', {
          username,
          password: 'Secret-Pass1',
          email: `${username}@x.io`,
          realname: username,
        });
      await admin.expect(
        201,
        'POST',
        '/projects/hidden/members',
        {
          role_id: 1,
          member_user: { username: 'padmin' },
        },
        { 'x-is-resource-name': 'true' },
      );
      idp = await startFakeHttp();
      idp.routes.push(['GET', '/.well-known/openid-configuration', () => ({ json: { issuer: idp.url } })]);
      idp.routes.push(['GET', '/other/.well-known/openid-configuration', () => ({ json: { issuer: 'x' } })]);
    });
    after(async () => {
      await berth.close();
      await idp.close();
    });

    test('listArtifactsOfProject lists every repository of the project, filtered and paged', async () => {
      const all = await admin.expect<Artifact[]>(200, 'GET', '/projects/ops/artifacts?with_tag=false');
      assert.deepEqual(
        all.body.map((a) => [a.repository_name, a.digest]).sort(),
        [
          ['ops/a', fresh.digest],
          ['ops/a', old.digest],
          ['ops/b/c', other.digest],
        ].sort(),
        'the signature is an accessory, not listed',
      );
      assert.equal(all.headers.get('x-total-count'), '3');
      assert.equal(all.body[0]!.tags, undefined, 'with_tag=false leaves tags out');
      const page = await admin.expect<Artifact[]>(200, 'GET', '/projects/ops/artifacts?page_size=1&page=2');
      assert.equal(page.body.length, 1);
      assert.match(page.headers.get('link') ?? '', /rel="prev"/);
      const tagged = await admin.expect<Artifact[]>(
        200,
        'GET',
        `/projects/ops/artifacts?q=${encodeURIComponent('tags=v1')}`,
      );
      assert.deepEqual(
        tagged.body.map((a) => a.digest),
        [other.digest],
      );
      const pid = (await admin.expect<{ project_id: number }>(200, 'GET', '/projects/ops')).body.project_id;
      const byId = await admin.expect<Artifact[]>(200, 'GET', `/projects/${pid}/artifacts`);
      assert.equal(byId.body.length, 3);
      await admin.expectError(
        400,
        'BAD_REQUEST',
        'GET',
        `/projects/ops/artifacts?q=${encodeURIComponent('nope=1')}`,
      );
    });

    test('listArtifactsOfProject latest_in_repository keeps the newest of each repository, given one type filter', async () => {
      const type = encodeURIComponent('media_type=application/vnd.oci.image.manifest.v1+json');
      const latest = await admin.expect<Artifact[]>(
        200,
        'GET',
        `/projects/ops/artifacts?latest_in_repository=true&q=${type}`,
      );
      assert.deepEqual(latest.body.map((a) => a.digest).sort(), [fresh.digest, other.digest].sort());
      const err = await admin.expectError(
        400,
        'BAD_REQUEST',
        'GET',
        '/projects/ops/artifacts?latest_in_repository=true',
      );
      assert.match(err, /either 'media_type' or 'artifact_type' must be specified/);
    });

    test('listArtifactsOfProject wants a signed-in caller and hides private projects', async () => {
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/projects/ops/artifacts');
      const plain = admin.as('plain', 'Secret-Pass1');
      assert.equal((await plain.expect<Artifact[]>(200, 'GET', '/projects/ops/artifacts')).body.length, 3);
      await plain.expectError(404, 'NOT_FOUND', 'GET', '/projects/hidden/artifacts');
    });

    test('getIcon serves the icon an artifact names, to anyone; unknown digests are 404', async () => {
      const [art] = (await admin.expect<Artifact[]>(200, 'GET', '/projects/ops/artifacts?page_size=1')).body;
      assert.equal(art!.type, 'IMAGE');
      assert.match(art!.icon, /^sha256:[0-9a-f]{64}$/);
      const icon = await admin.anonymous().expect<Record<string, string>>(200, 'GET', `/icons/${art!.icon}`);
      assert.equal(icon.body['content-type'], 'image/svg+xml');
      assert.match(Buffer.from(icon.body.content!, 'base64').toString(), /^<svg[^>]*>.*IMG/);
      const missing = `sha256:${'0'.repeat(64)}`;
      const err = await admin.expectError(404, 'NOT_FOUND', 'GET', `/icons/${missing}`);
      assert.match(err, /the icon sha256:0+ not found/);
    });

    test('getPermissions: both scopes for a system admin, the project scope for a project admin, else refused', async () => {
      const sys = await admin.expect<Permissions>(200, 'GET', '/permissions');
      assert.ok(sys.body.system!.some((p) => p.resource === 'preheat-instance' && p.action === 'create'));
      assert.ok(sys.body.project.length > 50);
      const padmin = await admin.as('padmin', 'Secret-Pass1').expect<Permissions>(200, 'GET', '/permissions');
      assert.equal(padmin.body.system, undefined, 'a project admin sees no system permissions');
      assert.deepEqual(padmin.body.project, sys.body.project);
      const err = await admin
        .as('plain', 'Secret-Pass1')
        .expectError(403, 'FORBIDDEN', 'GET', '/permissions');
      assert.match(err, /only admins\(system and project\) can access permissions/);
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/permissions');
    });

    test('pingOIDC reads the discovery document and checks its issuer; system admins only', async () => {
      await admin.expect(200, 'POST', '/system/oidc/ping', { url: idp.url, verify_cert: false });
      assert.equal(idp.requests.at(-1)!.url.pathname, '/.well-known/openid-configuration');
      for (const url of [`${idp.url}/other`, `${idp.url}/missing`, 'not a url']) {
        const err = await admin.expectError(400, 'BAD_REQUEST', 'POST', '/system/oidc/ping', { url });
        assert.equal(err, 'failed to verify connection');
      }
      await admin
        .as('plain', 'Secret-Pass1')
        .expectError(403, 'FORBIDDEN', 'POST', '/system/oidc/ping', { url: idp.url });
    });

    test('getCert is 404 until a root CA is put in the data directory, then downloads it', async () => {
      await admin.anonymous().expectError(404, 'NOT_FOUND', 'GET', '/systeminfo/getcert');
      const hasCaRoot = async () =>
        (await admin.expect<{ has_ca_root: boolean }>(200, 'GET', '/systeminfo')).body.has_ca_root;
      assert.equal(await hasCaRoot(), false);
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      mkdirSync(join(berth.dataDir, 'ca'), { recursive: true });
      writeFileSync(join(berth.dataDir, 'ca', 'ca.crt'), pem);
      const res = await fetch(`${berth.url}/api/v2.0/systeminfo/getcert`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename=ca.crt');
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.equal(await res.text(), pem);
      assert.equal(await hasCaRoot(), true, 'systeminfo says a root CA is there');
    });

    test('getInternalconfig is for Harbor internal components only: refused to everyone', async () => {
      const err = await admin.expectError(401, 'UNAUTHORIZED', 'GET', '/internalconfig');
      assert.equal(err, 'only internal service is allowed to call this API');
    });
  });
}
