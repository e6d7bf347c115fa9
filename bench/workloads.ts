import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import { authedAgent } from './berth-process.js';
import { curlPullBlob, curlPullImage } from './curl.js';
import {
  manifestAccept,
  pullBlob,
  pullImage,
  pushChunked,
  pushImage,
  pushMonolithic,
  type PushedImage,
  type Target,
} from './client.js';
import { blob, type BlobSpec } from './data.js';
import { closedLoop, MB, MiB, timed } from './measure.js';

/** Sizes and durations: the full run (~10 min) or BENCH_QUICK=1 (~1 min). */
export interface Profile {
  quick: boolean;
  rounds: number;
  small: number;
  smallCount: number;
  medium: number;
  mediumCount: number;
  large: number;
  chunk: number;
  /** Pulls of each blob per side: run as rounds of one pull each. */
  pullMediumCount: number;
  pullLargeCount: number;
  manifestSeconds: number;
  imageClients: number;
  imageLayer: number;
  loadClients: number;
  loadSeconds: number;
  rssBlob: number;
}

export function profileOf(quick: boolean): Profile {
  return quick
    ? {
        quick,
        rounds: 3,
        small: MiB,
        smallCount: 8,
        medium: 16 * MiB,
        mediumCount: 1,
        large: 64 * MiB,
        chunk: 16 * MiB,
        pullMediumCount: 2,
        pullLargeCount: 2,
        manifestSeconds: 0.5,
        imageClients: 32,
        imageLayer: MiB,
        loadClients: 200,
        loadSeconds: 3,
        rssBlob: 256 * MiB,
      }
    : {
        quick,
        rounds: 3,
        small: MiB,
        smallCount: 32,
        medium: 64 * MiB,
        mediumCount: 3,
        large: 256 * MiB,
        chunk: 16 * MiB,
        pullMediumCount: 4,
        pullLargeCount: 3,
        manifestSeconds: 5,
        imageClients: 32,
        imageLayer: 8 * MiB,
        loadClients: 200,
        loadSeconds: 30,
        rssBlob: 2048 * MiB,
      };
}

/** Figures of one sample; each key is one metric. */
export type Metrics = Record<string, number>;

/** How a metric compares: throughput ratio = berth/dist; latency and time ratio = dist/berth. */
export const higherIsBetter: Record<string, boolean> = {
  'MB/s': true,
  'req/s': true,
  'p50 ms': false,
  'p99 ms': false,
  s: false,
  errors: false,
};

export interface Workload {
  id: string;
  title: string;
  /** The metric that gets the headline ratio. */
  main: string;
  measure(t: Target, fixtures: Fixtures): Promise<Metrics>;
  /** Rounds for this workload when not the profile's. */
  rounds?: number;
}

/** What `prepare` pushed to one target before timing starts. */
export interface Fixtures {
  pullMedium: BlobSpec;
  pullLarge: BlobSpec;
  manifestImage: PushedImage;
  bigImage: PushedImage;
  loadImage: PushedImage;
}

let nextSeed = 1000;
const freshSeed = () => nextSeed++;
const mbps = (bytes: number, seconds: number) => bytes / MB / seconds;

