// Harbor's project role matrix (shared/harbor-api/rbac.md §4, read at test time — not Berth's own table)
// against a real Berth, on every metadata backend. One user per role (members API role ids 1, 4, 2, 3, 5)
// in one private project. For every row and every role:
// - the verdict of can() as the API reports it (GET /users/current/permissions, relative) must be the
//   matrix's, and a non-member's on a public project must be the matrix's "public project" column;
// - where Berth serves an operation Harbor gates with that (resource, action), the call is made as that
//   member and must succeed (the operation's status) or be refused with 403; a signed-in non-member
//   gets the missing-project answer (404) on the API and a refusal on /v2.
// Rows without an endpoint in Berth are listed below (`noEndpoint`) with the reason; a probe meeting an
// operation Berth does not route fails.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { backends, basicAuth, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import {
  harborRoleIds,
  harborRoles,
  rbacPath,
  readHarborMatrix,
  type HarborRole,
  type MatrixRow,
} from '../../helpers/harbor-rbac.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { requireAll } from '../../helpers/tools.js';
import { probes, robotBody, type Fixture, type Who } from './role-matrix-probes.js';

/**
 * Rows no Berth endpoint checks, and why. Their verdict is still asserted through can() as the API
 * reports it (`GET /users/current/permissions`), per role.
 */
const noEndpoint: Record<string, string> = {
  'repository:create': 'no Harbor handler checks it either (a push checks repository:push)',
  'configuration:read': 'Harbor gates only its project-settings page with it, no API operation',
  'configuration:update': 'Harbor gates only its project-settings page with it, no API operation',
  'tag-retention:operate':
    'Harbor checks tag-retention:update to run or stop retention; no operation checks operate',
  'sbom:read':
    "no Harbor handler checks it: an SBOM is read as the accessory's additions/sbom (artifact-addition:read)",
  'export-cve:list':
    "no Harbor handler checks it: the executions list asks export-cve:read in the projects of the caller's own",
};

const matrix = readHarborMatrix();
const password = 'Matrix-Pass-1';
const userOf = (who: Who) => `m-${who.toLowerCase()}`;

