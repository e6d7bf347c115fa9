/**
 * Harbor API list performance (issue 4): artifact list pages over one repository of 10 000 artifacts, and
 * project list pages over 1 000 projects, against a Berth process. Berth only (distribution has no such
 * API). Seeds through the public HTTP surfaces, then times every page.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Agent, request, type Dispatcher } from 'undici';
import { benchAuthorization } from './berth-process.js';
import { Latencies } from './measure.js';

export interface ApiBenchResult {
  artifacts: number;
  projects: number;
  seedArtifactsSeconds: number;
  seedProjectsSeconds: number;
  /** ms per request: p50, p95, max. */
  artifactPages: { p50: number; p95: number; max: number; pages: number; pageSize: number };
  artifactFiltered: { p50: number; p95: number; max: number };
  projectPages: { p50: number; p95: number; max: number; pages: number; pageSize: number };
  projectFiltered: { p50: number; p95: number; max: number };
}

const auth = benchAuthorization;
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function call(
  d: Dispatcher,
  url: string,
  method: string,
  body?: Buffer | string,
  type?: string,
  ok = [200, 201],
) {
  const res = await request(url, {
    method: method as Dispatcher.HttpMethod,
    headers: { authorization: auth, ...(type ? { 'content-type': type } : {}) },
    body,
    dispatcher: d,
  });
  const text = await res.body.text();
  if (!ok.includes(res.statusCode))
    throw new Error(`${method} ${url}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  return { headers: res.headers, text };
}

export async function pool(n: number, total: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < total) await fn(next++);
    }),
  );
}

function stats(l: Latencies) {
  return { p50: l.percentile(50), p95: l.percentile(95), max: l.percentile(100) };
}

export async function apiBench(
  url: string,
  opts: { artifacts: number; projects: number },
): Promise<ApiBenchResult> {
  const d = new Agent({ connections: 16 });
  const api = `${url}/api/v2.0`;
  try {
    await call(
      d,
      `${api}/projects`,
      'POST',
      JSON.stringify({ project_name: 'bench-api' }),
      'application/json',
      [201, 409],
    );
    // Every tenth artifact is tagged, so tag batches and tag filters have work to do.
    const seedArtifactsSeconds = await seedArtifacts(d, url, 'bench-api/list', opts.artifacts, (i) =>
      i % 10 === 0 ? `t${i}` : undefined,
    );
    const t0 = performance.now();
    await pool(16, opts.projects, async (i) => {
      await call(
        d,
        `${api}/projects`,
        'POST',
        JSON.stringify({ project_name: `bench-p${String(i).padStart(4, '0')}` }),
        'application/json',
        [201, 409],
      );
    });
    const seedProjectsSeconds = (performance.now() - t0) / 1000;

    const pageSize = 100;
    const list = `${api}/projects/bench-api/repositories/list/artifacts`;
    const first = await call(d, `${list}?page=1&page_size=${pageSize}`, 'GET');
    const total = Number(first.headers['x-total-count']);
    if (total !== opts.artifacts)
      throw new Error(`expected ${opts.artifacts} artifacts, the API counts ${total}`);
    const artifactPages = new Latencies(10_000);
    const pages = Math.ceil(total / pageSize);
    for (let round = 0; round < 2; round++) {
      for (let p = 1; p <= pages; p++) {
        const s = performance.now();
        await call(d, `${list}?page=${p}&page_size=${pageSize}&with_tag=true&with_label=true`, 'GET');
        artifactPages.add(performance.now() - s);
      }
    }
    const artifactFiltered = new Latencies(1000);
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      await call(
        d,
        `${list}?page=1&page_size=${pageSize}&q=${encodeURIComponent(`tags=~t${i % 10}`)}`,
        'GET',
      );
      artifactFiltered.add(performance.now() - s);
    }

    const projectPages = new Latencies(1000);
    const projectPageCount = Math.ceil((opts.projects + 1) / pageSize);
    for (let round = 0; round < 5; round++) {
      for (let p = 1; p <= projectPageCount; p++) {
        const s = performance.now();
        await call(d, `${api}/projects?page=${p}&page_size=${pageSize}`, 'GET');
        projectPages.add(performance.now() - s);
      }
    }
    const projectFiltered = new Latencies(1000);
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      await call(d, `${api}/projects?name=p0${i % 10}&page_size=${pageSize}&sort=-creation_time`, 'GET');
      projectFiltered.add(performance.now() - s);
    }
    return {
      artifacts: opts.artifacts,
      projects: opts.projects,
      seedArtifactsSeconds,
      seedProjectsSeconds,
      artifactPages: { ...stats(artifactPages), pages, pageSize },
      artifactFiltered: stats(artifactFiltered),
      projectPages: { ...stats(projectPages), pages: projectPageCount, pageSize },
      projectFiltered: stats(projectFiltered),
    };
  } finally {
    await d.close();
  }
}

/**
 * Pushes `count` small image manifests into `repo` (one shared config and layer, 16 at a time), each by the tag
 * `tagOf(i)` gives or else by digest; returns the seconds the manifest PUTs took.
 */
export async function seedArtifacts(
  d: Agent,
  url: string,
  repo: string,
  count: number,
  tagOf: (i: number) => string | undefined,
): Promise<number> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = randomBytes(1024);
  for (const blob of [config, layer])
    await call(
      d,
      `${url}/v2/${repo}/blobs/uploads/?digest=${sha(blob)}`,
      'POST',
      blob,
      'application/octet-stream',
      [201],
    );
  const manifest = (i: number) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(config),
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length },
      ],
      annotations: { 'bench.n': String(i) },
    });
  const t0 = performance.now();
  await pool(16, count, async (i) => {
    const body = manifest(i);
    await call(
      d,
      `${url}/v2/${repo}/manifests/${tagOf(i) ?? sha(body)}`,
      'PUT',
      body,
      'application/vnd.oci.image.manifest.v1+json',
      [201],
    );
  });
  return (performance.now() - t0) / 1000;
}
