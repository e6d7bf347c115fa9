// The system-scope permissions a system robot may be granted, as rbac.md §5 lists them (read at test
// time, not from Berth's table), against the robots API of a real Berth on every metadata backend: each
// grantable (resource, action) is accepted (201); each action Harbor's UI lists for a system resource but
// does not let a robot hold is refused (400) and creates nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { rbacPath, readSystemRobotGrants } from '../../helpers/harbor-rbac.js';
import { requireAll } from '../../helpers/tools.js';

const grants = readSystemRobotGrants();

for (const backend of backends()) {
  describe(`system robots may hold exactly Harbor's grantable system permissions [${backend}]`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    before(async () => {
      if (!grants) return;
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url, berth.admin);
    });
    after(async () => berth?.close());

    it('accepts every grantable (resource, action) and refuses the others the UI lists', async (t) => {
      if (!grants) {
        const message = `Harbor's rbac.md not found at ${rbacPath}`;
        if (requireAll) throw new Error(`${message}; BERTH_REQUIRE_ALL=1 forbids skipping`);
        process.stderr.write(`\n*** SKIPPED: ${message} ***\n`);
        t.skip(message);
        return;
      }
      const total = grants.reduce((n, g) => n + g.grantable.length, 0);
      assert.equal(total, 70, 'rbac.md §5 counts 70 system-scope items a system robot can be granted');
      const wrong: string[] = [];
      let n = 0;
      // One robot per resource holding all its grantable actions (a single bad item refuses the robot),
      // then each action that must be refused on its own.
      const create = (resource: string, actions: string[]) =>
        admin.call('POST', '/robots', {
          name: `sys-${++n}`,
          level: 'system',
          duration: -1,
          permissions: [
            { kind: 'system', namespace: '/', access: actions.map((action) => ({ resource, action })) },
          ],
        });
      let robots = 0;
      for (const g of grants) {
        if (g.grantable.length > 0) {
          const res = await create(g.resource, g.grantable);
          if (res.status === 201) robots++;
          else wrong.push(`${g.resource}:${g.grantable.join(',')} refused: ${res.status} ${res.text}`);
        }
        for (const action of g.listed.filter((a) => !g.grantable.includes(a))) {
          const res = await create(g.resource, [action]);
          if (res.status !== 400) wrong.push(`${g.resource}:${action} accepted: ${res.status} ${res.text}`);
        }
      }
      assert.deepEqual(wrong, []);
      const listed = await admin.expect<unknown[]>(200, 'GET', '/robots?page_size=100');
      assert.equal(listed.body.length, robots, 'only the accepted robots exist');
    });
  });
}
