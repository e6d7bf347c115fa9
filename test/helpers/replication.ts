import { Readable } from 'node:stream';
import type { BerthApp } from '../../src/app.js';
import type { RemoteRegistry } from '../../src/remotes/adapter.js';
import type { ExecutionView } from '../../src/services/replication/execution-views.js';
import type { Manifest } from './registry-client.js';
import { waitFor } from './wait.js';

/** Seeds an image (blobs, then the manifest under `tag`) through an adapter. */
export async function seedImage(remote: RemoteRegistry, repo: string, image: Manifest, tag: string) {
  for (const b of image.blobs) await remote.putBlob(repo, b.digest, b.bytes.length, Readable.from([b.bytes]));
  await remote.putManifest(repo, tag, image.mediaType, image.bytes);
}

const ended = new Set(['Succeed', 'Failed', 'Stopped']);

/** Waits for an execution to end and returns it. */
export async function settledExecution(
  app: BerthApp,
  id: number,
  timeoutMs = 30_000,
): Promise<ExecutionView> {
  return waitFor(
    `replication execution ${id} to end`,
    async () => {
      const e = await app.replication.views.get(id);
      return ended.has(e.status) && e;
    },
    timeoutMs,
  );
}

/** The executions of a policy, newest first. */
export async function executionsOf(app: BerthApp, policyId: number): Promise<ExecutionView[]> {
  return (await app.replication.views.list({ policyId, offset: 0, limit: 100 })).items;
}

/** Every task log of an execution, concatenated. */
export async function executionLog(app: BerthApp, id: number): Promise<string> {
  const { items } = await app.replication.views.tasks(id, { offset: 0, limit: 100 });
  const logs = await Promise.all(items.map((t) => app.replication.views.taskLog(id, t.id)));
  return logs.join('');
}
