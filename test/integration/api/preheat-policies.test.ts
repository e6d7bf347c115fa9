// P2P preheat policies end to end (issue 20): Harbor's policy operations, manual and event-based runs
// against a Dragonfly and a Kraken stub that pull the image back from Berth, filters, executions and tasks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, testAdmin, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { startPreheatProviderStub, type PreheatProviderStub } from '../../helpers/preheat-provider.js';
import { clientFor, makeImage, type RegistryClient } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

interface Execution {
  id: number;
  status: string;
  status_message: string;
  trigger: string;
  vendor_type: string;
  metrics: { task_count: number; success_task_count: number };
  extra_attrs: { totalCount: number; trigger: string };
}
interface Task {
  id: number;
  status: string;
  extra_attrs: { artifact: string; digest: string; kind: string };
}

const filters = (f: Record<string, unknown>) =>
  JSON.stringify(Object.entries(f).map(([type, value]) => ({ type, value })));
const manual = JSON.stringify({ type: 'manual', trigger_setting: { cron: '' } });
const basic = `Basic ${Buffer.from(`${testAdmin.username}:${testAdmin.password}`).toString('base64')}`;

for (const backend of backends()) {
  describe(`P2P preheat policies (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    let client: RegistryClient;
    let stub: PreheatProviderStub;
    const ids: Record<string, number> = {};
    const base = '/projects/p2p/preheat/policies';

    const finished = (policy: string, execution: number) =>
      waitFor(`execution ${execution} of ${policy} to end`, async () => {
        const e = await admin.expect<Execution>(200, 'GET', `${base}/${policy}/executions/${execution}`);
        return e.body.status !== 'Running' && e.body;
      });

    before(async () => {
      berth = await startBerth({
        backend,
        overrides: { preheat: { checkIntervalSeconds: 0.1 }, jobs: { pollIntervalMs: 50 } },
      });
      admin = new HarborApi(berth.url);
      client = clientFor(berth);
      stub = await startPreheatProviderStub(basic);
      await admin.expect(201, 'POST', '/projects', { project_name: 'p2p' });
      for (const [name, vendor, path] of [
        ['df', 'dragonfly', 'df'],
        ['kr', 'kraken', 'kr'],
      ] as const) {
        await admin.expect(201, 'POST', '/p2p/preheat/instances', {
          name,
          vendor,
          endpoint: `${stub.url}/${path}`,
          auth_mode: 'NONE',
          enabled: true,
        });
        ids[name] = (
          await admin.expect<{ id: number }>(200, 'GET', `/p2p/preheat/instances/${name}`)
        ).body.id;
      }
      for (const [repo, tag] of [
        ['app', 'v1'],
        ['app', 'v2'],
        ['other', 'v1'],
      ] as const)
        await client.pushImage(`p2p/${repo}`, makeImage({ layers: 2 }), tag);
      await admin.expect(201, 'POST', '/labels', { name: 'hot', scope: 'g' });
      const label = (await admin.expect<{ id: number }[]>(200, 'GET', '/labels?q=name%3Dhot&scope=g'))
        .body[0]!;
      await admin.expect(200, 'POST', '/projects/p2p/repositories/app/artifacts/v1/labels', { id: label.id });
    });
    after(async () => {
      await berth?.close();
      await stub?.close();
    });

    test('policies are validated, created, listed with their provider and updated as Harbor does', async () => {
      const policy = {
        name: 'hot-app',
        provider_id: ids.df,
        filters: filters({ repository: 'app', tag: 'v*', label: 'hot' }),
        trigger: manual,
        enabled: true,
      };
      const bad = await admin.expectError(400, 'BAD_REQUEST', 'POST', base, { ...policy, name: 'bad name' });
      assert.equal(bad, 'name bad name is invalid');
      await admin.expectError(404, 'NOT_FOUND', 'POST', base, { ...policy, provider_id: 999 });
      const cron = await admin.expectError(400, 'BAD_REQUEST', 'POST', base, {
        ...policy,
        trigger: JSON.stringify({ type: 'scheduled', trigger_setting: { cron: 'every day' } }),
      });
      assert.match(cron, /^invalid cron string for scheduled preheat: every day/);
      await admin.expectError(400, 'BAD_REQUEST', 'POST', base, { ...policy, filters: '[{"type":"size"}]' });
      const made = await admin.expect(201, 'POST', base, policy);
      assert.equal(made.headers.get('location'), `/api/v2.0${base}/hot-app`);
      await admin.expectError(409, 'CONFLICT', 'POST', base, policy);
      await admin.expect(201, 'POST', base, {
        name: 'nightly',
        provider_id: ids.kr,
        filters: filters({ repository: '**' }),
        trigger: JSON.stringify({ type: 'scheduled', trigger_setting: { cron: '0 0 3 * * *' } }),
        enabled: false,
      });
      const list = await admin.expect<{ name: string; provider_name: string; enabled: boolean }[]>(
        200,
        'GET',
        `${base}?sort=name`,
      );
      assert.equal(list.headers.get('x-total-count'), '2');
      assert.deepEqual(
        list.body.map((p) => [p.name, p.provider_name, p.enabled]),
        [
          ['hot-app', 'df', true],
          ['nightly', 'kr', false],
        ],
      );
      const got = await admin.expect<{ filters: string; trigger: string; project_id: number }>(
        200,
        'GET',
        `${base}/hot-app`,
      );
      assert.deepEqual(JSON.parse(got.body.filters), JSON.parse(policy.filters));
      await admin.expect(200, 'PUT', `${base}/nightly`, {
        name: 'nightly',
        provider_id: ids.kr,
        filters: filters({ repository: 'none-such' }),
        trigger: manual,
        enabled: true,
        description: 'now manual',
      });
      const updated = await admin.expect<{ description: string; trigger: string }>(
        200,
        'GET',
        `${base}/nightly`,
      );
      assert.equal(updated.body.description, 'now manual');
      assert.equal(JSON.parse(updated.body.trigger).type, 'manual');
      await admin.expectError(404, 'NOT_FOUND', 'GET', `${base}/none`);
      const used = await admin.expectError(412, 'PRECONDITION', 'DELETE', '/p2p/preheat/instances/df');
      assert.equal(used, 'Provider [df] cannot be deleted as some preheat policies are using it');
    });

    test('a manual run preheats only what the filters keep, through Dragonfly with a pull token', async () => {
      const run = await admin.expect(201, 'POST', `${base}/hot-app`, {});
      const location = run.headers.get('location')!;
      assert.match(location, /^\/projects\/p2p\/preheat\/policies\/hot-app\/executions\/\d+$/);
      const execution = Number(location.split('/').at(-1));
      const done = await finished('hot-app', execution);
      assert.equal(done.status, 'Success', JSON.stringify(done));
      assert.deepEqual(
        [done.vendor_type, done.trigger, done.extra_attrs.totalCount],
        ['P2P_PREHEAT', 'manual', 1],
      );
      assert.deepEqual([done.metrics.task_count, done.metrics.success_task_count], [1, 1]);

      const posted = stub.server.requests.filter((r) => r.url.pathname === '/df/oapi/v1/jobs');
      assert.equal(posted.length, 1, 'one artifact passed app / v* / hot');
      const job = JSON.parse(posted[0]!.body.toString()) as {
        type: string;
        args: { type: string; url: string; headers: Record<string, string> };
      };
      assert.equal(posted[0]!.headers['content-type'], 'application/json');
      assert.deepEqual([job.type, job.args.type], ['preheat', 'image']);
      assert.equal(job.args.url, `${berth.url}/v2/p2p/app/manifests/v1`);
      assert.match(job.args.headers.Authorization!, /^Bearer /);
      assert.ok(
        stub.server.requests.some((r) => /^\/df\/oapi\/v1\/jobs\/\d+$/.test(r.url.pathname)),
        'the run followed the job',
      );
      const pull = stub.pulls.find((p) => p.url === job.args.url)!;
      assert.ok(pull.ok, pull.error);
      assert.equal(pull.blobs, 3, 'config and both layers');

      // The token pulls this repository and nothing else; a forged one pulls nothing.
      const token = job.args.headers.Authorization!;
      const other = await fetch(`${berth.url}/v2/p2p/other/manifests/v1`, {
        headers: { authorization: token },
      });
      assert.equal(other.status, 401);
      const forged = `${token.slice(0, -4)}AAAA`;
      const refused = await fetch(job.args.url, { headers: { authorization: forged } });
      assert.equal(refused.status, 401);

      const tasks = await admin.expect<Task[]>(200, 'GET', `${base}/hot-app/executions/${execution}/tasks`);
      assert.equal(tasks.headers.get('x-total-count'), '1');
      assert.equal(tasks.body[0]!.status, 'Success');
      assert.deepEqual(
        [tasks.body[0]!.extra_attrs.artifact, tasks.body[0]!.extra_attrs.kind],
        ['p2p/app:v1', 'image'],
      );
      const log = await admin.expect<string>(
        200,
        'GET',
        `${base}/hot-app/executions/${execution}/tasks/${tasks.body[0]!.id}/logs`,
      );
      assert.match(log.text, /Preheating image 'p2p\/app:v1@sha256:/);
      assert.match(log.text, /Preheating is completed/);
      const listed = await admin.expect<Execution[]>(200, 'GET', `${base}/hot-app/executions`);
      assert.deepEqual(
        listed.body.map((e) => e.id),
        [execution],
      );
      await admin.expectError(404, 'NOT_FOUND', 'GET', `${base}/nightly/executions/${execution}`);
    });

    test('a run whose filters keep nothing ends at once, and a disabled policy does not run', async () => {
      const run = await admin.expect(201, 'POST', `${base}/nightly`, {});
      const id = Number(run.headers.get('location')!.split('/').at(-1));
      const e = await admin.expect<Execution>(200, 'GET', `${base}/nightly/executions/${id}`);
      assert.deepEqual([e.body.status, e.body.status_message], ['Success', 'no artifacts to preheat']);
      await admin.expect(200, 'PUT', `${base}/nightly`, {
        name: 'nightly',
        provider_id: ids.kr,
        filters: filters({ repository: '**' }),
        trigger: manual,
        enabled: false,
      });
      const off = await admin.expectError(400, 'BAD_REQUEST', 'POST', `${base}/nightly`, {});
      assert.match(off, /is not enabled$/);
    });

    test("the project's vulnerability setting keeps unscanned images from being preheated", async () => {
      await admin.expect(200, 'PUT', '/projects/p2p', {
        metadata: { prevent_vul: 'true', severity: 'high' },
      });
      try {
        const run = await admin.expect(201, 'POST', `${base}/hot-app`, {});
        const id = Number(run.headers.get('location')!.split('/').at(-1));
        const e = await admin.expect<Execution>(200, 'GET', `${base}/hot-app/executions/${id}`);
        assert.deepEqual([e.body.status, e.body.extra_attrs.totalCount], ['Success', 0]);
      } finally {
        await admin.expect(200, 'PUT', '/projects/p2p', { metadata: { prevent_vul: 'false' } });
      }
    });

    test('an event-based policy preheats a pushed tag its filters keep, through Kraken', async () => {
      await admin.expect(201, 'POST', base, {
        name: 'on-push',
        provider_id: ids.kr,
        filters: filters({ repository: 'other', tag: '**' }),
        trigger: JSON.stringify({ type: 'event_based', trigger_setting: { cron: '' } }),
        enabled: true,
      });
      await client.pushImage('p2p/app', makeImage(), 'v9'); // filtered out: another repository
      const image = makeImage();
      await client.pushImage('p2p/other', image, 'v2');
      const execution = await waitFor('the event-based execution', async () => {
        const list = await admin.expect<Execution[]>(200, 'GET', `${base}/on-push/executions`);
        return list.body.length > 0 && list.body[0]!.status !== 'Running' && list.body;
      });
      assert.equal(execution.length, 1, 'the push to p2p/app started nothing');
      assert.deepEqual([execution[0]!.trigger, execution[0]!.status], ['event_based', 'Success']);
      const notified = stub.server.requests.filter((r) => r.url.pathname === '/kr/registry/notifications');
      assert.equal(notified.length, 1);
      const event = (
        JSON.parse(notified[0]!.body.toString()) as {
          Events: {
            Action: string;
            Target: { Repository: string; Tag: string; Digest: string; Url: string };
          }[];
        }
      ).Events[0]!;
      assert.deepEqual(
        [event.Action, event.Target.Repository, event.Target.Tag, event.Target.Digest],
        ['push', 'p2p/other', 'v2', image.digest],
      );
      assert.ok(stub.pulls.find((p) => p.url === event.Target.Url)?.ok);
    });

    test('an event-based policy preheats an artifact once a label its filter wants is attached (ARTIFACT_LABELED)', async () => {
      await admin.expect(201, 'POST', base, {
        name: 'on-label',
        provider_id: ids.df,
        filters: filters({ repository: 'lab', tag: '**', label: 'cold' }),
        trigger: JSON.stringify({ type: 'event_based', trigger_setting: { cron: '' } }),
        enabled: true,
      });
      await admin.expect(201, 'POST', '/labels', { name: 'cold', scope: 'g' });
      const label = (await admin.expect<{ id: number }[]>(200, 'GET', '/labels?q=name%3Dcold&scope=g'))
        .body[0]!;
      const image = makeImage();
      // Pushed by digest and tagged through the API: neither starts an event-based run (Harbor's triggers
      // are a push, a scan and a label), so the only run is the label's.
      await client.pushImage('p2p/lab', image);
      await admin.expect(201, 'POST', `/projects/p2p/repositories/lab/artifacts/${image.digest}/tags`, {
        name: 'v1',
      });
      await admin.expect(200, 'POST', '/projects/p2p/repositories/lab/artifacts/v1/labels', { id: label.id });
      const execution = await waitFor('the label-triggered execution', async () => {
        const list = await admin.expect<Execution[]>(200, 'GET', `${base}/on-label/executions`);
        return list.body.length > 0 && list.body[0]!.status !== 'Running' && list.body;
      });
      assert.deepEqual(
        [execution.length, execution[0]!.trigger, execution[0]!.status],
        [1, 'event_based', 'Success'],
      );
      const tasks = await admin.expect<{ extra_attrs: { artifact: string } }[]>(
        200,
        'GET',
        `${base}/on-label/executions/${execution[0]!.id}/tasks`,
      );
      assert.deepEqual(
        tasks.body.map((t) => t.extra_attrs.artifact),
        ['p2p/lab:v1'],
      );
      await admin.expect(200, 'DELETE', `${base}/on-label`);
    });

    test("a scheduled policy runs at its cron's times, and no more once it is deleted", async () => {
      await admin.expect(201, 'POST', base, {
        name: 'each-second',
        provider_id: ids.kr,
        filters: filters({ repository: 'none-such' }),
        trigger: JSON.stringify({ type: 'scheduled', trigger_setting: { cron: '* * * * * *' } }),
        enabled: true,
      });
      const runs = await waitFor('a scheduled execution', async () => {
        const list = await admin.expect<Execution[]>(200, 'GET', `${base}/each-second/executions`);
        return list.body.length > 0 && list.body;
      });
      assert.deepEqual(
        [runs[0]!.trigger, runs[0]!.status, runs[0]!.status_message],
        ['scheduled', 'Success', 'no artifacts to preheat'],
      );
      await admin.expect(200, 'DELETE', `${base}/each-second`);
    });

    test("deleting a project ends its scheduled policies' schedules (the next fire removes an orphan)", async () => {
      await admin.expect(201, 'POST', '/projects', { project_name: 'p2p-gone' });
      await admin.expect(201, 'POST', '/projects/p2p-gone/preheat/policies', {
        name: 'each-second',
        provider_id: ids.kr,
        filters: filters({ repository: 'none-such' }),
        trigger: JSON.stringify({ type: 'scheduled', trigger_setting: { cron: '* * * * * *' } }),
        enabled: true,
      });
      const { id } = (
        await admin.expect<{ id: number }>(200, 'GET', '/projects/p2p-gone/preheat/policies/each-second')
      ).body;
      const preheatSchedules = async () =>
        (
          await admin.expect<{ vendor_type: string; vendor_id: number }[]>(
            200,
            'GET',
            '/schedules?page_size=100',
          )
        ).body.filter((s) => s.vendor_type === 'preheat.start' && s.vendor_id === id).length;
      assert.equal(await preheatSchedules(), 1);
      await admin.expect(200, 'DELETE', '/projects/p2p-gone');
      await waitFor('the orphan schedule to go', async () => (await preheatSchedules()) === 0);
    });

    test('a stopped execution stops its tasks; a provider in use cannot be disabled', async () => {
      await admin.expect(201, 'POST', base, {
        name: 'held',
        provider_id: ids.df,
        filters: filters({ repository: 'app', tag: 'v1' }),
        trigger: manual,
        enabled: true,
      });
      stub.hold = true;
      try {
        const run = await admin.expect(201, 'POST', `${base}/held`, {});
        const id = Number(run.headers.get('location')!.split('/').at(-1));
        await waitFor('the task to ask Dragonfly', async () => {
          const tasks = await admin.expect<Task[]>(200, 'GET', `${base}/held/executions/${id}/tasks`);
          return tasks.body[0]?.status === 'Running';
        });
        await admin.expectError(400, 'BAD_REQUEST', 'PATCH', `${base}/held/executions/${id}`, {
          status: 'x',
        });
        await admin.expect(200, 'PATCH', `${base}/held/executions/${id}`, { status: 'Stopped' });
        const stopped = await finished('held', id);
        assert.equal(stopped.status, 'Stopped');
        const tasks = await admin.expect<Task[]>(200, 'GET', `${base}/held/executions/${id}/tasks`);
        assert.equal(tasks.body[0]!.status, 'Stopped');
      } finally {
        stub.hold = false;
      }
      const df = (await admin.expect<Record<string, unknown>>(200, 'GET', '/p2p/preheat/instances/df')).body;
      const refused = await admin.expectError(412, 'PRECONDITION', 'PUT', '/p2p/preheat/instances/df', {
        ...df,
        enabled: false,
      });
      assert.equal(refused, 'Provider [df] cannot be disabled as some preheat policies are using it');
      await admin.expect(200, 'DELETE', `${base}/held`);
    });

    test('deleting a policy removes its runs', async () => {
      await admin.expect(200, 'DELETE', `${base}/on-push`);
      await admin.expectError(404, 'NOT_FOUND', 'GET', `${base}/on-push/executions`);
      const list = await admin.expect<unknown[]>(200, 'GET', base);
      assert.equal(list.headers.get('x-total-count'), '2');
    });
  });
}
