// LDAP users (a real slapd) against a real Berth in ldap_auth mode, on every metadata backend: skopeo
// pushes where the user's LDAP group is a Developer member and is refused where it is a Guest; users and
// their LDAP groups are onboarded on first login; a wrong password looks exactly like an unknown user.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { groupTypes } from '../../src/auth/providers/provider.js';
import { backends, basicAuth, startBerth, type RunningBerth } from '../helpers/berth.js';
import { HarborApi } from '../helpers/harbor-api.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { OciLayout, tempDir } from '../helpers/images.js';
import { startSlapd, type RunningSlapd } from '../helpers/slapd.js';
import { hasTool, needTools } from '../helpers/tools.js';

const peers = ['slapd', 'ldapadd', 'ldapwhoami', 'skopeo'];
const haveAll = peers.every(hasTool);
const roles = { developer: 2, guest: 3 } as const;

for (const backend of backends()) {
  describe(`LDAP users push with skopeo (${backend})`, () => {
    let ldap: RunningSlapd;
    let berth: RunningBerth;
    let tools: ContainerTools;
    let work: string;
    let layout: OciLayout;

    before(async () => {
      if (!haveAll) return;
      ldap = await startSlapd({
        users: [
          { uid: 'lena', password: 'Lena-Pass-1', mail: 'lena@example.test', cn: 'Lena L' },
          { uid: 'gail', password: 'Gail-Pass-1' },
          { uid: 'ada', password: 'Ada-Pass-1' },
        ],
        groups: [
          { cn: 'devs', members: ['lena'] },
          { cn: 'viewers', members: ['gail'] },
          { cn: 'registry-admins', members: ['ada'] },
        ],
      });
      berth = await startBerth({
        backend,
        overrides: {
          auth: {
            mode: 'ldap_auth',
            ldap: {
              url: ldap.url,
              searchDn: ldap.searchDn,
              searchPassword: ldap.searchPassword,
              baseDn: ldap.peopleDn,
              groupBaseDn: ldap.groupsDn,
              groupAdminDn: ldap.groupDn('registry-admins'),
            },
          },
        },
      });
      tools = containerTools();
      work = tempDir('ldap');
      layout = new OciLayout(join(work, 'layout'));
      layout.addImage({ tag: 'v1', layers: [[{ path: 'etc/hello', content: 'from an LDAP user\n' }]] });

      // The devs group as an admin adds it (Harbor's members API: member_group with group_type 1 and the
      // group's DN), a Developer of `team` and a Guest of `showcase`.
      const admin = new HarborApi(berth.url, berth.admin);
      for (const [project, role_id] of [
        ['team', roles.developer],
        ['showcase', roles.guest],
      ] as const) {
        await admin.expect(201, 'POST', '/projects', {
          project_name: project,
          metadata: { public: 'false' },
        });
        await admin.expect(
          201,
          'POST',
          `/projects/${project}/members`,
          {
            role_id,
            member_group: {
              group_name: 'devs',
              group_type: groupTypes.ldap,
              ldap_group_dn: ldap.groupDn('devs'),
            },
          },
          { 'x-is-resource-name': 'true' },
        );
      }
      await push(berth.admin, 'showcase/app:v1');
    });
    after(async () => {
      await berth?.close();
      await ldap?.stop();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const creds = (c: { username: string; password: string }) => `${c.username}:${c.password}`;
    const dest = (ref: string) => `docker://${berth.host}/${ref}`;
    const push = (c: { username: string; password: string }, ref: string) =>
      tools.skopeo([
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        creds(c),
        layout.ref('v1'),
        dest(ref),
      ]);
    const pushFails = (c: { username: string; password: string }, ref: string) =>
      tools.skopeoFails([
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        creds(c),
        layout.ref('v1'),
        dest(ref),
      ]);

    it('pushes where the LDAP group is a Developer member, and onboards the user with its groups', async (t) => {
      if (!needTools(t, ...peers)) return;
      await push({ username: 'lena', password: 'Lena-Pass-1' }, 'team/app:v1');
      const { stdout } = await tools.skopeo([
        'inspect',
        '--tls-verify=false',
        '--creds',
        'lena:Lena-Pass-1',
        dest('team/app:v1'),
      ]);
      assert.equal((JSON.parse(stdout) as { Digest: string }).Digest, layout.image('v1').manifest.digest);

      const user = await berth.app.store.users.findByName('lena');
      assert.ok(user, 'lena is onboarded');
      assert.equal(user.auth_source, 'ldap');
      assert.equal(user.email, 'lena@example.test');
      assert.equal(user.password_hash, null, 'no password of an LDAP user is stored');
      const groups = await berth.app.store.users.groupIds(user.id);
      const devs = await berth.app.store.userGroups.findByKey(groupTypes.ldap, ldap.groupDn('devs'));
      assert.deepEqual(groups, [devs!.id]);
    });

    it('is refused where the LDAP group is a Guest, yet may pull there', async (t) => {
      if (!needTools(t, ...peers)) return;
      const failed = await pushFails({ username: 'lena', password: 'Lena-Pass-1' }, 'showcase/app:v2');
      assert.match(failed.stderr, /denied|unauthorized|authentication required/i);
      await tools.skopeo([
        'copy',
        '--src-tls-verify=false',
        '--src-creds',
        'lena:Lena-Pass-1',
        dest('showcase/app:v1'),
        `dir:${join(work, 'pulled')}`,
      ]);
    });

    it('onboards unknown LDAP groups on login (group_type 1 by DN) but gives them no project role', async (t) => {
      if (!needTools(t, ...peers)) return;
      const res = await fetch(`${berth.url}/v2/`, {
        headers: { authorization: basicAuth({ username: 'gail', password: 'Gail-Pass-1' }) },
      });
      assert.equal(res.status, 200);
      const viewers = await berth.app.store.userGroups.findByKey(groupTypes.ldap, ldap.groupDn('viewers'));
      assert.ok(viewers, 'the viewers group was created from the directory');
      assert.equal(viewers.group_name, 'viewers');
      const gail = await berth.app.store.users.findByName('gail');
      assert.deepEqual(await berth.app.store.users.groupIds(gail!.id), [viewers.id]);
      await pushFails({ username: 'gail', password: 'Gail-Pass-1' }, 'team/app:v3');
    });

    it('makes members of the LDAP admin group system administrators', async (t) => {
      if (!needTools(t, ...peers)) return;
      await push({ username: 'ada', password: 'Ada-Pass-1' }, 'team/from-admin:v1');
      await push({ username: 'ada', password: 'Ada-Pass-1' }, 'showcase/from-admin:v1');
    });

    it('answers a wrong LDAP password exactly like an unknown user', async (t) => {
      if (!needTools(t, ...peers)) return;
      const wrong = await pushFails({ username: 'lena', password: 'not-her-password' }, 'team/app:v4');
      const unknown = await pushFails(
        { username: 'nobody-here', password: 'not-her-password' },
        'team/app:v4',
      );
      for (const f of [wrong, unknown]) assert.match(f.stderr, /unauthorized|authentication required|401/i);
      const answer = async (username: string, url: string) => {
        const res = await fetch(url, {
          headers: { authorization: basicAuth({ username, password: 'not-her-password' }) },
        });
        return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
      };
      for (const path of ['/v2/', '/service/token?service=berth&scope=repository:team/app:push']) {
        const a = await answer('lena', `${berth.url}${path}`);
        const b = await answer('nobody-here', `${berth.url}${path}`);
        assert.equal(a.status, 401, path);
        assert.deepEqual(a, b, `${path}: wrong password and unknown user must look the same`);
      }
      assert.equal(await berth.app.store.users.findByName('nobody-here'), undefined);
    });
  });
}
