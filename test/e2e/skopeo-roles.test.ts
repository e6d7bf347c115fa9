// skopeo (Debian) against a real Berth, on every metadata backend: who may pull, push and delete, as
// Harbor decides it. Users, projects and members are made through /api/v2.0, as an admin would: anonymous
// pulls from a public project and is refused on a private one; a Guest pulls but cannot push; a Developer
// pushes; a Maintainer deletes; a wrong password is an authentication error; robot accounts (made through
// the robots API) are held to their grants, their expiry and their disabled flag.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import type { CommandFailed } from '../helpers/exec.js';
import { HarborApi } from '../helpers/harbor-api.js';
import { OciLayout, tempDir } from '../helpers/images.js';
import { hasTool, needTools } from '../helpers/tools.js';

/** Harbor's role ids in the members API. */
const roleIds = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 } as const;
const people = {
  gina: { password: 'Gina-Pass-1', role: roleIds.guest },
  dave: { password: 'Dave-Pass-1', role: roleIds.developer },
  mary: { password: 'Mary-Pass-1', role: roleIds.maintainer },
} as const;
type Person = keyof typeof people;
const creds = (who: Person) => `${who}:${people[who].password}`;

/** What skopeo prints: credentials refused by the token service; a token without the scope; a 403. */
const authError = /invalid username\/password|invalid username or password/i;
const unauthorized = /\bunauthorized\b/i;
const denied = /\bdenied\b/i;

interface RobotCreated {
  id: number;
  name: string;
  secret: string;
}

