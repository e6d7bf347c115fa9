/**
 * Garbage collection (issue 16): one data set (bench/gc-seed.ts: 10 000 artifacts over 50 100 config and
 * layer blobs, every other artifact deleted) seeded into a fresh Berth and, in distribution's layout,
 * into a directory for Debian's `docker-registry garbage-collect`. Berth's GC runs through the API while
 * clients keep pushing images into the same Berth; distribution's runs offline (no registry serves the
 * directory, as it requires). Reports both times (ratio = distribution / Berth), and the pushes per
 * second before and during Berth's GC; then checks what each collector left.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { dockerRegistryBinary } from '../test/helpers/docker-registry.js';
import { call, pool } from './api.js';
import { authedAgent, removeDir, startBerthProcess } from './berth-process.js';
import { pullImage, pushImage, type PushedImage, type Target } from './client.js';
import { blob } from './data.js';
import { seedGcDataSet, type GcDataSet, type GcSeedCounts } from './gc-seed.js';
import type { WorkloadResult } from './report.js';

export interface PushRate {
  pushes: number;
  seconds: number;
  perSecond: number;
  errors: number;
}

export interface GcBenchResult {
  dataSet: GcDataSet;
  counts: GcSeedCounts;
  seedSeconds: { berth: number; distribution: number };
  /** Wall seconds of each phase of the row, in order, with the 1-minute load average when it ended. */
  phases: { phase: string; seconds: number; load: number }[];
  workers: number;
  berth: {
    /** From the API call to the execution reading Success, polled every 50 ms. */
    seconds: number;
    /** The run's own duration_ms. */
    runSeconds: number;
    purgedBlobs: number;
    purgedManifests: number;
    freedBytes: number;
    /** The run's last log line: its figures and the time in each of its phases. */
    summary: string;
  };
  distribution: { seconds: number; blobsLeft: number };
  pushClients: number;
  pushesWithoutGc: PushRate;
  pushesDuringGc: PushRate;
  /** Images pushed during GC pulled back whole afterwards. */
  pushedDuringGcVerified: number;
  /** Surviving seeded artifacts pulled back whole afterwards (a sample). */
  survivorsVerified: number;
}

/** Push clients beside GC (BENCH_GC_PUSH_CLIENTS; 0 times GC alone). */
const clients = Number(process.env.BENCH_GC_PUSH_CLIENTS ?? 4);

