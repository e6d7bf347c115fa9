import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';

const byName = { 'x-is-resource-name': 'true' };

for (const backend of backends()) {
  describe(`project metadata API (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
      await admin.expect(201, 'POST', '/projects', { project_name: 'mp', metadata: { public: 'false' } });
      for (const [username, role] of [
        ['m-admin', 1],
        ['m-maint', 4],
        ['m-dev', 2],
      ] as const) {
        await admin.expect(201, 'POST', '/users', { username, password: 'Meta-Pass1' });
        await admin.expect(
          201,
          'POST',
          '/projects/mp/members',
          { role_id: role, member_user: { username } },
          byName,
        );
      }
      await admin.expect(201, 'POST', '/users', { username: 'm-out', password: 'Meta-Pass1' });
    });
    after(async () => berth?.close());
    const as = (u: string) => admin.as(u, 'Meta-Pass1');

    test('add, get, update and delete keys; public is the project flag', async () => {
      const all = await admin.expect<Record<string, string>>(200, 'GET', '/projects/mp/metadatas/');
      assert.deepEqual(all.body, { public: 'false' });
      await admin.expect(200, 'GET', '/projects/mp/metadatas');
      await admin.expect(200, 'POST', '/projects/mp/metadatas/', { auto_scan: 'TRUE', severity: 'High' });
      assert.deepEqual((await admin.expect(200, 'GET', '/projects/mp/metadatas/auto_scan')).body, {
        auto_scan: 'true',
      });
      assert.deepEqual((await admin.expect(200, 'GET', '/projects/mp/metadatas/severity')).body, {
        severity: 'high',
      });
      const project = await admin.expect<{ metadata: Record<string, string> }>(200, 'GET', '/projects/mp');
      assert.equal(project.body.metadata.auto_scan, 'true');

      await admin.expect(200, 'PUT', '/projects/mp/metadatas/auto_scan', { auto_scan: 'false' });
      assert.deepEqual((await admin.expect(200, 'GET', '/projects/mp/metadatas/auto_scan')).body, {
        auto_scan: 'false',
      });
      await admin.expect(200, 'DELETE', '/projects/mp/metadatas/severity');
      await admin.expectError(404, 'NOT_FOUND', 'GET', '/projects/mp/metadatas/severity');

      // Making the project public through its metadata opens it to anonymous pulls and reads.
      await admin.anonymous().expectError(404, 'NOT_FOUND', 'GET', '/projects/mp');
      await admin.expect(200, 'PUT', '/projects/mp/metadatas/public', { public: 'true' });
      await admin.anonymous().expect(200, 'GET', '/projects/mp');
      await admin.expect(200, 'PUT', '/projects/mp/metadatas/public', { public: 'false' });
      await admin.anonymous().expectError(404, 'NOT_FOUND', 'GET', '/projects/mp');
    });

    test('bad input is refused and changes nothing', async () => {
      const before = (await admin.expect(200, 'GET', '/projects/mp/metadatas/')).body;
      await admin.expectError(400, 'BAD_REQUEST', 'POST', '/projects/mp/metadatas/', { colour: 'red' });
      await admin.expectError(400, 'BAD_REQUEST', 'POST', '/projects/mp/metadatas/', {
        prevent_vul: 'maybe',
      });
      await admin.expectError(400, 'BAD_REQUEST', 'POST', '/projects/mp/metadatas/', { prevent_vul: true });
      await admin.expectError(400, 'BAD_REQUEST', 'POST', '/projects/mp/metadatas/', {});
      await admin.expectError(409, 'CONFLICT', 'POST', '/projects/mp/metadatas/', { public: 'true' });
      await admin.expectError(400, 'BAD_REQUEST', 'PUT', '/projects/mp/metadatas/public', {
        auto_scan: 'true',
      });
      await admin.expectError(400, 'BAD_REQUEST', 'PUT', '/projects/mp/metadatas/public', { public: 'yes' });
      await admin.expectError(404, 'NOT_FOUND', 'PUT', '/projects/mp/metadatas/prevent_vul', {
        prevent_vul: 'true',
      });
      await admin.expectError(400, 'BAD_REQUEST', 'DELETE', '/projects/mp/metadatas/public');
      await admin.expectError(404, 'NOT_FOUND', 'DELETE', '/projects/mp/metadatas/prevent_vul');
      await admin.expectError(404, 'NOT_FOUND', 'GET', '/projects/none/metadatas/');
      assert.deepEqual((await admin.expect(200, 'GET', '/projects/mp/metadatas/')).body, before);
    });

    test("permissions follow Harbor's matrix: admin edits, maintainer reads, only system admins list", async () => {
      await admin.expect(200, 'POST', '/projects/mp/metadatas/', { prevent_vul: 'true' });
      await as('m-admin').expect(200, 'GET', '/projects/mp/metadatas/prevent_vul');
      await as('m-admin').expectError(403, 'FORBIDDEN', 'GET', '/projects/mp/metadatas/');
      await as('m-admin').expect(200, 'PUT', '/projects/mp/metadatas/prevent_vul', { prevent_vul: 'false' });
      await as('m-maint').expect(200, 'GET', '/projects/mp/metadatas/prevent_vul');
      await as('m-maint').expectError(403, 'FORBIDDEN', 'PUT', '/projects/mp/metadatas/prevent_vul', {
        prevent_vul: 'true',
      });
      await as('m-dev').expectError(403, 'FORBIDDEN', 'GET', '/projects/mp/metadatas/prevent_vul');
      await as('m-dev').expectError(403, 'FORBIDDEN', 'DELETE', '/projects/mp/metadatas/prevent_vul');
      await as('m-out').expectError(404, 'NOT_FOUND', 'GET', '/projects/mp/metadatas/prevent_vul');
      await admin.anonymous().expectError(404, 'NOT_FOUND', 'GET', '/projects/mp/metadatas/prevent_vul');
      await as('m-admin').expect(200, 'DELETE', '/projects/mp/metadatas/prevent_vul');
      await admin.expectError(404, 'NOT_FOUND', 'GET', '/projects/mp/metadatas/prevent_vul');
    });
  });
}
