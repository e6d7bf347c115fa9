import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { clientFor, closeNow, makeImage, type RegistryClient } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';
import { cloudEventsKeys, startReceiver, type Received, type Receiver } from './receiver.js';

/** Fast retries and short time limits, so failures and timeouts play out in a test's time. */
export const webhookTestConfig = {
  webhooks: {
    retryDelayMs: 100,
    timeoutSeconds: 1,
    maxAttempts: 3,
    pullBatchMs: 100,
    concurrencyPerTarget: 2,
  },
  jobs: { pollIntervalMs: 100 },
};

interface Policy {
  id: number;
  name: string;
  project_id: number;
  enabled: boolean;
  event_types: string[];
  targets: { type: string; address: string; auth_header?: string; payload_format?: string }[];
}

/** Harbor's SlackBodyTemplate, written out here independently of Berth's copy. */
function expectedSlack(type: string, occurAt: number, operator: string, eventData: string): string {
  return [
    '{',
    '\t"blocks": [',
    '\t\t{',
    '            "type": "section",',
    '\t\t\t"text": {',
    '\t\t\t\t"type": "mrkdwn",',
    '\t\t\t\t"text": "*Harbor webhook events*"',
    '\t\t\t}',
    '        },',
    '        {',
    '            "type": "section",',
    '\t\t\t"text": {',
    '\t\t\t\t"type": "mrkdwn",',
    `\t\t\t\t"text": "*event_type:* ${type}"`,
    '\t\t\t}',
    '        },',
    '        {',
    '            "type": "section",',
    '\t\t\t"text": {',
    '\t\t\t\t"type": "mrkdwn",',
    `\t\t\t\t"text": "*occur_at:* <!date^${occurAt}^{date} at {time}|February 18th, 2014 at 6:39 AM PST>"`,
    '\t\t\t}',
    '        },',
    '        {\t"type": "section",',
    '\t\t\t"text": {',
    '\t\t\t\t"type": "mrkdwn",',
    `\t\t\t\t"text": "*operator:* ${operator}"`,
    '\t\t\t}',
    '\t\t},',
    '        {\t"type": "section",',
    '\t\t\t"text": {',
    '\t\t\t\t"type": "mrkdwn",',
    '\t\t\t\t"text": "*event_data:*"',
    '\t\t\t}',
    '\t\t},',
    '\t\t{\t"type": "section",',
    '\t\t\t"text": {',
    '\t\t\t\t"type": "mrkdwn",',
    `\t\t\t\t"text": "\`\`\`${eventData}\`\`\`"`,
    '\t\t\t}',
    '\t\t}',
    '    ]}',
  ].join('\n');
}

interface Execution {
  id: number;
  status: string;
  status_message: string;
  vendor_type: string;
  extra_attrs: { event_type: string; payload: string };
}

function json(r: Received): Record<string, unknown> {
  return JSON.parse(r.body) as Record<string, unknown>;
}

