import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { clientFor, closeNow, makeImage, type RegistryClient } from '../../helpers/registry-client.js';
import { startDockerRegistry, type RunningDockerRegistry } from '../../helpers/docker-registry.js';
import { createRetention, runRetention } from '../../helpers/retention.js';
import { waitFor } from '../../helpers/wait.js';
import { importVulnDb } from '../../../src/services/scanning/builtin/vulndb-import.js';
import { debianImage, VULNERABLE_PACKAGES } from '../../helpers/scan-images.js';
import { DEBIAN12_FIXTURE_DIR } from '../../helpers/vulndb.js';
import { cloudEventsKeys, startReceiver, type Receiver } from './receiver.js';

const scanMime = 'application/vnd.security.vulnerability.report; version=1.1';

/** REPLICATION, TAG_RETENTION and SCANNING_*: the webhook events that the jobs of those features raise. */
for (const backend of backends()) {
  describe(`job webhook events on ${backend}`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let client: RegistryClient;
    let rx: Receiver;
    let registry: RunningDockerRegistry;

    before(async () => {
      rx = await startReceiver();
      registry = await startDockerRegistry({ htpasswd: { bob: 'pw' } });
      berth = await startBerth({
        backend,
        overrides: { webhooks: { retryDelayMs: 100, pullBatchMs: 100 }, jobs: { pollIntervalMs: 50 } },
      });
      api = new HarborApi(berth.url);
      client = clientFor(berth);
    });
    after(async () => {
      await closeNow(berth);
      await rx.close();
      await registry.stop();
    });

    test('a retention run that removes artifacts delivers TAG_RETENTION per repository; a dry run delivers none', async () => {
      const projectId = await berth.createProject('ret');
      await api.expect(201, 'POST', '/projects/ret/webhook/policies', {
        name: 'retention',
        enabled: true,
        event_types: ['TAG_RETENTION'],
        targets: [{ type: 'http', address: `${rx.url}/retention` }],
      });
      const kept = makeImage({ layerSize: 32 });
      const removed = makeImage({ layerSize: 32 });
      await client.pushImage('ret/app', removed, 'old');
      await client.pushImage('ret/app', kept, 'new');
      const policyId = await createRetention(api, projectId, [{ template: 'latestPushedK', n: 1 }]);

      const dry = await runRetention(api, policyId, true);
      assert.equal(dry.execution.status, 'Success');
      const before = Math.floor(Date.now() / 1000);
      const run = await runRetention(api, policyId, false);
      assert.equal(run.execution.status, 'Success');
      await waitFor('the TAG_RETENTION delivery', () => rx.on('/retention').length >= 1);
      const [got] = rx.on('/retention');
      assert.equal(got!.headers['content-type'], 'application/json');
      const occurAt = (JSON.parse(got!.body) as { occur_at: number }).occur_at;
      assert.ok(occurAt >= before && occurAt <= Math.floor(Date.now() / 1000) + 1);
      const selector = (decoration: string) =>
        `{"kind":"doublestar","decoration":"${decoration}","pattern":"**","extras":""}`;
      assert.equal(
        got!.body,
        `{"type":"TAG_RETENTION","occur_at":${occurAt},"operator":"admin","event_data":{"retention":` +
          `{"total":2,"retained":1,"harbor_hostname":"127.0.0.1","project_name":"ret","retention_policy_id":${policyId},` +
          `"retention_rule":[{"template":"latestPushedK","params":{"latestPushedK":1},"tag_selectors":[${selector('matches')}],` +
          `"scope_selectors":{"repository":[${selector('repoMatches')}]}}],"result":"SUCCESS",` +
          `"deleted_artifact":[{"type":"image","status":"SUCCESS","name_tag":"app:old","references":null}]}}}`,
      );
      // A run that removes nothing more sends nothing either; only the one event arrived.
      await runRetention(api, policyId, false);
      const executions = await api.expect<{ extra_attrs: { event_type: string } }[]>(
        200,
        'GET',
        `/projects/ret/webhook/policies/${await policyIdOf('ret')}/executions`,
      );
      assert.equal(executions.body.length, 1);
      assert.equal(rx.on('/retention').length, 1);
    });

    test("a push replication to distribution delivers REPLICATION to the source project, as Harbor's handler builds it", async () => {
      await berth.createProject('rep');
      await api.expect(201, 'POST', '/projects/rep/webhook/policies', {
        name: 'replication',
        enabled: true,
        event_types: ['REPLICATION'],
        targets: [{ type: 'http', address: `${rx.url}/replication` }],
      });
      await client.pushImage('rep/app', makeImage({ layerSize: 32 }), 'v1');
      const reg = await api.expect(201, 'POST', '/registries', {
        name: 'dist',
        type: 'docker-registry',
        url: registry.url,
        credential: { type: 'basic', access_key: 'bob', access_secret: 'pw' },
        insecure: false,
      });
      const registryId = Number(reg.headers.get('location')!.split('/').pop());
      const created = await api.expect(201, 'POST', '/replication/policies', {
        name: 'to-dist',
        description: 'mirror <rep>',
        dest_registry: { id: registryId },
        dest_namespace: 'mirror',
        trigger: { type: 'manual', trigger_settings: { cron: '' } },
        filters: [{ type: 'name', value: 'rep/**' }],
        override: true,
        enabled: true,
      });
      const policyId = Number(created.headers.get('location')!.split('/').pop());
      const started = await api.expect(201, 'POST', '/replication/executions', { policy_id: policyId });
      const executionId = Number(started.headers.get('location')!.split('/').pop());
      await waitFor('the REPLICATION delivery', () => rx.on('/replication').length >= 1, 30_000);
      const execution = await api.expect<{ status: string; start_time: string }>(
        200,
        'GET',
        `/replication/executions/${executionId}`,
      );
      const tasks = await api.expect<{ id: number }[]>(
        200,
        'GET',
        `/replication/executions/${executionId}/tasks`,
      );
      const [got] = rx.on('/replication');
      const occurAt = (JSON.parse(got!.body) as { occur_at: number }).occur_at;
      const started_ = Math.floor(Date.parse(execution.body.start_time) / 1000);
      assert.equal(
        got!.body,
        `{"type":"REPLICATION","occur_at":${occurAt},"operator":"","event_data":{"replication":` +
          `{"harbor_hostname":"127.0.0.1","job_status":"Success","description":"mirror \\u003crep\\u003e",` +
          `"artifact_type":"image","authentication_type":"basic","override_mode":true,"trigger_type":"MANUAL",` +
          `"execution_timestamp":${started_},` +
          `"src_resource":{"registry_type":"harbor","endpoint":"${berth.url}","namespace":"mirror"},` +
          `"dest_resource":{"registry_name":"dist","registry_type":"docker-registry","endpoint":"${registry.url}","namespace":"rep"},` +
          `"successful_artifact":[{"type":"image","status":"Success","name_tag":"app [1 item(s) in total]","references":["v1"]}],` +
          `"execution_id":${executionId},"task_id":${tasks.body[0]!.id}}}}`,
      );
      assert.equal(rx.on('/replication').length, 1);
    });

    test("a scan delivers SCANNING_COMPLETED, a failed one SCANNING_FAILED, in Harbor's Default and CloudEvents shapes", async () => {
      await importVulnDb({ store: berth.app.store }, DEBIAN12_FIXTURE_DIR);
      const projectId = await berth.createProject('scanned');
      const created = await api.expect(201, 'POST', '/projects/scanned/webhook/policies', {
        name: 'scans',
        enabled: true,
        event_types: ['SCANNING_COMPLETED', 'SCANNING_FAILED'],
        targets: [
          { type: 'http', address: `${rx.url}/scan-default`, payload_format: 'Default' },
          { type: 'http', address: `${rx.url}/scan-ce`, payload_format: 'CloudEvents' },
        ],
      });
      const policyId = Number(created.headers.get('location')!.split('/').pop());
      const vulnerable = debianImage(VULNERABLE_PACKAGES, 'webhook');
      const junk = makeImage({ layerSize: 64 }); // no tar: the built-in scanner fails on it
      await client.pushImage('scanned/app', vulnerable, 'v1');
      await client.pushImage('scanned/junk', junk, 'v1');

      /** Scans `repo:v1`, waits for both targets' delivery of `type`, and checks them against the API's overview. */
      const scan = async (repo: string, type: string, cloudType: string, digest: string) => {
        const path = `/projects/scanned/repositories/${repo}/artifacts/v1`;
        const before = Math.floor(Date.now() / 1000);
        await api.expect(202, 'POST', `${path}/scan`);
        const byType = (p: string) =>
          rx.on(p).filter((r) => r.body.includes(`"${type}"`) || r.body.includes(`"${cloudType}"`));
        await waitFor(
          `${type} at both targets`,
          () => byType('/scan-default').length === 1 && byType('/scan-ce').length === 1,
          30_000,
        );
        const art = await api.expect<{ scan_overview: Record<string, Record<string, unknown>> }>(
          200,
          'GET',
          `${path}?with_scan_overview=true`,
        );
        const overview = art.body.scan_overview[scanMime]!;
        const eventData = {
          resources: [
            {
              digest,
              tag: 'v1',
              resource_url: `${berth.host}/scanned/${repo}:v1`,
              scan_overview: { [scanMime]: overview },
            },
          ],
          repository: {
            name: repo,
            namespace: 'scanned',
            repo_full_name: `scanned/${repo}`,
            repo_type: 'private',
          },
          scan: { scan_type: 'vulnerability' },
        };
        const [dflt] = byType('/scan-default');
        assert.equal(dflt!.headers['content-type'], 'application/json');
        const body = JSON.parse(dflt!.body) as Record<string, unknown> & { occur_at: number };
        assert.deepEqual(Object.keys(body), ['type', 'occur_at', 'operator', 'event_data']);
        assert.deepEqual(body, { type, occur_at: body.occur_at, operator: 'admin', event_data: eventData });
        assert.ok(body.occur_at >= before && body.occur_at <= Math.floor(Date.now() / 1000));
        // Harbor's field order, down to the report summary (its NativeReportSummary).
        assert.deepEqual(Object.keys((body.event_data as typeof eventData).resources[0]!), [
          'digest',
          'tag',
          'resource_url',
          'scan_overview',
        ]);
        assert.deepEqual(Object.keys(body.event_data as object), ['resources', 'repository', 'scan']);
        const [ce] = byType('/scan-ce');
        assert.equal(ce!.headers['content-type'], 'application/cloudevents+json');
        const cloud = JSON.parse(ce!.body) as Record<string, unknown>;
        assert.deepEqual(Object.keys(cloud), cloudEventsKeys);
        assert.match(cloud.id as string, /^[0-9a-f-]{36}$/);
        assert.deepEqual(cloud, {
          specversion: '1.0',
          id: cloud.id,
          source: `/projects/${projectId}/webhook/policies/${policyId}`,
          type: cloudType,
          datacontenttype: 'application/json',
          time: new Date(body.occur_at * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          operator: 'admin',
          requestid: cloud.requestid,
          data: eventData,
        });
        return overview;
      };

      const completed = await scan('app', 'SCANNING_COMPLETED', 'harbor.scan.completed', vulnerable.digest);
      assert.equal(completed.scan_status, 'Success');
      assert.equal(completed.severity, 'Critical');
      assert.deepEqual(completed.summary, { total: 2, fixable: 2, summary: { Critical: 1, High: 1 } });
      const failed = await scan('junk', 'SCANNING_FAILED', 'harbor.scan.failed', junk.digest);
      assert.equal(failed.scan_status, 'Error');

      // An execution appears when the delivery thread fans the event out, and its outcome is committed shortly
      // after the receiver answered (the thread batches them): wait for all four, settled.
      const statuses = async () => {
        const executions = await api.expect<{ status: string; extra_attrs: { event_type: string } }[]>(
          200,
          'GET',
          `/projects/scanned/webhook/policies/${policyId}/executions`,
        );
        return executions.body.map((e) => `${e.extra_attrs.event_type} ${e.status}`).sort();
      };
      await waitFor('the four deliveries settled', async () => {
        const now = await statuses();
        // An execution is Pending, then Running, then final.
        return now.length === 4 && now.every((s) => /(Success|Error|Stopped)$/.test(s));
      });
      assert.deepEqual(await statuses(), [
        'SCANNING_COMPLETED Success',
        'SCANNING_COMPLETED Success',
        'SCANNING_FAILED Success',
        'SCANNING_FAILED Success',
      ]);
    });

    const policyIdOf = async (project: string) =>
      (await api.expect<{ id: number }[]>(200, 'GET', `/projects/${project}/webhook/policies`)).body[0]!.id;
  });
}
