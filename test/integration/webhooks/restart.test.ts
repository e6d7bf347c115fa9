// A delivery is a job row written with the push, so a Berth killed mid-delivery delivers it after the
// restart: nothing is lost. The target may see the event twice (at-least-once): the retry carries the
// very same body, CloudEvents `id` included, so a receiver can drop the duplicate.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { spawnBerth, type BerthProcess } from '../../helpers/berth-process.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { createDatabase } from '../../helpers/postgres.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';
import { startReceiver } from './receiver.js';

const env = {
  BERTH_JOBS_LEASE_SECONDS: '1',
  BERTH_JOBS_POLL_INTERVAL_MS: '100',
  BERTH_WEBHOOKS_TIMEOUT_SECONDS: '60',
  BERTH_WEBHOOKS_RETRY_DELAY_MS: '100',
};

for (const backend of backends()) {
  describe(`webhook deliveries survive a crash (${backend})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-webhook-crash-'));
    let berth: BerthProcess | undefined;
    after(async () => {
      await berth?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('SIGKILL while the receiver holds the request: after the restart the same event arrives again and the delivery succeeds', async () => {
      const rx = await startReceiver();
      try {
        const databaseUrl =
          backend === 'postgres' ? await createDatabase(process.env.BERTH_TEST_PG_URL!) : undefined;
        const options = { dataDir, env, ...(databaseUrl ? { databaseUrl } : {}) };
        berth = await spawnBerth(options);
        let api = new HarborApi(berth.url);
        await api.expect(201, 'POST', '/projects', { project_name: 'crash' });
        rx.answer('/crash', { delayMs: 60_000 });
        const created = await api.expect(201, 'POST', '/projects/crash/webhook/policies', {
          name: 'crash',
          enabled: true,
          event_types: ['PUSH_ARTIFACT'],
          targets: [{ type: 'http', address: `${rx.url}/crash`, payload_format: 'CloudEvents' }],
        });
        const policyId = Number(created.headers.get('location')!.split('/').pop());
        await new RegistryClient(berth.url).pushImage('crash/app', makeImage(), 'v1');
        await waitFor('the first try at the receiver', () => rx.on('/crash').length === 1);
        await berth.kill('SIGKILL');

        rx.answer('/crash', { status: 200 });
        berth = await spawnBerth(options);
        api = new HarborApi(berth.url);
        await waitFor('the try after the restart', () => rx.on('/crash').length >= 2, 20_000);
        const [first, again] = rx.on('/crash');
        assert.equal(again!.body, first!.body, 'the same event, CloudEvents id included');
        const executions = await waitFor('the delivery succeeded', async () => {
          const res = await api.expect<{ status: string }[]>(
            200,
            'GET',
            `/projects/crash/webhook/policies/${policyId}/executions`,
          );
          return res.body.length === 1 && res.body[0]!.status === 'Success' && res.body;
        });
        assert.equal(executions.length, 1);
        assert.equal(rx.on('/crash').length, 2);
      } finally {
        await rx.close();
      }
    });
  });
}
