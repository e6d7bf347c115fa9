import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { clientFor, closeNow, makeImage, type RegistryClient } from '../../helpers/registry-client.js';
import { createRetention, runRetention } from '../../helpers/retention.js';
import { waitFor } from '../../helpers/wait.js';
import { startReceiver, type Receiver } from './receiver.js';

/** REPLICATION and TAG_RETENTION: the webhook events that the jobs of those features raise. */
for (const backend of backends()) {
  describe(`job webhook events on ${backend}`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let client: RegistryClient;
    let rx: Receiver;

    before(async () => {
      rx = await startReceiver();
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

    const policyIdOf = async (project: string) =>
      (await api.expect<{ id: number }[]>(200, 'GET', `/projects/${project}/webhook/policies`)).body[0]!.id;
  });
}
