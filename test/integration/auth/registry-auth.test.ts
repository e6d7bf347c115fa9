import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashSecret } from '../../../src/auth/passwords.js';
import { backends, basicAuth } from '../../helpers/berth.js';
import { assertOciError, makeImage, RegistryClient, useBerth } from '../../helpers/registry-client.js';

const pw = 'Passw0rd-Test';

for (const backend of backends()) {
  describe(`/v2 authentication and /service/token [${backend}]`, () => {
    const fx = useBerth(backend, {
      overrides: { auth: { throttle: { maxFailures: 5, maxFailuresPerIp: 1000, windowSeconds: 60 } } },
    });
    const ids: Record<string, number> = {};

    /** Users and projects straight in the database (the users/members API is tested elsewhere). */
    async function setUp() {
      if (ids.secret) return;
      const store = fx.berth.app.store;
      const now = new Date().toISOString();
      for (const username of ['dev', 'guest', 'outsider', 'victim']) {
        await store.users.create({
          username,
          email: `${username}@example.com`,
          realname: username,
          comment: '',
          password_hash: await hashSecret(pw),
          sysadmin: 0,
          auth_source: 'db',
          creation_time: now,
          update_time: now,
        });
        ids[username] = (await store.users.findByName(username))!.id;
      }
      ids.secret = await fx.berth.createProject('secret');
      ids.pub = await fx.berth.createProject('pub', { public: true });
      await store.members.create(ids.secret, 'u', ids.dev!, 2, now);
      await store.members.create(ids.secret, 'u', ids.guest!, 3, now);
      await fx.client.pushImage('secret/app', makeImage(), 'v1');
      await fx.client.pushImage('pub/app', makeImage(), 'v1');
    }
    const as = (username: string | null) =>
      new RegistryClient(fx.berth.url, { auth: username ? { username, password: pw } : null });
    const token = async (creds: string | null, ...scopes: string[]) => {
      const q = new URLSearchParams([['service', 'berth'], ...scopes.map((s) => ['scope', s])]);
      const res = await fetch(`${fx.berth.url}/service/token?${q}`, {
        headers: creds ? { authorization: basicAuth({ username: creds, password: pw }) } : {},
      });
      return {
        res,
        body: (await res.json()) as {
          token: string;
          access_token: string;
          expires_in: number;
          issued_at: string;
        },
      };
    };
    const claims = (jwt: string) =>
      JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as {
        access: { type: string; name: string; actions: string[] }[];
        aud: string;
        exp: number;
        iat: number;
      };

    test('without credentials /v2 answers 401 with a Bearer challenge naming the token service', async () => {
      await setUp();
      const base = await as(null).fetch('/v2/');
      assert.equal(base.status, 401);
      assert.equal(
        base.headers.get('www-authenticate'),
        `Bearer realm="${fx.berth.url}/service/token",service="berth"`,
      );
      const pull = await as(null).fetch('/v2/pub/app/manifests/v1');
      await assertOciError(pull, 401, 'UNAUTHORIZED');
      assert.match(pull.headers.get('www-authenticate')!, /scope="repository:pub\/app:pull"/);
      const push = await as(null).fetch('/v2/pub/app/blobs/uploads/', { method: 'POST' });
      assert.match(push.headers.get('www-authenticate')!, /scope="repository:pub\/app:pull,push"/);
      assert.equal((await fx.client.fetch('/v2/')).status, 200, 'the admin with Basic auth');
    });

    test('a wrong password and an unknown user get the same 401', async () => {
      const wrong = await new RegistryClient(fx.berth.url, {
        auth: { username: 'dev', password: 'Wrong-Pass1' },
      }).fetch('/v2/');
      const unknown = await new RegistryClient(fx.berth.url, {
        auth: { username: 'nobody', password: 'Wrong-Pass1' },
      }).fetch('/v2/');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(await wrong.text(), await unknown.text());
    });

    test('the token service grants the intersection of asked scopes and the subject permissions', async () => {
      const dev = await token(
        'dev',
        'repository:secret/app:pull,push,delete',
        'repository:pub/app:push,pull',
      );
      assert.equal(dev.res.status, 200);
      assert.equal(dev.body.expires_in, 1800);
      assert.equal(dev.body.access_token, dev.body.token);
      assert.ok(!Number.isNaN(Date.parse(dev.body.issued_at)));
      const c = claims(dev.body.token);
      assert.equal(c.aud, 'berth');
      assert.equal(c.exp - c.iat, 1800);
      assert.deepEqual(c.access, [
        { type: 'repository', name: 'secret/app', actions: ['pull', 'push'] },
        { type: 'repository', name: 'pub/app', actions: ['pull'] },
      ]);
      const guest = claims((await token('guest', 'repository:secret/app:pull,push')).body.token);
      assert.deepEqual(guest.access[0]!.actions, ['pull']);
      const anon = claims(
        (await token(null, 'repository:pub/app:pull', 'repository:secret/app:pull')).body.token,
      );
      assert.deepEqual(
        anon.access.map((a) => a.actions),
        [['pull'], []],
      );
      const missing = claims((await token('dev', 'repository:nope/app:pull')).body.token);
      assert.deepEqual(missing.access[0]!.actions, []);
    });

    test('token service: 401 for wrong credentials and for anonymous without scope, 400 for another service', async () => {
      assert.equal((await token(null)).res.status, 401);
      const bad = await fetch(`${fx.berth.url}/service/token?service=berth&scope=repository:pub/app:pull`, {
        headers: { authorization: basicAuth({ username: 'dev', password: 'nope' }) },
      });
      assert.equal(bad.status, 401);
      const other = await fetch(`${fx.berth.url}/service/token?service=elsewhere`);
      assert.equal(other.status, 400);
    });

    test('a token is honoured for its scope only; signature tampering is refused', async () => {
      const { body } = await token(null, 'repository:pub/app:pull');
      const bearer = { authorization: `Bearer ${body.token}` };
      assert.equal((await as(null).fetch('/v2/pub/app/manifests/v1', { headers: bearer })).status, 200);
      const other = await as(null).fetch('/v2/secret/app/manifests/v1', { headers: bearer });
      await assertOciError(other, 401, 'UNAUTHORIZED');
      const parts = body.token.split('.');
      const forged = `${parts[0]}.${Buffer.from(
        JSON.stringify({
          ...claims(body.token),
          access: [{ type: 'repository', name: 'secret/app', actions: ['pull'] }],
        }),
      ).toString('base64url')}.${parts[2]}`;
      const res = await as(null).fetch('/v2/secret/app/manifests/v1', {
        headers: { authorization: `Bearer ${forged}` },
      });
      await assertOciError(res, 401, 'UNAUTHORIZED');
      const guestToken = (await token('guest', 'repository:secret/app:pull,push')).body.token;
      const push = await as(null).fetch('/v2/secret/app/blobs/uploads/', {
        method: 'POST',
        headers: { authorization: `Bearer ${guestToken}` },
      });
      await assertOciError(push, 403, 'DENIED');
    });

    test('a private project answers a non-member exactly as a project that does not exist', async () => {
      const hidden = await as('outsider').fetch('/v2/secret/app/manifests/v1');
      const absent = await as('outsider').fetch('/v2/absent/app/manifests/v1');
      assert.equal(hidden.status, 404);
      assert.equal(absent.status, 404);
      const h = (await hidden.json()) as { errors: { code: string; message: string }[] };
      const a = (await absent.json()) as { errors: { code: string; message: string }[] };
      assert.equal(h.errors[0]!.code, 'NAME_UNKNOWN');
      assert.equal(a.errors[0]!.code, 'NAME_UNKNOWN');
      assert.equal(h.errors[0]!.message.replace('secret', 'X'), a.errors[0]!.message.replace('absent', 'X'));
      assert.equal((await as('guest').fetch('/v2/secret/app/manifests/v1')).status, 200);
      await assertOciError(
        await as('guest').fetch('/v2/secret/app/blobs/uploads/', { method: 'POST' }),
        403,
        'DENIED',
      );
      assert.equal((await as('dev').fetch('/v2/secret/app/blobs/uploads/', { method: 'POST' })).status, 202);
    });

    test('pushing into a project that does not exist fails with NAME_UNKNOWN, and creates nothing', async () => {
      const admin = new RegistryClient(fx.berth.url);
      const res = await admin.fetch('/v2/ghost/app/blobs/uploads/', { method: 'POST' });
      await assertOciError(res, 404, 'NAME_UNKNOWN');
      assert.equal(await fx.berth.app.store.projects.findByName('ghost'), undefined);
    });

    test('the catalog lists only what the subject may see', async () => {
      const list = async (c: RegistryClient) =>
        ((await (await c.fetch('/v2/_catalog?n=1000')).json()) as { repositories: string[] }).repositories;
      const admin = await list(fx.client);
      assert.ok(admin.includes('secret/app') && admin.includes('pub/app'));
      const outsider = await list(as('outsider'));
      assert.ok(outsider.includes('pub/app'));
      assert.ok(!outsider.includes('secret/app'));
      assert.ok((await list(as('dev'))).includes('secret/app'));
      assert.equal((await as(null).fetch('/v2/_catalog')).status, 401);
    });

    test('repeated failures lock the user name out with 429, even for the right password', async () => {
      const bad = new RegistryClient(fx.berth.url, { auth: { username: 'victim', password: 'Wrong-Pass1' } });
      for (let i = 0; i < 5; i++) {
        const r = await bad.fetch('/v2/');
        assert.equal(r.status, 401, `attempt ${i}: ${await r.text()}`);
      }
      await assertOciError(await as('victim').fetch('/v2/'), 429, 'TOOMANYREQUESTS');
      const tok = await fetch(`${fx.berth.url}/service/token?service=berth`, {
        headers: { authorization: basicAuth({ username: 'victim', password: pw }) },
      });
      assert.equal(tok.status, 429);
      assert.equal((await fx.client.fetch('/v2/')).status, 200, 'other users are not locked out');
    });
  });
}