/** Pushes images (config + a fresh 64 KiB layer + manifest) from `clients` loops until `until` resolves. */
async function pushLoad(
  t: Target,
  d: ReturnType<typeof authedAgent>,
  seed: { next: number },
  until: Promise<unknown>,
) {
  let done = false;
  void until.finally(() => (done = true));
  const pushed: PushedImage[] = [];
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      while (!done) {
        const s = seed.next++;
        try {
          pushed.push(await pushImage(t, `bench/gc-push-${w}`, `p${s}`, s, [blob(s, 64 * 1024)], d));
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { rate: { pushes: pushed.length, seconds, perSecond: pushed.length / seconds, errors }, pushed };
}

/** Runs `docker-registry garbage-collect` over `root` (no registry serving it); its output goes to a file. */
async function distributionGc(root: string, dir: string): Promise<number> {
  const config = join(dir, 'gc-config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog: { level: warn }\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n`,
  );
  const fd = openSync(join(dir, 'gc-output.txt'), 'w');
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(dockerRegistryBinary, ['garbage-collect', config], {
      stdio: ['ignore', fd, fd],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  if (code !== 0) throw new Error(`docker-registry garbage-collect exited ${code} (output in ${dir})`);
  return seconds;
}

function countBlobDirs(root: string): number {
  const base = join(root, 'docker/registry/v2/blobs/sha256');
  return readdirSync(base).reduce((n, xx) => n + readdirSync(join(base, xx)).length, 0);
}

export async function gcBench(opts: {
  quick: boolean;
  log: (s: string) => void;
  /** Runs the GC's Berth with --cpu-prof into this folder (BENCH_PROFILE=1). */
  cpuProfDir?: string;
}): Promise<{ workload: WorkloadResult; details: GcBenchResult }> {
  const dataSet: GcDataSet = {
    projects: 10,
    reposPerProject: 10,
    artifactsPerRepo: opts.quick ? 10 : 100,
    layerBytes: 1024,
  };
  const workers = 10;
  const phases: GcBenchResult['phases'] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      const load = os.loadavg()[0]!;
      phases.push({ phase: name, seconds, load });
      opts.log(`  [phase] ${name}: ${seconds.toFixed(1)} s (load ${load.toFixed(1)})`);
    }
  };
  const berth = await phase('start Berth', () =>
    startBerthProcess({ label: 'gc', ...(opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {}) }),
  );
  const t: Target = { name: 'berth', url: berth.url, pid: berth.pid };
  const d = authedAgent({ connections: 32, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const distDir = mkdtempSync(join(tmpdir(), 'berth-bench-gc-dist-'));
  const api = `${berth.url}/api/v2.0`;
  let closed = false;
  const teardown = async () => {
    if (closed) return;
    closed = true;
    await d.close();
    await phase('stop Berth and remove its data', () => berth.stop());
    // storage/docker/registry/v2/{blobs/sha256/<xx>, repositories/<project>/<repo>}: 7 levels down.
    await phase("remove distribution's data", () => removeDir(distDir, 7));
  };
  try {
    const projectIds = new Map<string, number>();
    for (let p = 0; p < dataSet.projects; p++) {
      const name = `bench-gc-${p}`;
      const body = JSON.stringify({ project_name: name });
      await call(d, `${api}/projects`, 'POST', body, 'application/json', [201]);
      const got = JSON.parse((await call(d, `${api}/projects/${name}`, 'GET')).text) as {
        project_id: number;
      };
      projectIds.set(name, got.project_id);
    }
    const distRoot = join(distDir, 'storage');
    const seeded = await seedGcDataSet(
      dataSet,
      projectIds,
      { dbFile: join(berth.dir, 'data/berth.db'), blobRoot: join(berth.dir, 'data/blobs'), distRoot },
      phase,
    );
    const c = seeded.counts;
    opts.log(
      `  seeded ${c.artifacts} artifacts (${c.deletedArtifacts} deleted) over ${c.blobs} blobs + ${c.manifests} manifests; garbage ${c.garbageBlobs} blobs + ${c.garbageManifests} manifests`,
    );

    const seed = { next: 50_000_000 };
    const baselineSeconds = opts.quick ? 5 : 15;
    const without = await phase('pushes without GC', () =>
      pushLoad(t, d, seed, new Promise((r) => setTimeout(r, clients ? baselineSeconds * 1000 : 0))),
    );
    opts.log(
      `  pushes without GC: ${without.rate.perSecond.toFixed(1)}/s (${without.rate.pushes} in ${without.rate.seconds.toFixed(1)} s)`,
    );

    const { gc, during } = await phase("Berth's GC under pushes", async () => {
      const t0 = performance.now();
      const started = await call(
        d,
        `${api}/system/gc/schedule`,
        'POST',
        JSON.stringify({
          schedule: { type: 'Manual' },
          parameters: { delete_untagged: false, dry_run: false, workers },
        }),
        'application/json',
        [201],
      );
      const id = String(started.headers.location).split('/').pop();
      const finished = (async () => {
        for (;;) {
          const e = JSON.parse((await call(d, `${api}/system/gc/${id}`, 'GET')).text) as {
            job_status: string;
            job_parameters: string;
          };
          if (e.job_status !== 'Pending' && e.job_status !== 'Running') {
            if (e.job_status !== 'Success') throw new Error(`Berth's GC ended ${e.job_status}`);
            return {
              seconds: (performance.now() - t0) / 1000,
              attrs: JSON.parse(e.job_parameters) as Record<string, number>,
              log:
                (await call(d, `${api}/system/gc/${id}/log`, 'GET')).text
                  .split('\n')
                  .find((l) => / done in /.test(l)) ?? '',
            };
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const during = await pushLoad(t, d, seed, finished);
      return { gc: await finished, during };
    });
    opts.log(
      `  Berth GC ${gc.seconds.toFixed(2)} s (run ${(gc.attrs.duration_ms! / 1000).toFixed(2)} s): ${gc.attrs.purged_blobs} blobs, ${gc.attrs.purged_manifests} manifests; pushes during GC ${during.rate.perSecond.toFixed(1)}/s (${during.rate.pushes})\n  its log: ${gc.log}`,
    );
    if (
      gc.attrs.purged_blobs !== c.garbageBlobs + c.garbageManifests ||
      gc.attrs.purged_manifests !== c.garbageManifests
    ) {
      throw new Error(
        `Berth's GC deleted ${gc.attrs.purged_blobs} blobs, expected ${c.garbageBlobs + c.garbageManifests}`,
      );
    }
    const survivors = await phase('pull back what was pushed during GC, and survivors', async () => {
      await pool(8, during.pushed.length, async (i) => void (await pullImage(t, during.pushed[i]!, d)));
      // A sample of the survivors: the last (odd-numbered, so kept) artifact of each project's first repository.
      let n = 0;
      for (const project of projectIds.keys()) {
        const repo = `${project}/app-${[...projectIds.keys()].indexOf(project) * dataSet.reposPerProject}`;
        const tag = `v${dataSet.artifactsPerRepo - 1}`;
        const res = await call(d, `${berth.url}/v2/${repo}/manifests/${tag}`, 'GET');
        const m = JSON.parse(res.text) as { config: { digest: string }; layers: { digest: string }[] };
        for (const b of [m.config, ...m.layers])
          await call(d, `${berth.url}/v2/${repo}/blobs/${b.digest}`, 'GET');
        n++;
      }
      return n;
    });

    const distSeconds = await phase("distribution's garbage-collect", () =>
      distributionGc(distRoot, distDir),
    );
    const blobsLeft = countBlobDirs(distRoot);
    const expectedLeft = c.blobs + c.manifests - c.garbageBlobs - c.garbageManifests;
    opts.log(
      `  distribution garbage-collect ${distSeconds.toFixed(2)} s; ${blobsLeft} blobs left (expected ${expectedLeft})`,
    );
    if (blobsLeft !== expectedLeft)
      throw new Error(`distribution left ${blobsLeft} blobs, expected ${expectedLeft}`);
    await teardown();

    const details: GcBenchResult = {
      dataSet,
      counts: c,
      seedSeconds: { berth: seeded.berthSeconds, distribution: seeded.distributionSeconds },
      phases,
      workers,
      berth: {
        seconds: gc.seconds,
        runSeconds: gc.attrs.duration_ms! / 1000,
        purgedBlobs: gc.attrs.purged_blobs!,
        purgedManifests: gc.attrs.purged_manifests!,
        freedBytes: gc.attrs.freed_space!,
        summary: gc.log,
      },
      distribution: { seconds: distSeconds, blobsLeft },
      pushClients: clients,
      pushesWithoutGc: without.rate,
      pushesDuringGc: during.rate,
      pushedDuringGcVerified: during.pushed.length,
      survivorsVerified: survivors,
    };
    const workload: WorkloadResult = {
      id: 'gc',
      title: `garbage collection, ${c.artifacts.toLocaleString('en-US')} artifacts / ${(c.blobs + c.manifests).toLocaleString('en-US')} blobs, half garbage (Berth online${clients ? ` under ${clients} pushing clients` : ', no other load'}, distribution offline)`,
      main: 's',
      berth: [{ s: gc.seconds }],
      distribution: [{ s: distSeconds }],
    };
    return { workload, details };
  } finally {
    await teardown();
  }
}