function agent(connections: number): Dispatcher {
  return authedAgent({ connections, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
}

/** Pushes everything the pull workloads read (untimed). Same seeds for both targets. */
export async function prepare(t: Target, p: Profile): Promise<Fixtures> {
  const d = agent(4);
  try {
    const pullMedium = blob(11, p.medium);
    const pullLarge = blob(12, p.large);
    await pushMonolithic(t, 'bench/pull', pullMedium, d);
    await pushMonolithic(t, 'bench/pull', pullLarge, d);
    const manifestImage = await pushImage(
      t,
      'bench/manifest',
      'latest',
      21,
      [blob(22, 4096), blob(23, 8192)],
      d,
    );
    const bigLayers = [31, 32, 33, 34, 35].map((s) => blob(s, p.imageLayer));
    const bigImage = await pushImage(t, 'bench/image', 'v1', 30, bigLayers, d);
    const loadLayers = [blob(41, 64 * 1024), blob(42, 256 * 1024), blob(43, MiB)];
    const loadImage = await pushImage(t, 'bench/load', 'v1', 40, loadLayers, d);
    // One verified pull of each, so a wrong byte count fails before any timing.
    await pullBlob(t, 'bench/pull', pullMedium.digest, d);
    await pullImage(t, bigImage, d);
    return { pullMedium, pullLarge, manifestImage, bigImage, loadImage };
  } finally {
    await d.close();
  }
}

function pushWorkload(id: string, title: string, size: number, count: number, chunk?: number): Workload {
  return {
    id,
    title,
    main: 'MB/s',
    async measure(t) {
      const blobs = Array.from({ length: count }, () => blob(freshSeed(), size));
      const d = agent(1);
      try {
        const s = await timed(async () => {
          for (const b of blobs) {
            if (chunk) await pushChunked(t, 'bench/push', b, chunk, d);
            else await pushMonolithic(t, 'bench/push', b, d);
          }
        });
        return { 'MB/s': mbps(size * count, s) };
      } finally {
        await d.close();
      }
    },
  };
}

/**
 * One pull per round, over many rounds: a single pull is short, so alternating after each one keeps
 * drifting background load from favouring either server, and the median has more samples.
 */
function pullWorkload(
  id: string,
  title: string,
  which: 'pullMedium' | 'pullLarge',
  rounds: number,
): Workload {
  return {
    id,
    title,
    main: 'MB/s',
    rounds,
    async measure(t, f) {
      const blob = f[which];
      const res = await curlPullBlob(t, 'bench/pull', blob.digest, blob.size);
      return { 'MB/s': mbps(res.bytes, res.seconds) };
    },
  };
}

function manifestWorkload(method: 'GET' | 'HEAD', concurrency: number, seconds: number): Workload {
  return {
    id: `manifest-${method.toLowerCase()}-c${concurrency}`,
    title: `manifest ${method} by tag, concurrency ${concurrency}`,
    main: 'req/s',
    async measure(t, f) {
      const d = agent(concurrency);
      const url = `${t.url}/v2/${f.manifestImage.repo}/manifests/${f.manifestImage.tag}`;
      // undici closes the connection after every HEAD unless told otherwise (a guard against servers
      // that send a body); registry clients keep it alive, so the bench does too.
      const reset = method === 'HEAD' ? { reset: false } : {};
      try {
        const r = await closedLoop(
          concurrency,
          seconds,
          async () => {
            const res = await request(url, {
              method,
              headers: { accept: manifestAccept },
              dispatcher: d,
              ...reset,
            });
            await res.body.dump();
            if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
          },
          { warmupSeconds: Math.min(0.5, seconds / 5) },
        );
        if (r.errors > 0) throw new Error(`${r.errors} errors`);
        return { 'req/s': r.rps, 'p50 ms': r.p50, 'p99 ms': r.p99 };
      } finally {
        await d.close();
      }
    },
  };
}

/**
 * Manifest PUTs as a push's last step: each one a new OCI image manifest (an annotation numbers it) over
 * the manifest image's config and layers, which the repository already holds, under a new tag.
 */
function manifestPutWorkload(concurrency: number, seconds: number): Workload {
  return {
    id: `manifest-put-c${concurrency}`,
    title: `manifest PUT (new manifest and tag, blobs present), concurrency ${concurrency}`,
    main: 'req/s',
    async measure(t, f) {
      const d = agent(concurrency);
      const img = f.manifestImage;
      const round = freshSeed();
      const body = (i: number) =>
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            digest: img.configDigest,
            size: img.configSize,
          },
          layers: img.layers.map((l) => ({
            mediaType: 'application/vnd.oci.image.layer.v1.tar',
            digest: l.digest,
            size: l.size,
          })),
          annotations: { 'bench.put': `${round}-${i}` },
        });
      let next = 0;
      try {
        const r = await closedLoop(
          concurrency,
          seconds,
          async () => {
            const i = next++;
            const res = await request(`${t.url}/v2/${img.repo}/manifests/put-${round}-${i}`, {
              method: 'PUT',
              headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
              body: body(i),
              dispatcher: d,
            });
            await res.body.dump();
            if (res.statusCode !== 201) throw new Error(`HTTP ${res.statusCode}`);
          },
          { warmupSeconds: Math.min(0.5, seconds / 5) },
        );
        if (r.errors > 0) throw new Error(`${r.errors} errors`);
        return { 'req/s': r.rps, 'p50 ms': r.p50, 'p99 ms': r.p99 };
      } finally {
        await d.close();
      }
    },
  };
}