for (const backend of backends()) {
  describe(`webhooks on ${backend}`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let client: RegistryClient;
    let rx: Receiver;
    let projectId: number;

    before(async () => {
      rx = await startReceiver();
      berth = await startBerth({ backend, overrides: webhookTestConfig });
      api = new HarborApi(berth.url);
      client = clientFor(berth);
      projectId = await berth.createProject('hooks');
    });
    after(async () => {
      await closeNow(berth);
      await rx.close();
    });

    const createPolicy = async (project: string, body: object): Promise<number> => {
      const res = await api.expect(201, 'POST', `/projects/${project}/webhook/policies`, body);
      return Number(res.headers.get('location')!.split('/').pop());
    };

    test("policies: Harbor's checks and messages, Location, defaults, 409 on a duplicate name, update, delete", async () => {
      const events = await api.expect(200, 'GET', '/projects/hooks/webhook/events');
      assert.deepEqual(events.body, {
        event_type: [
          'PUSH_ARTIFACT',
          'PULL_ARTIFACT',
          'DELETE_ARTIFACT',
          'QUOTA_EXCEED',
          'QUOTA_WARNING',
          'SCANNING_FAILED',
          'SCANNING_STOPPED',
          'SCANNING_COMPLETED',
          'REPLICATION',
          'TAG_RETENTION',
        ],
        notify_type: ['http', 'slack'],
        payload_formats: [{ notify_type: 'http', formats: ['Default', 'CloudEvents'] }],
      });
      const path = '/projects/hooks/webhook/policies';
      const target = { type: 'http', address: `${rx.url}/crud` };
      const bad: [object, RegExp][] = [
        [{ name: 'p', targets: [target] }, /^empty event type$/],
        [
          { name: 'p', event_types: ['PUSH_IMAGE'], targets: [target] },
          /^unsupported event type PUSH_IMAGE$/,
        ],
        [{ name: 'p', event_types: ['PUSH_ARTIFACT'] }, /^empty notification target with policy p$/],
        [
          { name: 'p', event_types: ['PUSH_ARTIFACT'], targets: [{ type: 'email', address: rx.url }] },
          /^unsupported target type email with policy p$/,
        ],
        [
          {
            name: 'p',
            event_types: ['PUSH_ARTIFACT'],
            targets: [{ type: 'slack', address: rx.url, payload_format: 'Default' }],
          },
          /^set payload format is not allowed for slack$/,
        ],
        [
          {
            name: 'p',
            event_types: ['PUSH_ARTIFACT'],
            targets: [{ type: 'http', address: rx.url, payload_format: 'XML' }],
          },
          /^unsupported payload format type: XML$/,
        ],
        [
          { name: 'p', event_types: ['PUSH_ARTIFACT'], targets: [{ type: 'http', address: 'ftp://x' }] },
          /^invalid scheme: ftp$/,
        ],
      ];
      for (const [body, message] of bad) {
        const res = await api.call<{ errors: { code: string; message: string }[] }>('POST', path, body);
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.errors[0]!.code, 'BAD_REQUEST');
        assert.match(res.body.errors[0]!.message, message);
      }
      const created = await api.expect(201, 'POST', path, {
        name: 'crud',
        description: 'first',
        enabled: true,
        event_types: ['PUSH_ARTIFACT'],
        targets: [{ type: 'http', address: `${rx.url}/crud/?token=x`, skip_cert_verify: true }],
      });
      const location = created.headers.get('location')!;
      assert.match(location, /^\/api\/v2\.0\/projects\/hooks\/webhook\/policies\/\d+$/);
      const id = Number(location.split('/').pop());
      await api.expectError(409, 'CONFLICT', 'POST', path, {
        name: 'crud',
        event_types: ['PUSH_ARTIFACT'],
        targets: [target],
      });
      const got = (await api.expect<Policy & Record<string, unknown>>(200, 'GET', `${path}/${id}`)).body;
      assert.equal(got.name, 'crud');
      assert.equal(got.project_id, projectId);
      assert.equal(got.creator, 'admin');
      // The query is dropped (Harbor's SSRF guard) and http targets default to the Default format.
      assert.deepEqual(got.targets, [
        { type: 'http', address: `${rx.url}/crud/`, skip_cert_verify: true, payload_format: 'Default' },
      ]);
      const list = await api.expect<Policy[]>(200, 'GET', `${path}?page=1&page_size=10`);
      assert.equal(list.headers.get('x-total-count'), '1');
      await api.expect(200, 'PUT', `${path}/${id}`, {
        name: 'crud2',
        enabled: false,
        event_types: ['DELETE_ARTIFACT'],
        targets: [target],
      });
      const updated = (await api.expect<Policy>(200, 'GET', `${path}/${id}`)).body;
      assert.equal(updated.name, 'crud2');
      assert.equal(updated.enabled, false);
      assert.deepEqual(updated.event_types, ['DELETE_ARTIFACT']);
      await berth.createProject('other');
      await api.expectError(404, 'NOT_FOUND', 'GET', `/projects/other/webhook/policies/${id}`);
      await api.expectError(404, 'NOT_FOUND', 'GET', `${path}/999999`);
      await api.expect(200, 'DELETE', `${path}/${id}`);
      await api.expectError(404, 'NOT_FOUND', 'GET', `${path}/${id}`);
    });

    test('push, pull and delete reach http (Default, CloudEvents) and slack targets byte for byte as Harbor sends them', async () => {
      const policyId = await createPolicy('hooks', {
        name: 'formats',
        enabled: true,
        event_types: ['PUSH_ARTIFACT', 'PULL_ARTIFACT', 'DELETE_ARTIFACT'],
        targets: [
          { type: 'http', address: `${rx.url}/default`, auth_header: 'Bearer s3cret' },
          { type: 'http', address: `${rx.url}/ce`, payload_format: 'CloudEvents' },
          { type: 'slack', address: `${rx.url}/slack` },
        ],
      });
      const image = makeImage();
      const before = Math.floor(Date.now() / 1000);
      await client.pushImage('hooks/app', image, 'v1');
      await waitFor('the push at three targets', () =>
        ['/default', '/ce', '/slack'].every((p) => rx.on(p).length >= 1),
      );
      const [dflt] = rx.on('/default');
      assert.equal(dflt!.headers['content-type'], 'application/json');
      assert.equal(dflt!.headers['authorization'], 'Bearer s3cret');
      const payload = json(dflt!) as {
        occur_at: number;
        event_data: { repository: { date_created: number } };
      };
      assert.ok(payload.occur_at >= before && payload.occur_at <= Math.floor(Date.now() / 1000) + 1);
      const created = payload.event_data.repository.date_created;
      assert.ok(created >= before - 1 && created <= payload.occur_at + 1);
      const eventData =
        `{"resources":[{"digest":"${image.digest}","tag":"v1","resource_url":"${berth.host}/hooks/app:v1"}],` +
        `"repository":{"date_created":${created},"name":"app","namespace":"hooks","repo_full_name":"hooks/app","repo_type":"private"}}`;
      assert.equal(
        dflt!.body,
        `{"type":"PUSH_ARTIFACT","occur_at":${payload.occur_at},"operator":"admin","event_data":${eventData}}`,
      );

      const [ce] = rx.on('/ce');
      assert.equal(ce!.headers['content-type'], 'application/cloudevents+json');
      assert.equal(ce!.headers['authorization'], undefined);
      assert.deepEqual(
        Object.keys(ce!.headers).filter((h) => h.startsWith('ce-')),
        [],
        'structured mode: the attributes are in the body, as Harbor sends them',
      );
      const event = json(ce!);
      assert.deepEqual(Object.keys(event), cloudEventsKeys);
      assert.equal(event['specversion'], '1.0');
      assert.match(String(event['id']), /^[0-9a-f-]{36}$/);
      assert.equal(event['source'], `/projects/${projectId}/webhook/policies/${policyId}`);
      assert.equal(event['type'], 'harbor.artifact.pushed');
      assert.equal(event['datacontenttype'], 'application/json');
      assert.equal(event['time'], new Date(payload.occur_at * 1000).toISOString().replace('.000Z', 'Z'));
      assert.equal(event['operator'], 'admin');
      assert.ok(ce!.body.endsWith(`"data":${eventData}}`));

      const [slack] = rx.on('/slack');
      assert.equal(slack!.headers['content-type'], 'application/json');
      const indented = JSON.stringify(JSON.parse(eventData), null, '\t').replaceAll('"', '\\"');
      assert.equal(slack!.body, expectedSlack('PUSH_ARTIFACT', payload.occur_at, 'admin', indented));

      // A pull by tag: PULL_ARTIFACT, written off the pull path in the next batch.
      const pulled = await client.fetch('/v2/hooks/app/manifests/v1', {
        headers: { accept: image.mediaType },
      });
      await pulled.arrayBuffer();
      assert.equal(pulled.status, 200);
      await waitFor('the pull at the Default target', () => rx.on('/default').length >= 2);
      const pull = json(rx.on('/default')[1]!) as { type: string; event_data: { resources: object[] } };
      assert.equal(pull.type, 'PULL_ARTIFACT');
      assert.deepEqual(pull.event_data.resources, [
        { digest: image.digest, tag: 'v1', resource_url: `${berth.host}/hooks/app:v1` },
      ]);

      // A delete by digest names the artifact's first tag, as Harbor's DELETE_ARTIFACT does.
      const del = await client.fetch(`/v2/hooks/app/manifests/${image.digest}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      await waitFor('the delete at the Default target', () => rx.on('/default').length >= 3);
      const deleted = json(rx.on('/default')[2]!) as { type: string; event_data: { resources: object[] } };
      assert.equal(deleted.type, 'DELETE_ARTIFACT');
      assert.deepEqual(deleted.event_data.resources, [
        { digest: image.digest, tag: 'v1', resource_url: `${berth.host}/hooks/app:v1` },
      ]);
      // Delivery is eventual (the latency target lives in the bench): a loaded CI machine gets more than 10 s.
      await waitFor(
        'all nine deliveries at their targets',
        () => ['/default', '/ce', '/slack'].every((p) => rx.on(p).length === 3),
        30_000,
      );

      // Executions, tasks, logs, last trigger and the deprecated jobs list show the nine deliveries.
      const base = `/projects/hooks/webhook/policies/${policyId}`;
      const executions = await waitFor('nine successful executions', async () => {
        const res = await api.expect<Execution[]>(200, 'GET', `${base}/executions?page_size=20`);
        return res.body.length === 9 && res.body.every((e) => e.status === 'Success') && res;
      });
      assert.equal(executions.headers.get('x-total-count'), '9');
      assert.deepEqual(executions.body.map((e) => e.vendor_type).sort(), [
        'SLACK',
        'SLACK',
        'SLACK',
        'WEBHOOK',
        'WEBHOOK',
        'WEBHOOK',
        'WEBHOOK',
        'WEBHOOK',
        'WEBHOOK',
      ]);
      const first = executions.body.at(-1)!;
      assert.equal(first.extra_attrs.event_type, 'PUSH_ARTIFACT');
      const tasks = await api.expect<
        { id: number; status: string; run_count: number; execution_id: number }[]
      >(200, 'GET', `${base}/executions/${first.id}/tasks`);
      assert.equal(tasks.body.length, 1);
      assert.equal(tasks.body[0]!.status, 'Success');
      assert.equal(tasks.body[0]!.run_count, 1);
      const log = await api.expect<string>(
        200,
        'GET',
        `${base}/executions/${first.id}/tasks/${tasks.body[0]!.id}/log`,
      );
      assert.match(
        log.text,
        /sent the (http|slack) request to http:\/\/127\.0\.0\.1:\d+\/\w+: 200 in \d+ ms/,
      );
      await api.expectError(404, 'NOT_FOUND', 'GET', `${base}/executions/999999/tasks`);
      const last = await api.expect<{ policy_name: string; event_type: string; last_trigger_time: string }[]>(
        200,
        'GET',
        '/projects/hooks/webhook/lasttrigger',
      );
      const push = last.body.find((l) => l.policy_name === 'formats' && l.event_type === 'PUSH_ARTIFACT');
      assert.ok(push && !push.last_trigger_time.startsWith('0001'), JSON.stringify(last.body));
      const jobs = await api.expect<
        { policy_id: number; notify_type: string; job_detail: string; status: string }[]
      >(200, 'GET', `/projects/hooks/webhook/jobs?policy_id=${policyId}&status=Success`);
      assert.equal(jobs.headers.get('x-total-count'), '9');
      assert.ok(jobs.body.some((j) => j.notify_type === 'slack' && j.job_detail.includes('*event_type:*')));
      await api.expect(200, 'DELETE', base);
    });

    test('retries: 500 twice then 200 is delivered once; a receiver that keeps failing ends in Error; a disabled policy sends nothing', async () => {
      await berth.createProject('retry');
      rx.answer('/flaky', { status: 500 }, { status: 500 }, { status: 200 });
      rx.answer('/down', { status: 500 });
      const id = await createPolicy('retry', {
        name: 'retry',
        enabled: true,
        event_types: ['PUSH_ARTIFACT'],
        targets: [
          { type: 'http', address: `${rx.url}/flaky` },
          { type: 'http', address: `${rx.url}/down` },
        ],
      });
      await client.pushImage('retry/app', makeImage(), 'v1');
      await waitFor(
        'three tries at each target',
        () => rx.on('/flaky').length === 3 && rx.on('/down').length === 3,
      );
      const bodies = new Set(rx.on('/flaky').map((r) => r.body));
      assert.equal(bodies.size, 1, 'each try sends the same event');
      const executions = await waitFor('both executions ended', async () => {
        const res = await api.expect<Execution[]>(
          200,
          'GET',
          `/projects/retry/webhook/policies/${id}/executions`,
        );
        return res.body.every((e) => e.status !== 'Running') && res.body;
      });
      const byPayload = (s: string) => executions.find((e) => e.status === s)!;
      assert.equal(byPayload('Success').extra_attrs.payload, [...bodies][0]);
      assert.match(byPayload('Error').status_message, /^abnormal response code: 500, body: receiver error$/);
      const task = (
        await api.expect<{ run_count: number }[]>(
          200,
          'GET',
          `/projects/retry/webhook/policies/${id}/executions/${byPayload('Success').id}/tasks`,
        )
      ).body[0]!;
      assert.equal(task.run_count, 3);
      // Disabled: the next push leaves no delivery.
      await api.expect(200, 'PUT', `/projects/retry/webhook/policies/${id}`, {
        name: 'retry',
        enabled: false,
        event_types: ['PUSH_ARTIFACT'],
        targets: [{ type: 'http', address: `${rx.url}/flaky` }],
      });
      await client.pushImage('retry/app', makeImage(), 'v2');
      const total = await api.expect(200, 'GET', `/projects/retry/webhook/policies/${id}/executions`);
      assert.equal(total.headers.get('x-total-count'), '2');
      assert.equal(rx.on('/flaky').length, 3);
    });

    test('a slow receiver does not hold up another target: the fast one gets every push while the slow one times out', async () => {
      await berth.createProject('slow');
      rx.answer('/slow', { delayMs: 5000 });
      await createPolicy('slow', {
        name: 'slow',
        enabled: true,
        event_types: ['PUSH_ARTIFACT'],
        targets: [
          { type: 'http', address: `${rx.url}/slow` },
          { type: 'http', address: `${rx.url}/fast` },
        ],
      });
      const pushed: number[] = [];
      for (let i = 0; i < 6; i++) {
        await client.pushImage('slow/app', makeImage(), `v${i}`);
        pushed.push(Date.now());
      }
      await waitFor('six pushes at the fast target', () => rx.on('/fast').length === 6);
      // Each push reaches the fast target within a second, while the slow one holds its requests open
      // until Berth's 1 s limit: never more than two at once (webhooks.concurrencyPerTarget, 2 here).
      const delays = rx.on('/fast').map((r, i) => r.at - pushed[i]!);
      assert.ok(
        delays.every((d) => d < 1000),
        `delays after each push: ${delays.join(', ')} ms`,
      );
      assert.equal(rx.maxInFlight('/fast') >= 1, true);
      // Uncapped, all six would be open at once. The receiver hears a timed-out request's close a moment
      // after Berth has opened the next one; on a loaded machine that moment once counted a third (load 10).
      assert.ok(rx.maxInFlight('/slow') <= 3, `${rx.maxInFlight('/slow')} requests open at once`);
      assert.ok(rx.on('/slow').length >= 2);
    });

    test('QUOTA_EXCEED and QUOTA_WARNING carry the project and the quota details', async () => {
      const id = await berth.createProject('quota');
      await createPolicy('quota', {
        name: 'quota',
        enabled: true,
        event_types: ['QUOTA_EXCEED', 'QUOTA_WARNING'],
        targets: [{ type: 'http', address: `${rx.url}/quota` }],
      });
      await api.expect(200, 'PUT', `/quotas/${id}`, { hard: { storage: 6000 } });
      // About 5.5 KB of 6000 B: over 85 %, so the push is warned about.
      await client.pushImage('quota/app', makeImage({ layerSize: 5000 }), 'v1');
      await waitFor('the warning', () => rx.on('/quota').length >= 1);
      const warning = json(rx.on('/quota')[0]!) as {
        type: string;
        event_data: { repository: object; custom_attributes: { Details: string } };
      };
      assert.equal(warning.type, 'QUOTA_WARNING');
      assert.deepEqual(warning.event_data.repository, {
        name: 'app',
        namespace: 'quota',
        repo_full_name: 'quota/app',
        repo_type: 'private',
      });
      assert.match(
        warning.event_data.custom_attributes.Details,
        /^quota usage reach 85%: resource storage used /,
      );
      // The next push does not fit: refused, and QUOTA_EXCEED is delivered.
      const image = makeImage({ layerSize: 5000 });
      const res = await client.fetch(`/v2/quota/app/blobs/uploads/?digest=${image.blobs[1]!.digest}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(image.blobs[1]!.bytes),
      });
      await res.arrayBuffer();
      assert.equal(res.status, 403);
      await waitFor('the refusal', () => rx.on('/quota').length >= 2);
      const exceed = json(rx.on('/quota')[1]!) as {
        type: string;
        operator: string;
        event_data: { resources: object[]; custom_attributes: { Details: string } };
      };
      assert.equal(exceed.type, 'QUOTA_EXCEED');
      assert.equal(exceed.operator, 'admin');
      assert.deepEqual(exceed.event_data.resources, [{ digest: image.blobs[1]!.digest }]);
      assert.match(
        exceed.event_data.custom_attributes.Details,
        /^Quota exceeded when processing the request/,
      );
    });

    test('the test delivery sends a sample event to each target and reports a failing one', async () => {
      const path = '/projects/hooks/webhook/policies/test';
      await api.expect(200, 'POST', path, {
        event_types: ['PUSH_ARTIFACT'],
        targets: [{ type: 'http', address: `${rx.url}/try`, auth_header: 'Basic eA==' }],
      });
      const got = rx.on('/try')[0]!;
      assert.equal(got.headers['authorization'], 'Basic eA==');
      assert.equal((json(got) as { type: string }).type, 'PUSH_ARTIFACT');
      rx.answer('/try-down', { status: 503 });
      const message = await api.expectError(400, 'BAD_REQUEST', 'POST', path, {
        targets: [{ type: 'http', address: `${rx.url}/try-down` }],
      });
      assert.match(message, /abnormal response code: 503/);
    });
  });
}