function needMatrix(t: TestContext): boolean {
  if (matrix) return true;
  const message = `Harbor's rbac.md not found at ${rbacPath}`;
  if (requireAll) throw new Error(`${message}; BERTH_REQUIRE_ALL=1 forbids skipping`);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n`);
  t.skip(message);
  return false;
}

for (const backend of backends()) {
  describe(`Harbor's project role matrix, role by role, on the API [${backend}]`, () => {
    let berth: RunningBerth;
    let f: Fixture;
    /** What GET /users/current/permissions reports for each role, and for a non-member on a public project. */
    const held = new Map<HarborRole | 'public', Set<string>>();
    const covered = { api: [] as string[], canOnly: [] as string[] };

    before(async () => {
      if (!matrix) return;
      berth = await startBerth({ backend });
      const admin = new HarborApi(berth.url, berth.admin);
      const users = [...harborRoles.map(userOf), userOf('outsider'), 'spare', 'newcomer'];
      for (const username of users)
        await admin.expect(201, 'POST', '/users', { username, password, email: `${username}@example.test` });
      await admin.expect(201, 'POST', '/projects', {
        project_name: 'matrix',
        metadata: { public: 'false', auto_scan: 'false' },
      });
      await admin.expect(201, 'POST', '/projects', { project_name: 'open', metadata: { public: 'true' } });
      const id = async (name: string) =>
        (await admin.expect<{ project_id: number }>(200, 'GET', `/projects/${name}`)).body.project_id;
      const pid = await id('matrix');
      const member = async (username: string, role_id: number) => {
        const res = await admin.expect(201, 'POST', `/projects/${pid}/members`, {
          role_id,
          member_user: { username },
        });
        return Number(res.headers.get('location')!.split('/').pop());
      };
      for (const role of harborRoles) await member(userOf(role), harborRoleIds[role]);
      const spareMemberId = await member('spare', harborRoleIds.guest);
      await new RegistryClient(berth.url, { auth: berth.admin }).pushImage('matrix/app', makeImage(), 'v1');
      const label = await admin.expect(201, 'POST', '/labels', {
        name: 'matrix',
        scope: 'p',
        project_id: pid,
      });
      f = {
        berth,
        admin,
        project: 'matrix',
        pid,
        labelId: Number(label.headers.get('location')!.split('/').pop()),
        spareMemberId,
        as: (role) => admin.as(userOf(role), password),
        creds: (role) => ({ username: userOf(role), password }),
      };
      const robot = await admin.expect<{ id: number }>(201, 'POST', '/robots', robotBody(f, 'matrix-robot'));
      f.robotId = robot.body.id;

      type Item = { resource: string; action: string };
      const permissions = async (api: HarborApi, projectId: number) => {
        const res = await api.expect<Item[]>(
          200,
          'GET',
          `/users/current/permissions?scope=/project/${projectId}&relative=true`,
        );
        // Relative to the scope, Harbor names the project itself `.` (the matrix's "(project itself)").
        assert.ok(!res.body.some((p) => p.resource === 'project'), `Harbor says '.': ${res.text}`);
        return new Set(res.body.map((p) => `${p.resource === '.' ? 'project' : p.resource}:${p.action}`));
      };
      for (const role of harborRoles) held.set(role, await permissions(f.as(role), pid));
      held.set('public', await permissions(f.as('outsider'), await id('open')));
    });
    after(async () => berth?.close());

    it("reads Harbor's matrix from rbac.md (76 rows, the policy counts it states)", (t) => {
      if (!needMatrix(t)) return;
      const text = `${matrix!.length} rows`;
      assert.equal(new Set(matrix!.map((r) => r.key)).size, matrix!.length, `duplicate rows in ${text}`);
      const count = (pick: (r: MatrixRow) => boolean) => matrix!.filter(pick).length;
      // "Policy counts: projectAdmin 75, maintainer 53, developer 36, guest 20, limitedGuest 14; public
      // project 12; project-robot grantable 70" (rbac.md §4): the parse must reproduce them.
      assert.deepEqual(
        {
          rows: matrix!.length,
          ...Object.fromEntries(harborRoles.map((r) => [r, count((row) => row.roles[r])])),
          public: count((r) => r.publicProject),
          robot: count((r) => r.projectRobot),
        },
        {
          rows: 76,
          projectAdmin: 75,
          maintainer: 53,
          developer: 36,
          guest: 20,
          limitedGuest: 14,
          public: 12,
          robot: 70,
        },
      );
    });

    for (const row of matrix ?? []) {
      it(`${row.key}: every role as Harbor's matrix says`, async (t) => {
        const wrong: string[] = [];
        for (const role of harborRoles)
          if (held.get(role)!.has(row.key) !== row.roles[role])
            wrong.push(`can(${role}) is ${!row.roles[role]}, Harbor's matrix says ${row.roles[role]}`);
        if (held.get('public')!.has(row.key) !== row.publicProject)
          wrong.push(
            `can(non-member, public project) is ${!row.publicProject}, Harbor says ${row.publicProject}`,
          );
        const probe = probes.find((p) => p.key === row.key);
        if (!probe) {
          assert.ok(noEndpoint[row.key], `${row.key}: neither a probe nor a reason for having none`);
          assert.deepEqual(wrong, [], row.key);
          covered.canOnly.push(row.key);
          t.diagnostic(`can() only — ${noEndpoint[row.key]}`);
          return;
        }
        for (const role of harborRoles) {
          const res = await probe.run(f, role);
          assert.ok(
            !(res.status === 404 && res.text.includes('no such API endpoint')),
            `${probe.call} (${row.key}) is not routed: ${res.text}`,
          );
          const want = row.roles[role] ? probe.ok : 403;
          if (res.status !== want)
            wrong.push(
              `${role} (${row.roles[role] ? 'allowed' : 'denied'}): ${probe.call} → ${res.status}, ` +
                `want ${want}: ${res.text.slice(0, 200)}`,
            );
        }
        // A signed-in non-member gets what a missing project gets on the API (404), and a refusal on /v2.
        const outsider = await probe.run(f, 'outsider');
        if (probe.registry ? ![401, 403, 404].includes(outsider.status) : outsider.status !== 404)
          wrong.push(`non-member: ${probe.call} → ${outsider.status}: ${outsider.text.slice(0, 200)}`);
        assert.deepEqual(wrong, [], row.key);
        covered.api.push(row.key);
      });
    }

    it("in a proxy-cache project: pulls as the matrix's repository:pull says, no role pushes, only a system administrator creates one", async (t) => {
      if (!needMatrix(t)) return;
      // The upstream is this Berth itself (its own /v2, with the admin's credential).
      const endpoint = await f.admin.expect(201, 'POST', '/registries', {
        name: 'matrix-self',
        type: 'docker-registry',
        url: f.berth.url,
        credential: {
          type: 'basic',
          access_key: f.berth.admin.username,
          access_secret: f.berth.admin.password,
        },
      });
      const registryId = Number(endpoint.headers.get('location')!.split('/').pop());
      const created = await f.admin.expect(201, 'POST', '/projects', {
        project_name: 'mirror',
        registry_id: registryId,
        metadata: { public: 'false' },
      });
      const mirror = Number(created.headers.get('location')!.split('/').pop());
      for (const role of harborRoles)
        await f.admin.expect(201, 'POST', `/projects/${mirror}/members`, {
          role_id: harborRoleIds[role],
          member_user: { username: userOf(role) },
        });
      const pullRow = matrix!.find((r) => r.key === 'repository:pull')!;
      const pushRow = matrix!.find((r) => r.key === 'repository:push')!;
      const v2 = async (who: Who, method: string, path: string) => {
        const res = await fetch(`${f.berth.url}/v2/mirror/matrix/app/${path}`, {
          method,
          headers: {
            authorization: basicAuth(f.creds(who)),
            accept: 'application/vnd.oci.image.manifest.v1+json',
          },
        });
        return { status: res.status, text: await res.text() };
      };
      const wrong: string[] = [];
      for (const role of harborRoles) {
        const pull = await v2(role, 'GET', 'manifests/v1');
        if (pull.status !== (pullRow.roles[role] ? 200 : 403))
          wrong.push(`${role} pull → ${pull.status}: ${pull.text.slice(0, 200)}`);
        const push = await v2(role, 'POST', 'blobs/uploads/');
        // A role without repository:push is refused before the proxy's own refusal is reached.
        const proxyRefusal =
          !pushRow.roles[role] || push.text.includes('can not push artifact to a proxy project');
        if (push.status !== 403 || !proxyRefusal)
          wrong.push(`${role} push → ${push.status}: ${push.text.slice(0, 200)}`);
        const own = await f.as(role).call('POST', '/projects', {
          project_name: `mirror-${role.toLowerCase()}`,
          registry_id: registryId,
        });
        if (own.status !== 403 || !own.text.includes('Only system admin can create proxy cache project'))
          wrong.push(`${role} creates a proxy project → ${own.status}: ${own.text.slice(0, 200)}`);
      }
      const outsider = await v2('outsider', 'GET', 'manifests/v1');
      if (![401, 403, 404].includes(outsider.status)) wrong.push(`non-member pull → ${outsider.status}`);
      assert.deepEqual(wrong, []);
    });

    it("the robots API accepts exactly the matrix's project-robot grantable permissions", async (t) => {
      if (!needMatrix(t)) return;
      // One robot per resource with all its grantable actions (one bad item refuses the whole robot),
      // then each action a project robot may not hold, on its own.
      const wrong: string[] = [];
      let n = 0;
      const create = (resource: string, actions: string[]) =>
        f.admin.call('POST', '/robots', {
          ...robotBody(f, `grant-${++n}`),
          permissions: [
            {
              kind: 'project',
              namespace: f.project,
              access: actions.map((action) => ({ resource, action })),
            },
          ],
        });
      for (const resource of new Set(matrix!.map((r) => r.resource))) {
        const rows = matrix!.filter((r) => r.resource === resource);
        const grantable = rows.filter((r) => r.projectRobot).map((r) => r.action);
        if (grantable.length > 0) {
          const res = await create(resource, grantable);
          if (res.status !== 201)
            wrong.push(`${resource}:${grantable.join(',')} refused: ${res.status} ${res.text.slice(0, 150)}`);
        }
        for (const row of rows.filter((r) => !r.projectRobot)) {
          const res = await create(resource, [row.action]);
          if (res.status !== 400) wrong.push(`${row.key} accepted: ${res.status} ${res.text.slice(0, 150)}`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    it('grants nothing outside the matrix, and accounts for every row', (t) => {
      if (!needMatrix(t)) return;
      const keys = new Set(matrix!.map((r) => r.key));
      for (const [who, set] of held)
        assert.deepEqual(
          [...set].filter((k) => !keys.has(k)),
          [],
          `${who} holds items Harbor has not`,
        );
      for (const key of [...probes.map((p) => p.key), ...Object.keys(noEndpoint)])
        assert.ok(keys.has(key), `${key} is not a row of Harbor's matrix`);
      const probed = new Set(probes.map((p) => p.key));
      assert.equal(probed.size, probes.length, 'one probe per row');
      assert.deepEqual(
        Object.keys(noEndpoint).filter((k) => probed.has(k)),
        [],
        'a row is either probed or without an endpoint',
      );
      assert.equal(probed.size + Object.keys(noEndpoint).length, keys.size, 'every row is accounted for');
      t.diagnostic(
        `rows via API: ${covered.api.length}; can() only (no endpoint): ${covered.canOnly.length}`,
      );
    });
  });
}