for (const backend of backends()) {
  describe(`skopeo: roles, passwords and robots decide pull, push and delete (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    let tools: ContainerTools | undefined;
    let work: string;
    let layout: OciLayout;
    let outs = 0;

    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url, berth.admin);
      work = tempDir('roles');
      layout = new OciLayout(join(work, 'layout'));
      layout.addImage({ tag: 'v1', layers: [[{ path: 'etc/motd', content: 'roles\n' }]] });
      layout.addImage({ tag: 'v2', layers: [[{ path: 'etc/motd', content: 'roles, again\n' }]] });
      layout.addImage({ tag: 'v3', layers: [[{ path: 'etc/motd', content: 'to be deleted\n' }]] });
      await admin.expect(201, 'POST', '/projects', { project_name: 'pub', metadata: { public: 'true' } });
      await admin.expect(201, 'POST', '/projects', { project_name: 'priv', metadata: { public: 'false' } });
      for (const [username, p] of Object.entries(people)) {
        await admin.expect(201, 'POST', '/users', {
          username,
          password: p.password,
          email: `${username}@example.test`,
          realname: username,
        });
        await admin.expect(
          201,
          'POST',
          '/projects/priv/members',
          { role_id: p.role, member_user: { username } },
          { 'x-is-resource-name': 'true' },
        );
      }
      if (!hasTool('skopeo')) return;
      tools = containerTools();
      const adminCreds = `${berth.admin.username}:${berth.admin.password}`;
      for (const [tag, ref] of [
        ['v1', 'pub/app:v1'],
        ['v1', 'priv/app:v1'],
        ['v3', 'priv/app:doomed'],
      ] as const)
        await tools.skopeo([
          'copy',
          '--dest-tls-verify=false',
          '--dest-creds',
          adminCreds,
          layout.ref(tag),
          docker(ref),
        ]);
    });
    after(async () => {
      await berth?.close();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const docker = (ref: string) => `docker://${berth.host}/${ref}`;
    /** Pulls the whole image (manifest, config, layers) into a fresh OCI layout; `who` null = anonymous. */
    const pullArgs = (who: string | null, ref: string) => [
      'copy',
      '--src-tls-verify=false',
      ...(who ? ['--src-creds', who] : []),
      docker(ref),
      `oci:${join(work, `out-${++outs}`)}:x`,
    ];
    const pushArgs = (who: string, ref: string, tag = 'v2') => [
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      who,
      layout.ref(tag),
      docker(ref),
    ];
    const pull = (who: string | null, ref: string) => tools!.skopeo(pullArgs(who, ref));
    const pullFails = (who: string | null, ref: string) => tools!.skopeoFails(pullArgs(who, ref));
    const pushFails = (who: string, ref: string) => tools!.skopeoFails(pushArgs(who, ref));
    /** The artifact as the API sees it (status only): 200 when the tag exists, 404 when not. */
    const artifactStatus = async (project: string, repo: string, ref: string) =>
      (await admin.call('GET', `/projects/${project}/repositories/${repo}/artifacts/${ref}`)).status;
    const refusedWith = (failed: CommandFailed, re: RegExp) =>
      process.stderr.write(`DEBUG ${failed.stderr}\n`) &&
      assert.match(failed.stderr, re, `skopeo said: ${failed.stderr}`);

    it('anonymous pulls from a public project; a private one refuses it', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      await pull(null, 'pub/app:v1');
      const failed = await pullFails(null, 'priv/app:v1');
      refusedWith(failed, unauthorized);
    });

    it('a Guest pulls from the private project but cannot push to it', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      await pull(creds('gina'), 'priv/app:v1');
      refusedWith(await pushFails(creds('gina'), 'priv/app:by-guest'), denied);
      assert.equal(await artifactStatus('priv', 'app', 'by-guest'), 404, 'nothing was pushed');
    });

    it('a Developer pushes, and the pushed image pulls back; a Developer cannot delete', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      await tools!.skopeo(pushArgs(creds('dave'), 'priv/app:by-dev'));
      assert.equal(await artifactStatus('priv', 'app', 'by-dev'), 200);
      await pull(creds('gina'), 'priv/app:by-dev');
      const failed = await tools!.skopeoFails([
        'delete',
        '--tls-verify=false',
        '--creds',
        creds('dave'),
        docker('priv/app:doomed'),
      ]);
      refusedWith(failed, denied);
      assert.equal(await artifactStatus('priv', 'app', 'doomed'), 200, 'still there');
    });

    it('a Maintainer deletes an image with skopeo delete', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      await tools!.skopeo([
        'delete',
        '--tls-verify=false',
        '--creds',
        creds('mary'),
        docker('priv/app:doomed'),
      ]);
      assert.equal(await artifactStatus('priv', 'app', 'doomed'), 404);
      await pull(creds('mary'), 'priv/app:v1');
    });

    it('a wrong password is an authentication error, for pull and for push', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      refusedWith(await pullFails('dave:Wrong-Pass-1', 'priv/app:v1'), authError);
      refusedWith(await pushFails('dave:Wrong-Pass-1', 'priv/app:wrong'), authError);
      refusedWith(await pullFails('nobody:Wrong-Pass-1', 'pub/app:v1'), authError);
      assert.equal(await artifactStatus('priv', 'app', 'wrong'), 404);
    });

    // Robots are made through Harbor's robots API (POST /api/v2.0/robots), as an admin would.
    const createRobot = async (name: string, actions: string[], duration = 30) =>
      (
        await admin.expect<RobotCreated>(201, 'POST', '/robots', {
          name,
          description: `skopeo e2e ${name}`,
          level: 'project',
          duration,
          disable: false,
          permissions: [
            {
              kind: 'project',
              namespace: 'priv',
              access: actions.map((action) => ({ resource: 'repository', action })),
            },
          ],
        })
      ).body;
    const robotCreds = (r: RobotCreated) => `${r.name}:${r.secret}`;

    it('a pull-only project robot pulls but cannot push', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const robot = await createRobot('puller', ['pull']);
      assert.equal(robot.name, 'robot$priv+puller');
      await pull(robotCreds(robot), 'priv/app:v1');
      refusedWith(await pushFails(robotCreds(robot), 'priv/app:by-robot'), denied);
      assert.equal(await artifactStatus('priv', 'app', 'by-robot'), 404);
      // The same grant with push does push (the refusal above is the grant, not the robot).
      const pusher = await createRobot('pusher', ['pull', 'push']);
      await tools!.skopeo(pushArgs(robotCreds(pusher), 'priv/app:by-robot'));
      assert.equal(await artifactStatus('priv', 'app', 'by-robot'), 200);
    });

    it('an expired robot is refused', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const robot = await createRobot('short-lived', ['pull'], 1);
      await pull(robotCreds(robot), 'priv/app:v1');
      // A day passes: the robot's expiry (seconds since the epoch) is moved into the past.
      const past = Math.floor(Date.now() / 1000) - 60;
      assert.ok(await berth.app.store.robots.update(robot.id, { expires_at: past }));
      refusedWith(await pullFails(robotCreds(robot), 'priv/app:v1'), authError);
    });

    it('a disabled robot is refused, and works again when enabled', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const robot = await createRobot('switched', ['pull']);
      await pull(robotCreds(robot), 'priv/app:v1');
      const current = (await admin.expect<Record<string, unknown>>(200, 'GET', `/robots/${robot.id}`)).body;
      await admin.expect(200, 'PUT', `/robots/${robot.id}`, { ...current, disable: true });
      refusedWith(await pullFails(robotCreds(robot), 'priv/app:v1'), authError);
      await admin.expect(200, 'PUT', `/robots/${robot.id}`, { ...current, disable: false });
      await pull(robotCreds(robot), 'priv/app:v1');
    });
  });
}