export function imagePullWorkload(clients: number, rounds: number): Workload {
  return {
    id: `image-pull-${clients}`,
    title: `${clients} clients pulling a 5-layer image at once (${rounds} rounds)`,
    main: 's',
    // Each round is over in 1-2 s, where the machine's swings between fast and slow spells (tens of per cent
    // for both servers) decide three rounds; more rounds let the median see through them.
    rounds,
    async measure(t, f) {
      let bytes = 0;
      const s = await timed(() =>
        Promise.all(
          Array.from({ length: clients }, async () => {
            const n = await curlPullImage(t, f.bigImage); // not `bytes += await …`: that reads bytes first
            bytes += n;
          }),
        ),
      );
      return { s, 'MB/s': mbps(bytes, s) };
    },
  };
}

export function workloads(p: Profile): Workload[] {
  const mib = (n: number) => `${n / MiB} MiB`;
  const list: Workload[] = [
    pushWorkload(
      'push-mono-small',
      `blob push monolithic ${mib(p.small)} (x${p.smallCount})`,
      p.small,
      p.smallCount,
    ),
    pushWorkload(
      'push-mono-medium',
      `blob push monolithic ${mib(p.medium)} (x${p.mediumCount})`,
      p.medium,
      p.mediumCount,
    ),
    pushWorkload(
      'push-chunked-large',
      `blob push chunked ${mib(p.large)} (PATCH ${mib(p.chunk)} chunks)`,
      p.large,
      1,
      p.chunk,
    ),
    pullWorkload(
      'pull-medium',
      `blob pull ${mib(p.medium)} (${p.rounds * p.pullMediumCount} rounds of one pull)`,
      'pullMedium',
      p.rounds * p.pullMediumCount,
    ),
    pullWorkload(
      'pull-large',
      `blob pull ${mib(p.large)} (${p.rounds * p.pullLargeCount} rounds of one pull)`,
      'pullLarge',
      p.rounds * p.pullLargeCount,
    ),
  ];
  for (const method of ['GET', 'HEAD'] as const)
    for (const c of [1, 16, 64]) list.push(manifestWorkload(method, c, p.manifestSeconds));
  for (const c of [1, 16]) list.push(manifestPutWorkload(c, p.manifestSeconds));
  list.push(imagePullWorkload(p.imageClients, p.rounds * 3));
  return list;
}

/** The load run: `clients` loops of (GET manifest by tag, GET one of its blobs) for `seconds`. */
export async function loadRun(t: Target, f: Fixtures, clients: number, seconds: number): Promise<Metrics> {
  const d = agent(clients);
  const img = f.loadImage;
  const blobs = [img.configDigest, ...img.layers.map((l) => l.digest)];
  const manifestUrl = `${t.url}/v2/${img.repo}/manifests/${img.tag}`;
  const firstErrors: string[] = [];
  let bytes = 0;
  try {
    const t0 = performance.now();
    const r = await closedLoop(
      clients,
      seconds,
      async (w, i) => {
        if (i % 2 === 0) {
          const res = await request(manifestUrl, { headers: { accept: manifestAccept }, dispatcher: d });
          const body = await res.body.arrayBuffer();
          if (res.statusCode !== 200) throw new Error(`GET manifest: HTTP ${res.statusCode}`);
          bytes += body.byteLength;
        } else {
          const n = await pullBlob(t, img.repo, blobs[(w + i) % blobs.length]!, d);
          bytes += n;
        }
      },
      {
        maxOps: 20_000_000,
        onError: (e) => {
          if (firstErrors.length < 5) firstErrors.push(String(e));
        },
      },
    );
    if (firstErrors.length)
      process.stderr.write(`${t.name} load-run errors, first ones:\n  ${firstErrors.join('\n  ')}\n`);
    return {
      'req/s': r.rps,
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      errors: r.errors,
      'MB/s': mbps(bytes, (performance.now() - t0) / 1000),
    };
  } finally {
    await d.close();
  }
}
