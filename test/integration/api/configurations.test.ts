// Harbor's /configurations: run-time settings in the database (project creation restriction, robot
// expiry) that take effect at once, file-held settings shown read-only, secrets never shown.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';

type Items = Record<string, { value: unknown; editable: boolean }>;

for (const backend of backends()) {
  describe(`configurations API [${backend}]`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
      await admin.expect(201, 'POST', '/users', { username: 'carl', password: 'Carl-Pass123' });
    });
    after(async () => berth?.close());

    test('admins read every setting; file-held ones are read-only; others are refused', async () => {
      const { body } = await admin.expect<Items>(200, 'GET', '/configurations');
      assert.deepEqual(body.project_creation_restriction, { value: 'everyone', editable: true });
      assert.deepEqual(body.robot_token_duration, { value: 30, editable: true });
      assert.deepEqual(body.auth_mode, { value: 'db_auth', editable: false });
      assert.equal(body.robot_name_prefix?.editable, false);
      assert.equal(JSON.stringify(body).includes('password'), false);
      await admin.as('carl', 'Carl-Pass123').expectError(403, 'FORBIDDEN', 'GET', '/configurations');
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/configurations');
      await admin
        .as('carl', 'Carl-Pass123')
        .expectError(403, 'FORBIDDEN', 'PUT', '/configurations', { robot_token_duration: 5 });
    });

    test('bad values, unknown and file-held keys are refused and nothing changes', async () => {
      const bad = [
        { project_creation_restriction: 'nobody' },
        { robot_token_duration: 0 },
        { robot_token_duration: '7' },
        { robot_token_duration: 7, auth_mode: 'ldap_auth' },
        { robot_token_duration: 7, no_such_setting: true },
      ];
      for (const body of bad) {
        const message = await admin.expectError(400, 'BAD_REQUEST', 'PUT', '/configurations', body);
        assert.ok(message.length > 0);
      }
      const msg = await admin.expectError(400, 'BAD_REQUEST', 'PUT', '/configurations', { auth_mode: 'x' });
      assert.match(msg, /auth\.mode/);
      const { body } = await admin.expect<Items>(200, 'GET', '/configurations');
      assert.equal(body.robot_token_duration?.value, 30);
      assert.equal(body.project_creation_restriction?.value, 'everyone');
    });

    test('adminonly stops non-admins creating projects at once, and systeminfo says so', async () => {
      const carl = admin.as('carl', 'Carl-Pass123');
      await carl.expect(201, 'POST', '/projects', { project_name: 'carl-one' });
      await admin.expect(200, 'PUT', '/configurations', {
        project_creation_restriction: 'adminonly',
        robot_token_duration: 90,
      });
      await carl.expectError(403, 'FORBIDDEN', 'POST', '/projects', { project_name: 'carl-two' });
      await carl.expectError(404, 'NOT_FOUND', 'GET', '/projects/carl-two');
      await admin.expect(201, 'POST', '/projects', { project_name: 'admin-two' });
      const info = await carl.expect<{ project_creation_restriction: string }>(200, 'GET', '/systeminfo');
      assert.equal(info.body.project_creation_restriction, 'adminonly');
      const { body } = await admin.expect<Items>(200, 'GET', '/configurations');
      assert.equal(body.robot_token_duration?.value, 90);
      await admin.expect(200, 'PUT', '/configurations', { project_creation_restriction: 'everyone' });
      await carl.expect(201, 'POST', '/projects', { project_name: 'carl-two' });
    });
  });
}
