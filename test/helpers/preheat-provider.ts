import { createHash } from 'node:crypto';
import { startFakeHttp, type FakeRequest, type FakeServer } from './fake-http.js';

/** A pull a provider stub made: what it asked for and whether every digest checked out. */
export interface StubPull {
  vendor: 'dragonfly' | 'kraken';
  url: string;
  authorization: string;
  ok: boolean;
  error?: string;
  /** Blobs fetched and verified (config and layers). */
  blobs: number;
}

export interface PreheatProviderStub {
  server: FakeServer;
  url: string;
  /** Dragonfly's jobs by id, Kraken's notifications; the requests themselves are `server.requests`. */
  pulls: StubPull[];
  /** While set, Dragonfly jobs are accepted but stay PENDING and pull nothing (to stop a run midway). */
  hold: boolean;
  close(): Promise<void>;
}

/**
 * Pulls an image as a P2P seed peer does: the manifest from the URL it was given, then each blob it names
 * from the same registry, every digest checked.
 */
async function pullImage(manifestUrl: string, authorization: string): Promise<{ blobs: number }> {
  const headers = {
    authorization,
    accept:
      'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
  };
  const res = await fetch(manifestUrl, { headers });
  if (res.status !== 200) throw new Error(`manifest: ${res.status} ${await res.text()}`);
  const manifest = JSON.parse(await res.text()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const base = manifestUrl.replace(/\/manifests\/[^/]+$/, '');
  let blobs = 0;
  for (const { digest } of [manifest.config, ...manifest.layers]) {
    const blob = await fetch(`${base}/blobs/${digest}`, { headers: { authorization } });
    const bytes = Buffer.from(await blob.arrayBuffer());
    if (blob.status !== 200) throw new Error(`blob ${digest}: ${blob.status}`);
    if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` !== digest)
      throw new Error(`blob ${digest}: digest mismatch`);
    blobs++;
  }
  return { blobs };
}

/**
 * A Dragonfly and a Kraken in one HTTP server (paths /df and /kr): health paths, Dragonfly's job API
 * (`POST /oapi/v1/jobs`, then `GET /oapi/v1/jobs/<id>` PENDING until the pull ends) and Kraken's registry
 * notifications. Each preheat pulls the image from Berth: Dragonfly with the headers of the job, Kraken
 * (which Harbor sends no credentials) with the credentials it is configured with, `krakenAuth`.
 */
export async function startPreheatProviderStub(krakenAuth: string): Promise<PreheatProviderStub> {
  const pulls: StubPull[] = [];
  const jobs = new Map<number, { result?: StubPull }>();
  const run = async (vendor: StubPull['vendor'], url: string, authorization: string): Promise<StubPull> => {
    try {
      const { blobs } = await pullImage(url, authorization);
      const pull = { vendor, url, authorization, ok: true, blobs };
      pulls.push(pull);
      return pull;
    } catch (err) {
      const pull = { vendor, url, authorization, ok: false, error: (err as Error).message, blobs: 0 };
      pulls.push(pull);
      return pull;
    }
  };
  const stub = { pulls, hold: false, close: () => stub.server.close() } as PreheatProviderStub;
  const server = await startFakeHttp([
    ['GET', '/df/healthy', () => ({ status: 200, body: 'OK' })],
    ['GET', '/kr/health', () => ({ status: 200, body: 'OK' })],
    [
      'POST',
      '/df/oapi/v1/jobs',
      (req: FakeRequest) => {
        const body = JSON.parse(req.body.toString()) as {
          args: { url: string; headers: Record<string, string> };
        };
        const id = jobs.size + 1;
        const job: { result?: StubPull } = {};
        jobs.set(id, job);
        if (!stub.hold)
          void run('dragonfly', body.args.url, body.args.headers.Authorization ?? '').then(
            (r) => (job.result = r),
          );
        const now = new Date().toISOString();
        return { json: { id, state: 'PENDING', created_at: now, updated_at: now } };
      },
    ],
    [
      'GET',
      /^\/df\/oapi\/v1\/jobs\/(\d+)$/,
      (_req, m) => {
        const id = Number(m[1]);
        const job = jobs.get(id);
        if (!job) return { status: 404, json: { message: 'no such job' } };
        const settled = job.result;
        if (!settled) return { json: { id, state: 'PENDING' } };
        return {
          json: settled.ok
            ? {
                id,
                state: 'SUCCESS',
                result: {
                  job_states: [
                    {
                      results: [
                        {
                          success_tasks: [{ url: settled.url, hostname: 'seed-1', ip: '10.0.0.1' }],
                          scheduler_cluster_id: 1,
                        },
                      ],
                    },
                  ],
                },
              }
            : { id, state: 'FAILURE', result: { job_states: [{ error: settled.error }] } },
        };
      },
    ],
    [
      'POST',
      '/kr/registry/notifications',
      async (req: FakeRequest) => {
        const body = JSON.parse(req.body.toString()) as { Events: { Target: { Url: string } }[] };
        const pull = await run('kraken', body.Events[0]!.Target.Url, krakenAuth);
        return pull.ok ? { status: 200, json: {} } : { status: 500, body: pull.error ?? '' };
      },
    ],
  ]);
  stub.server = server;
  stub.url = server.url;
  return stub;
}
