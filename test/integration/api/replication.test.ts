import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemote } from '../../../src/remotes/remotes.js';
import { backends } from '../../helpers/berth.js';
import {
  dockerRegistryBinary,
  startDockerRegistry,
  type RunningDockerRegistry,
} from '../../helpers/docker-registry.js';
import { makeImage, useBerth } from '../../helpers/registry-client.js';
import { seedImage } from '../../helpers/replication.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

for (const backend of backends()) {
  describe(`/api/v2.0 registries and replication (${backend})`, () => {
    const fixture = useBerth(backend, { overrides: { jobs: { pollIntervalMs: 50 } } });
    let registry: RunningDockerRegistry | undefined;
    const image = makeImage({ layers: 2, layerSize: 20_000 });
    const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
      fixture.client.fetch(`/api/v2.0${path}`, {
        ...init,
        headers: { 'content-type': 'application/json', ...init.headers },
        body: init.json === undefined ? init.body : JSON.stringify(init.json),
      });
    const json = async <T>(res: Response, status = 200): Promise<T> => {
      const text = await res.text();
      assert.equal(res.status, status, text);
      return JSON.parse(text) as T;
    };
    const harborError = async (res: Response, status: number, code: string, message: RegExp) => {
      const body = await json<{ errors: { code: string; message: string }[] }>(res, status);
      assert.equal(body.errors[0]?.code, code);
      assert.match(body.errors[0]!.message, message);
    };

    before(async () => {
      if (!hasTool(dockerRegistryBinary)) return;
      registry = await startDockerRegistry({ htpasswd: { bob: 'pw' } });
      const dist = createRemote({
        type: 'docker-registry',
        url: registry.url,
        credential: { type: 'basic', accessKey: 'bob', accessSecret: 'pw' },
      });
      await seedImage(dist, 'src/app', image, '1.0');
      await dist.close();
    });
    after(() => registry?.stop());

    it('registries and policies are for system administrators only', async () => {
      const anon = await fetch(`${fixture.berth.url}/api/v2.0/registries`);
      assert.equal(anon.status, 401, await anon.text());
      const created = await api('/users', {
        method: 'POST',
        json: {
          username: 'plain',
          email: 'plain@example.com',
          realname: 'Plain',
          password: 'Plain-User-123',
        },
      });
      assert.equal(created.status, 201, await created.text());
      const auth = `Basic ${Buffer.from('plain:Plain-User-123').toString('base64')}`;
      const plain = await fetch(`${fixture.berth.url}/api/v2.0/registries`, {
        headers: { authorization: auth },
      });
      assert.equal(plain.status, 403, await plain.text());
      const denied = await fetch(`${fixture.berth.url}/api/v2.0/registries`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'sneaky', type: 'docker-registry', url: 'http://127.0.0.1:1' }),
      });
      assert.equal(denied.status, 403, await denied.text());
      const list = await json<{ name: string }[]>(await api('/registries'));
      assert.ok(!list.some((r) => r.name === 'sneaky'));
    });

    it('registries: create, list, get (secret masked), ping, conflicts and bad input', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const body = {
        name: 'dist-api',
        type: 'docker-registry',
        url: registry!.url,
        credential: { type: 'basic', access_key: 'bob', access_secret: 'pw' },
        insecure: false,
      };
      const created = await api('/registries', { method: 'POST', json: body });
      assert.equal(created.status, 201, await created.clone().text());
      const location = created.headers.get('location')!;
      assert.match(location, /^\/api\/v2\.0\/registries\/\d+$/);
      await harborError(
        await api('/registries', { method: 'POST', json: body }),
        409,
        'CONFLICT',
        /dist-api/,
      );
      await harborError(
        await api('/registries', { method: 'POST', json: { ...body, name: 'x', type: 'floppy' } }),
        400,
        'BAD_REQUEST',
        /unknown registry type "floppy"; valid types: .*docker-registry/,
      );
      const one = await json<{ id: number; credential: { access_key: string; access_secret: string } }>(
        await fixture.client.fetch(location),
      );
      assert.deepEqual(one.credential, { type: 'basic', access_key: 'bob', access_secret: '*****' });
      const list = await api('/registries?q=name%3D~dist');
      assert.equal(list.headers.get('x-total-count'), '1');
      assert.equal((await json<unknown[]>(list)).length, 1);
      assert.equal((await api('/registries/ping', { method: 'POST', json: { id: one.id } })).status, 200);
      await harborError(
        await api('/registries/ping', { method: 'POST', json: { id: one.id, access_secret: 'wrong' } }),
        400,
        'BAD_REQUEST',
        /ping failed: authentication failed for /,
      );
      const info = await json<{ supported_triggers: string[] }>(await api(`/registries/${one.id}/info`));
      assert.ok(info.supported_triggers.includes('manual'));
      assert.ok((await json<string[]>(await api('/replication/adapters'))).includes('docker-registry'));
      await harborError(await api('/registries/999999'), 404, 'NOT_FOUND', /registry 999999 not found/);
    });

    it('policies and executions: start, watch, list tasks, read the log; an in-use registry is kept', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const [reg] = await json<{ id: number }[]>(await api('/registries?name=dist-api'));
      const policyBody = {
        name: 'api-pull',
        src_registry: { id: reg!.id },
        dest_namespace: 'copied',
        dest_namespace_replace_count: 1,
        trigger: { type: 'manual', trigger_settings: { cron: '' } },
        filters: [{ type: 'name', value: 'src/**' }],
        override: true,
        enabled: true,
      };
      await harborError(
        await api('/replication/policies', {
          method: 'POST',
          json: {
            ...policyBody,
            name: 'bad',
            trigger: { type: 'scheduled', trigger_settings: { cron: '* *' } },
          },
        }),
        400,
        'BAD_REQUEST',
        /invalid cron "\* \*": expected 6 fields/,
      );
      const created = await api('/replication/policies', { method: 'POST', json: policyBody });
      assert.equal(created.status, 201, await created.clone().text());
      const policy = await json<{
        id: number;
        src_registry: { id: number };
        dest_registry: { id: number; name: string };
      }>(await fixture.client.fetch(created.headers.get('location')!));
      assert.equal(policy.src_registry.id, reg!.id);
      assert.deepEqual([policy.dest_registry.id, policy.dest_registry.name], [0, 'Local']);

      const started = await api('/replication/executions', {
        method: 'POST',
        json: { policy_id: policy.id },
      });
      assert.equal(started.status, 201);
      const execUrl = started.headers.get('location')!;
      const exec = await waitFor('the execution to end', async () => {
        const e = await json<{ status: string }>(await fixture.client.fetch(execUrl));
        return e.status !== 'InProgress' && e;
      });
      assert.equal(exec.status, 'Succeed', JSON.stringify(exec));
      const tasksRes = await fixture.client.fetch(`${execUrl}/tasks`);
      assert.equal(tasksRes.headers.get('x-total-count'), '1');
      const [task] =
        await json<{ id: number; status: string; src_resource: string; dst_resource: string }[]>(tasksRes);
      assert.deepEqual(
        [task!.status, task!.src_resource, task!.dst_resource],
        ['Succeed', 'src/app:1.0', 'copied/app:1.0'],
      );
      const log = await fixture.client.fetch(`${execUrl}/tasks/${task!.id}/log`);
      assert.equal(log.status, 200);
      assert.match(log.headers.get('content-type')!, /^text\/plain/);
      assert.match(await log.text(), /pushed manifest sha256:[0-9a-f]{64} as 1\.0/);
      const execs = await api(`/replication/executions?policy_id=${policy.id}`);
      assert.equal(execs.headers.get('x-total-count'), '1');
      assert.equal(
        (await api(execUrl.replace('/api/v2.0', ''), { method: 'PUT' })).status,
        200,
        'stop of an ended execution is harmless',
      );

      await harborError(
        await api(`/registries/${reg!.id}`, { method: 'DELETE' }),
        412,
        'PRECONDITION',
        /used by replication policies \(api-pull\)/,
      );
      assert.equal((await api(`/replication/policies/${policy.id}`, { method: 'DELETE' })).status, 200);
      assert.equal((await api(`/registries/${reg!.id}`, { method: 'DELETE' })).status, 200);
    });
  });
}
