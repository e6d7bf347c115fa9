import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createRemote } from '../../../src/remotes/remotes.js';
import { backends } from '../../helpers/berth.js';
import { spawnBerth, type BerthProcess } from '../../helpers/berth-process.js';
import { dockerRegistryBinary, startDockerRegistry } from '../../helpers/docker-registry.js';
import { createDatabase } from '../../helpers/postgres.js';
import { makeImage, RegistryClient, useBerth } from '../../helpers/registry-client.js';
import { executionLog, settledExecution } from '../../helpers/replication.js';
import { needTools } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

/** Restarts a killed docker-registry on its old port and storage (the helper's config file). */
function restartRegistry(dir: string) {
  const child = spawn(dockerRegistryBinary, ['serve', join(dir, 'config.yml')], {
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
  });
  return child;
}

async function until200(url: string): Promise<void> {
  await waitFor(`${url} to answer`, async () => {
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  });
}

for (const backend of backends()) {
  describe(`replication faults (${backend})`, () => {
    const fixture = useBerth(backend, { overrides: { jobs: { pollIntervalMs: 50 } } });

    it('the destination dies mid-copy and comes back: the retried task completes, same digest', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const registry = await startDockerRegistry();
      let revived: ReturnType<typeof restartRegistry> | undefined;
      try {
        const { app } = fixture.berth;
        const image = makeImage({ layers: 1, layerSize: 1_500_000 });
        await fixture.client.pushImage('slow/app', image, 'v1');
        const reg = await app.replication.registries.create({
          name: 'dies',
          type: 'docker-registry',
          url: registry.url,
        });
        const policy = await app.replication.policies.create({
          name: 'to-dying',
          dest_registry: { id: reg.id },
          filters: [{ type: 'name', value: 'slow/**' }],
          trigger: { type: 'manual' },
          speed: 300, // KB/s: the layer takes about 5 s
        });
        const id = await app.replication.executions.start(policy.id, 'MANUAL');
        await waitFor('the copy to start', async () => /copying slow\/app/.test(await executionLog(app, id)));
        await new Promise((r) => setTimeout(r, 1000));
        process.kill(registry.pid, 'SIGKILL');
        await waitFor('the first attempt to fail', async () =>
          /retrying in/.test(await executionLog(app, id)),
        );
        revived = restartRegistry(registry.dir);
        await until200(registry.url);
        const done = await settledExecution(app, id, 60_000);
        const log = await executionLog(app, id);
        assert.equal(done.status, 'Succeed', log);
        assert.match(log, /attempt 2 of 3 started/);
        const dist = createRemote({ type: 'docker-registry', url: registry.url });
        assert.equal((await dist.headManifest('slow/app', 'v1'))?.digest, image.digest);
        await dist.close();
      } finally {
        revived?.kill('SIGKILL');
        await registry.stop();
      }
    });

    it('Berth is killed mid-execution: after a restart the task is reclaimed and completes', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const registry = await startDockerRegistry();
      const dataDir = mkdtempSync(join(tmpdir(), 'berth-restart-'));
      const databaseUrl =
        backend === 'postgres' ? await createDatabase(process.env.BERTH_TEST_PG_URL!) : undefined;
      const options = {
        dataDir,
        databaseUrl,
        startTimeoutMs: 90_000,
        env: { BERTH_JOBS_LEASE_SECONDS: '2', BERTH_JOBS_POLL_INTERVAL_MS: '100' },
      };
      let berth: BerthProcess | undefined;
      try {
        berth = await spawnBerth(options);
        const client = new RegistryClient(berth.url);
        const created = await client.fetch('/api/v2.0/projects', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ project_name: 'restart' }),
        });
        assert.equal(created.status, 201, await created.text());
        const image = makeImage({ layers: 1, layerSize: 1_500_000 });
        await client.pushImage('restart/app', image, 'v1');
        const api = async (path: string, body?: unknown) => {
          const res = await new RegistryClient(berth!.url).fetch(`/api/v2.0${path}`, {
            method: body === undefined ? 'GET' : 'POST',
            headers: { 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          assert.ok(res.status < 300, `${path}: ${res.status} ${await res.clone().text()}`);
          return res;
        };
        const reg = await api('/registries', { name: 'peer', type: 'docker-registry', url: registry.url });
        const regId = Number(reg.headers.get('location')!.split('/').pop());
        const pol = await api('/replication/policies', {
          name: 'restart',
          dest_registry: { id: regId },
          filters: [{ type: 'name', value: 'restart/**' }],
          speed: 300,
        });
        const policyId = Number(pol.headers.get('location')!.split('/').pop());
        const started = await api('/replication/executions', { policy_id: policyId });
        const execPath = started.headers.get('location')!.replace('/api/v2.0', '');
        const taskRunning = async () => {
          const tasks = (await (await api(`${execPath}/tasks`)).json()) as { status: string }[];
          return tasks[0]?.status === 'InProgress';
        };
        await waitFor('the task to run', taskRunning, 20_000);
        await new Promise((r) => setTimeout(r, 1000));
        await berth.kill('SIGKILL');

        berth = await spawnBerth(options);
        const exec = await waitFor(
          'the execution to end after the restart',
          async () => {
            const e = (await (await api(execPath)).json()) as { status: string; status_text: string };
            return e.status !== 'InProgress' && e;
          },
          60_000,
        );
        assert.equal(exec.status, 'Succeed', exec.status_text);
        const dist = createRemote({ type: 'docker-registry', url: registry.url });
        assert.equal((await dist.headManifest('restart/app', 'v1'))?.digest, image.digest);
        await dist.close();
      } finally {
        await berth?.stop();
        await registry.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
