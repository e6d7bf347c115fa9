/**
 * `npm run bench`: Berth beside Debian's docker-registry (CNCF distribution), measured alternately in
 * one run. Full run ~10 min; BENCH_QUICK=1 ~1 min. Writes bench/results/<time>.json and, for a full run
 * (or BENCH_WRITE_DOCS=1), docs/benchmarks.md.
 *
 * BENCH_ONLY=<regex>   only the workloads whose id matches (ids: push-*, pull-*, manifest-*, image-pull-*,
 *                      load, rss, idle-rss, api-lists, replication, retention, vulndb, soak, gc, proxy-cache, webhooks, workers); BENCH_PROFILE=1 runs Berth with --cpu-prof (profile in bench/results/);
 *                      BENCH_SKIP_BUILD=1 uses dist/ as it is; BENCH_UNBUNDLED=1 runs tsc's dist/src/main.js
 *                      instead of the esbuild bundle dist/server/main.js (profiles then name our source files).
 * BENCH_BERTH_ENV=K=V,... settings for the benched Berths (e.g. BERTH_REGISTRY_PROXY_BACKLOG_MB=512), for A/B runs.
 * BENCH_BERTH_MAIN=<path> the Berth the rows start (e.g. another checkout's dist/server/main.js), for A/B runs of
 *                      the server under this checkout's bench code.
 * BENCH_WEBHOOKS_ROUNDS=<n> rounds of the webhooks row (default 5, quick 1); BENCH_WEBHOOKS_RATE=<pushes/s> paces its
 *                      pushes (A/B of the delivery thread's work per delivery at equal batch sizes on a loaded machine).
 * BENCH_SOAK_SECONDS=<n> the soak's load time (default 300 in a full run, 20 in a quick one): 200 clients
 *                      mixing pushes, pulls and API lists against a fresh Berth, RSS every 10 s.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { dockerRegistryBinary, startDockerRegistry } from '../test/helpers/docker-registry.js';
import { apiBench, type ApiBenchResult } from './api.js';
import {
  authedAgent,
  lifetimePeakOf,
  processPeaks,
  rssOf,
  sampleRss,
  startBerthProcess,
} from './berth-process.js';
import { pullBlob, pushMonolithic, type Target } from './client.js';
import { curlBinary, requireCurl } from './curl.js';
import { gcBench, type GcBenchResult } from './gc.js';
import { idleRss, type IdleRssResult } from './idle-rss.js';
import { blob } from './data.js';
import { timed, MB } from './measure.js';
import { proxyCacheBench, type ProxyFloorResult } from './proxy-cache.js';
import { replicationBench, type ReplicationBenchResult } from './replication.js';
import { retentionBench, type RetentionBenchResult } from './retention.js';
import { scanBench, type ScanBenchResult } from './scanning.js';
import { soak, type SoakResult } from './soak.js';
import { webhookBench, type WebhookBenchResult } from './webhooks.js';
import { workersBench, type WorkersBenchResult } from './workers.js';
import {
  consoleTable,
  markdown,
  peakRssMetric,
  processPeakLines,
  rowsOf,
  type RunResult,
  type WorkloadResult,
} from './report.js';
import { loadRun, prepare, profileOf, workloads, type Fixtures, type Metrics } from './workloads.js';

const root = resolve(import.meta.dirname, '..');
const quick = process.env.BENCH_QUICK === '1';
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const wanted = (id: string) => !only || only.test(id);
const profile = profileOf(quick);
const resultsDir = join(root, 'bench/results');
const notesMarker = '<!-- Notes below this line are written by hand; bench/run.ts keeps them. -->';
const log = (s: string) => process.stdout.write(`${s}\n`);

// Hard bound on the whole run: a hung server must not hang the bench.
const watchdog = setTimeout(
  () => {
    process.stderr.write('bench: time limit reached, giving up\n');
    process.exit(2);
  },
  (quick ? 6 : 25) * 60_000,
);
watchdog.unref();

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return 'unknown';
  }
}

function environment(): Record<string, string | number> {
  const dirty = sh('git', ['status', '--porcelain', 'src']) !== '';
  return {
    commit: `${sh('git', ['rev-parse', '--short', 'HEAD'])}${dirty ? ' (src modified)' : ''}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
    os: `${os.type()} ${os.release()}`,
    node: `Node ${process.version}`,
    distribution: sh(dockerRegistryBinary, ['--version']),
    curl: sh(curlBinary, ['--version']).split('\n')[0] ?? 'unknown',
    loadBefore: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' / '),
  };
}

async function rssCheck(): Promise<RunResult['rss']> {
  const berth = await startBerthProcess({ label: 'rss (a large blob)' });
  const t: Target = { name: 'berth', url: berth.url, pid: berth.pid };
  const d = authedAgent({ connections: 1, headersTimeout: 120_000, bodyTimeout: 120_000 });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const baselineBytes = rssOf(berth.pid);
    const big = blob(77, profile.rssBlob);
    const sampler = sampleRss(berth.pid, 100);
    const pushS = await timed(() => pushMonolithic(t, 'bench/rss', big, d));
    const pullS = await timed(() => pullBlob(t, 'bench/rss', big.digest, d));
    const { peak, samples } = sampler.stop();
    return {
      blobBytes: big.size,
      peakBytes: peak,
      baselineBytes,
      pushMBps: big.size / MB / pushS,
      pullMBps: big.size / MB / pullS,
      samples,
    };
  } finally {
    await d.close();
    await berth.stop();
  }
}

async function main() {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  if (!existsSync(dockerRegistryBinary)) {
    throw new Error(`${dockerRegistryBinary} not found: install Debian's docker-registry package to compare`);
  }
  if (
    /pull/.test(
      workloads(profile)
        .map((w) => w.id)
        .filter(wanted)
        .join(' '),
    )
  )
    requireCurl();
  if (wanted('replication') && sh('skopeo', ['--version']) === 'unknown') {
    throw new Error(
      'skopeo not found: the replication workload compares with a skopeo push (apt-get install skopeo)',
    );
  }
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    log('building Berth (tsc -p tsconfig.build.json, then scripts/bundle.mjs) …');
    const b = spawnSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    if (b.status !== 0) throw new Error('build failed');
    const bundle = spawnSync(process.execPath, [join(root, 'scripts/bundle.mjs')], {
      cwd: root,
      stdio: 'inherit',
    });
    if (bundle.status !== 0) throw new Error('bundle failed');
  }
  mkdirSync(resultsDir, { recursive: true });
  const env = environment();
  log(`${quick ? 'QUICK' : 'FULL'} run on ${env.cpus} × ${env.cpuModel}; load ${env.loadBefore}`);

  const profDir = process.env.BENCH_PROFILE === '1' ? join(resultsDir, `prof-${Date.now()}`) : undefined;
  const berth = await startBerthProcess({
    label: 'rows and load run',
    ...(profDir ? { cpuProfDir: profDir } : {}),
  });
  const dist = await startDockerRegistry();
  const targets: Target[] = [
    { name: 'berth', url: berth.url, pid: berth.pid },
    { name: 'distribution', url: dist.url, pid: dist.pid },
  ];
  const results: WorkloadResult[] = [];
  const load: RunResult['load'] = { berth: {}, clients: profile.loadClients, seconds: profile.loadSeconds };
  let berthPeakRssWholeRun = 0;
  let api: ApiBenchResult | undefined;
  let replication: ReplicationBenchResult | undefined;
  let proxyFloor: ProxyFloorResult | undefined;
  let retention: RetentionBenchResult | undefined;
  let scanning: ScanBenchResult | undefined;
  try {
    log(
      `berth ${berth.url} (pid ${berth.pid}), distribution ${dist.url} (pid ${dist.pid}); preparing fixtures …`,
    );
    const fixtures = new Map<string, Fixtures>();
    if (wanted('load') || workloads(profile).some((w) => wanted(w.id))) {
      for (const t of targets) fixtures.set(t.name, await prepare(t, profile));
    }

    for (const w of workloads(profile)) {
      if (!wanted(w.id)) continue;
      const res: WorkloadResult = { id: w.id, title: w.title, main: w.main, berth: [], distribution: [] };
      for (let round = 0; round < (w.rounds ?? profile.rounds); round++) {
        // Alternate who goes first, so warm caches and background noise do not favour one side.
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          // Each server's peak VmRSS while it served this row (issue 15: < 200 MiB per process).
          const sampler = sampleRss(t.pid, 100);
          const m: Metrics = await w.measure(t, fixtures.get(t.name)!).catch((e: unknown) => {
            sampler.stop();
            throw new Error(`${w.id} against ${t.name} (round ${round + 1}) failed`, { cause: e });
          });
          m[peakRssMetric] = sampler.stop().peak / 2 ** 20;
          res[t.name].push(m);
        }
      }
      results.push(res);
      log(consoleTable(rowsOf([res])));
    }

    if (wanted('load')) {
      for (const t of targets) {
        log(`load run: ${profile.loadClients} clients for ${profile.loadSeconds} s against ${t.name} …`);
        const sampler = sampleRss(t.pid, 100);
        load[t.name] = await loadRun(t, fixtures.get(t.name)!, profile.loadClients, profile.loadSeconds);
        load[t.name]![peakRssMetric] = sampler.stop().peak / 2 ** 20;
        log(`  ${JSON.stringify(load[t.name])}`);
      }
    }
    if (wanted('api-lists')) {
      const sizes = quick ? { artifacts: 2_000, projects: 200 } : { artifacts: 10_000, projects: 1_000 };
      log(`API lists: ${sizes.artifacts} artifacts in one repository, ${sizes.projects} projects …`);
      api = await apiBench(berth.url, sizes);
      log(`  ${JSON.stringify(api)}`);
    }
    if (wanted('replication')) {
      log('replication: Berth → distribution beside a skopeo push of the same image …');
      const r = await replicationBench(berth.url, { quick, log });
      replication = r.details;
      results.push(r.workload);
      log(consoleTable(rowsOf([r.workload])));
    }
    if (wanted('proxy-cache')) {
      log('proxy cache: cold pull vs direct from docker-registry, cached pull vs a normal project …');
      const { rows, floor } = await proxyCacheBench(berth.url, { quick, log, pid: berth.pid });
      proxyFloor = floor;
      results.push(...rows);
      log(consoleTable(rowsOf(rows)));
    }
    if (wanted('retention')) {
      const artifacts = quick ? 2_000 : 10_000;
      log(`retention dry run over ${artifacts} artifacts in one project …`);
      retention = await retentionBench(berth.url, { artifacts });
      log(`  ${JSON.stringify(retention)}`);
    }
    if (wanted('vulndb')) {
      log(
        'vulnerability database: import 100 000 OSV records, scan a Debian bookworm image, pulls with and without a scan …',
      );
      scanning = await scanBench({ records: 100_000, quick, log });
      log(`  ${JSON.stringify(scanning)}`);
    }
    berthPeakRssWholeRun = lifetimePeakOf(berth.pid);
  } finally {
    await berth.stop();
    await dist.stop();
  }

  let rss: RunResult['rss'] = {
    blobBytes: 0,
    peakBytes: 0,
    baselineBytes: 0,
    pushMBps: 0,
    pullMBps: 0,
    samples: 0,
  };
  if (wanted('rss')) {
    log(`RSS check: ${profile.rssBlob / 2 ** 20} MiB blob through a fresh Berth …`);
    rss = await rssCheck();
    log(
      `  peak RSS ${(rss.peakBytes / 2 ** 20).toFixed(0)} MiB (baseline ${(rss.baselineBytes / 2 ** 20).toFixed(0)} MiB)`,
    );
  }
  let idle: IdleRssResult | undefined;
  if (wanted('idle-rss')) {
    log('idle RSS: a fresh Berth serving nothing, read 5 s after start and settled over 30 s …');
    idle = await idleRss();
    log(
      `  ${(idle.afterStartBytes / 2 ** 20).toFixed(1)} MiB, settled ${(idle.settledBytes / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  let gc: GcBenchResult | undefined;
  if (wanted('gc')) {
    log('garbage collection: Berth online under pushes vs docker-registry garbage-collect offline …');
    const r = await gcBench({ quick, log, ...(profDir ? { cpuProfDir: join(profDir, 'gc') } : {}) });
    gc = r.details;
    results.push(r.workload);
    log(consoleTable(rowsOf([r.workload])));
  }
  let webhooks: WebhookBenchResult | undefined;
  if (wanted('webhooks')) {
    log(
      'webhooks: pushes into a project with two webhook targets vs distribution with two notification endpoints …',
    );
    const r = await webhookBench({
      quick,
      log,
      ...(profDir ? { cpuProfDir: join(profDir, 'webhooks') } : {}),
    });
    webhooks = r.details;
    results.push(r.workload);
    log(consoleTable(rowsOf([r.workload])));
    log(`  ${JSON.stringify(webhooks)}`);
  }
  let workers: WorkersBenchResult | undefined;
  if (wanted('workers')) {
    log('workers: the 32-client image pull and the load run, --workers 2 vs --workers 1 vs distribution …');
    const r = await workersBench(profile, log);
    workers = r.details;
    results.push(...r.workloads);
    log(consoleTable(rowsOf(r.workloads)));
  }
  let soakResult: SoakResult | undefined;
  if (wanted('soak')) {
    const seconds = Number(process.env.BENCH_SOAK_SECONDS ?? (quick ? 20 : 300));
    log(`soak: 200 clients for ${seconds} s (pushes, pulls, manifests, API lists) against a fresh Berth …`);
    soakResult = await soak({ clients: 200, seconds, log });
    log(`  ${JSON.stringify({ ...soakResult, samples: undefined })}`);
  }

  env.loadAfter = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');
  const run: RunResult = {
    startedAt,
    seconds: (performance.now() - started) / 1000,
    quick,
    environment: env,
    workloads: results,
    load: load,
    rss,
    berthPeakRssWholeRun,
    ...(idle ? { idleRss: idle } : {}),
    ...(api ? { api } : {}),
    ...(replication ? { replication } : {}),
    ...(proxyFloor ? { proxyFloor } : {}),
    ...(retention ? { retention } : {}),
    ...(scanning ? { scanning } : {}),
    ...(soakResult ? { soak: soakResult } : {}),
    ...(gc ? { gc } : {}),
    ...(webhooks ? { webhooks } : {}),
    ...(workers ? { workers } : {}),
    processPeaks,
  };
  const rows = rowsOf(results);
  const stamp = startedAt.replace(/[:.]/g, '-');
  const jsonFile = join(resultsDir, `${stamp}${quick ? '-quick' : ''}.json`);
  writeFileSync(jsonFile, JSON.stringify({ ...run, rows }, null, 2));
  log('\n' + consoleTable(rows));
  log('\npeak RSS of each Berth process over its whole life:');
  for (const line of processPeakLines(processPeaks)) log(`  ${line}`);
  log(`\nraw results: ${jsonFile}`);
  if (profDir)
    log(
      `CPU profile of Berth: ${profDir} (summarise with: node --import tsx bench/profile-top.ts ${profDir})`,
    );
  if ((!quick && !only) || process.env.BENCH_WRITE_DOCS === '1') {
    mkdirSync(join(root, 'docs'), { recursive: true });
    const docFile = join(root, 'docs/benchmarks.md');
    // Notes written by hand below the marker survive a re-run; the figures above it are regenerated.
    const old = existsSync(docFile) ? readFileSync(docFile, 'utf8') : '';
    const at = old.indexOf(notesMarker);
    const notes = at >= 0 ? old.slice(at) : `${notesMarker}\n`;
    writeFileSync(docFile, `${markdown(run, rows)}\n${notes}`);
    log('wrote docs/benchmarks.md');
  }
  log(`done in ${run.seconds.toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    const cause =
      e instanceof Error && e.cause
        ? `\ncaused by: ${String(e.cause instanceof Error ? e.cause.stack : e.cause)}`
        : '';
    process.stderr.write(
      `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}${cause}\n`,
    );
    process.exit(1);
  },
);
