import type { ApiBenchResult } from './api.js';
import type { ProcessPeak } from './berth-process.js';
import type { GcBenchResult } from './gc.js';
import { idleRssTargetBytes, type IdleRssResult } from './idle-rss.js';
import type { RetentionBenchResult } from './retention.js';
import { higherIsBetter, type Metrics } from './workloads.js';
import { MB, median } from './measure.js';
import type { ScanBenchResult } from './scanning.js';
import type { SoakResult } from './soak.js';
import type { ReplicationBenchResult } from './replication.js';
import type { ProxyFloorResult } from './proxy-cache.js';
import type { WebhookBenchResult } from './webhooks.js';
import type { Side, WorkersBenchResult } from './workers.js';

export interface WorkloadResult {
  id: string;
  title: string;
  main: string;
  /** Per round, in the order measured. */
  berth: Metrics[];
  distribution: Metrics[];
}

export interface RunResult {
  startedAt: string;
  seconds: number;
  quick: boolean;
  environment: Record<string, string | number>;
  workloads: WorkloadResult[];
  load: { berth: Metrics; distribution?: Metrics; clients: number; seconds: number };
  rss: {
    blobBytes: number;
    peakBytes: number;
    baselineBytes: number;
    pushMBps: number;
    pullMBps: number;
    samples: number;
  };
  berthPeakRssWholeRun: number;
  /** A fresh Berth serving nothing (bench/idle-rss.ts), when run. */
  idleRss?: IdleRssResult;
  /** Harbor API list timings (bench/api.ts), when run. */
  api?: ApiBenchResult;
  /** Tag retention dry run timing (bench/retention.ts), when run. */
  retention?: RetentionBenchResult;
  /** The built-in scanner: vulnerability database import and a scan (bench/scanning.ts), when run. */
  scanning?: ScanBenchResult;
  /** The proxy-cache row's floor: minimal relays beside Berth's cold pull (bench/proxy-cache.ts), when run. */
  proxyFloor?: ProxyFloorResult;
  /** Replication to distribution beside skopeo (bench/replication.ts), when run. */
  replication?: ReplicationBenchResult;
  /** The 200-client soak with RSS over time (bench/soak.ts), when run. */
  soak?: SoakResult;
  /** Garbage collection against distribution's garbage-collect (bench/gc.ts), when run. */
  gc?: GcBenchResult;
  /** Webhook deliveries beside distribution's notifications (bench/webhooks.ts), when run. */
  webhooks?: WebhookBenchResult;
  /** `serve --workers 2` vs `--workers 1` vs distribution (bench/workers.ts), when run. */
  workers?: WorkersBenchResult;
  /** Every Berth process the run started, with its peak RSS over its whole life. */
  processPeaks?: ProcessPeak[];
}

export interface Row {
  workload: string;
  metric: string;
  berth: number;
  distribution: number;
  ratio: number;
  headline: boolean;
}

/** Each row's and the load run's peak VmRSS per server process, sampled every 100 ms (lower is better). */
export const peakRssMetric = 'peak RSS MiB';

/** Ratio > 1 means Berth is better: berth/dist for throughput, dist/berth for latency and time. */
export function ratioOf(metric: string, berth: number, dist: number): number {
  return higherIsBetter[metric] ? berth / dist : dist / berth;
}

export function rowsOf(results: WorkloadResult[]): Row[] {
  const rows: Row[] = [];
  for (const w of results) {
    const metrics = Object.keys(w.berth[0] ?? {});
    for (const m of metrics) {
      const b = median(w.berth.map((x) => x[m]!));
      const d = median(w.distribution.map((x) => x[m]!));
      rows.push({
        workload: w.title,
        metric: m,
        berth: b,
        distribution: d,
        ratio: ratioOf(m, b, d),
        headline: m === w.main,
      });
    }
  }
  return rows;
}

export function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const mbFmt = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const mibFmt = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function consoleTable(rows: Row[]): string {
  const lines = rows.map(
    (r) =>
      `${(r.workload + ' — ' + r.metric).padEnd(64)} berth ${fmt(r.berth).padStart(9)}  dist ${fmt(r.distribution).padStart(9)}  ratio ${fmt(r.ratio).padStart(5)}${r.headline && r.ratio < 1 ? '  < 1.0' : ''}`,
  );
  return lines.join('\n');
}

/** "3 rounds (blob pull 64 MiB: 12, …)": the common count, and the workloads that differ from it. */
function roundsOf(r: RunResult): string {
  const tally = new Map<number, number>();
  for (const w of r.workloads) tally.set(w.berth.length, (tally.get(w.berth.length) ?? 0) + 1);
  const common = [...tally].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  const others = r.workloads
    .filter((w) => w.berth.length !== common)
    .map((w) => `${w.id}: ${w.berth.length}`);
  return `${common} rounds${others.length ? ` (${others.join(', ')})` : ''}`;
}

export function markdown(r: RunResult, rows: Row[]): string {
  const env = r.environment;
  const out: string[] = [];
  out.push('# Benchmarks: Berth vs CNCF distribution', '');
  out.push(
    'Produced by `npm run bench` (`bench/run.ts`); raw figures of every round are in `bench/results/*.json`',
    '(git-ignored). Re-run on a quiet machine before quoting these numbers.',
    '',
  );
  out.push('## Set-up', '');
  out.push(
    `- Run: ${r.startedAt}, ${r.quick ? '**BENCH_QUICK=1 (smoke sizes)**' : 'full run'}, ${Math.round(r.seconds)} s in all; commit ${env.commit}.`,
    `- Machine: ${env.cpus} × ${env.cpuModel}, ${env.memory}; ${env.os}. **Client and both servers share these ${env.cpus} cores**,`,
    `  so every figure includes the client's own CPU use; the ratios are what this bench is for.`,
    `- Noise: load average ${env.loadBefore} before and ${env.loadAfter} after the run (a load near the core count or`,
    '  above means other work shared the machine, and single figures can be off by tens of per cent).',
    `- Berth: \`node dist/server/main.js serve --host 127.0.0.1 --port P --data <tmp>\` (built JS, ${env.node}, NODE_ENV=production),`,
    '  embedded default: SQLite metadata + filesystem storage in a temp dir, log level `info` (one access-log line per',
    '  request, written to a file).',
    `- distribution: Debian's \`/usr/bin/docker-registry\` (${env.distribution}), generated config: filesystem storage in a temp`,
    "  dir, `delete: enabled: true`, `cache: blobdescriptor: inmemory` (as in Debian's shipped config), no auth, log level",
    '  `info` (access log on, written to a file). Launcher: `test/helpers/docker-registry.ts`.',
    '- Both listen on 127.0.0.1 only; all traffic is loopback. Same client code against both: pushes, manifest',
    "  requests and the load run use the bench's Node client (undici); blob and image pulls use curl",
    `  (${env.curl ?? 'curl'}), a native client like the ones that pull images in practice, because the Node client`,
    "  reads at most about one core's worth and would measure itself instead of the servers (single pulls time",
    '  from connect to last byte as curl reports it; the 32 clients are 32 curl processes, each on one connection).',
    `- Each workload runs ${roundsOf(r)}, alternating which server goes first in each round; the table shows the`,
    '  median of the rounds. Blobs are pseudo-random bytes from a seeded generator, streamed (never a whole blob in memory);',
    '  each push uses fresh blobs so neither server can skip work.',
    '',
  );
  out.push('## Results', '');
  out.push(
    'Ratio > 1.0 means Berth is better: throughput ratio = Berth / distribution; latency and time ratio = distribution / Berth.',
    '',
  );
  out.push('| Workload | Metric | Berth | distribution | Ratio |', '|---|---|---:|---:|---:|');
  for (const row of rows) {
    const ratio = fmt(row.ratio);
    out.push(
      `| ${row.workload} | ${row.metric} | ${fmt(row.berth)} | ${fmt(row.distribution)} | ${row.headline ? `**${ratio}**` : ratio} |`,
    );
  }
  out.push('', `## Load run: ${r.load.clients} concurrent clients, ${r.load.seconds} s`, '');
  out.push(
    'Each client loops over: GET the manifest of `bench/load:v1` by tag, GET one of its blobs (config, 64 KiB, 256 KiB, 1 MiB),',
    'alternately. Errors are failed requests or non-200 answers (target: 0).',
    '',
  );
  out.push(
    '| Server | errors | req/s | p50 ms | p99 ms | MB/s | peak RSS MiB |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  const loadRow = (name: string, m: Metrics | undefined) =>
    m &&
    out.push(
      `| ${name} | ${m.errors} | ${fmt(m['req/s'])} | ${fmt(m['p50 ms'])} | ${fmt(m['p99 ms'])} | ${fmt(m['MB/s'])} | ${fmt(m[peakRssMetric])} |`,
    );
  loadRow('Berth', r.load.berth);
  loadRow('distribution', r.load.distribution);
  if (r.load.distribution) {
    out.push(
      '',
      `Ratios: req/s ${fmt(ratioOf('req/s', r.load.berth['req/s']!, r.load.distribution['req/s']!))}, p99 ${fmt(ratioOf('p99 ms', r.load.berth['p99 ms']!, r.load.distribution['p99 ms']!))}.`,
    );
  }
  out.push('', '## Memory: a large blob through Berth', '');
  out.push(
    `A fresh Berth process received a ${mbFmt(r.rss.blobBytes)} blob (POST + streamed PUT ?digest=) and served it back (GET), while`,
    `its VmRSS was sampled every 100 ms (${r.rss.samples} samples).`,
    '',
    `- Peak RSS: **${mbFmt(r.rss.peakBytes)}** (target < 200 MiB: ${r.rss.peakBytes < 200 * 1024 * 1024 ? 'met' : '**not met**'}); RSS when idle before the push: ${mbFmt(r.rss.baselineBytes)}.`,
    `- Push ${fmt(r.rss.pushMBps)} MB/s, pull ${fmt(r.rss.pullMBps)} MB/s.`,
    `- Peak RSS (VmHWM) of the Berth that served all workloads above: ${mbFmt(r.berthPeakRssWholeRun)}.`,
    '',
  );
  if (r.processPeaks?.length) {
    out.push(
      '## Memory: peak RSS of each Berth process',
      '',
      "Over each process's whole life (VmHWM, start-up and fixtures included), in the order the run stopped them;",
      'target < 200 MiB per process (issue 15).',
      '',
      ...processPeakLines(r.processPeaks).map((line) => `- ${line}`),
      '',
    );
  }
  if (r.idleRss) {
    const i = r.idleRss;
    out.push(
      '## Memory: a fresh Berth serving nothing',
      '',
      `\`node dist/server/main.js serve\` on an empty data folder (bench/idle-rss.ts): **${mbFmt(i.settledBytes)}** once settled (lowest VmRSS over ${i.settleSeconds} s; target < ${mbFmt(idleRssTargetBytes)}: ${i.settledBytes < idleRssTargetBytes ? 'met' : '**not met**'}), ${mbFmt(i.afterStartBytes)} 5 s after start.`,
      '',
    );
  }
  if (r.replication) out.push(...replicationSection(r.replication));
  if (r.api) out.push(...apiSection(r.api));
  if (r.retention) {
    const t = r.retention;
    out.push(
      '## Tag retention',
      '',
      `- Retention dry run over ${t.artifacts} artifacts in one project (seeded in ${fmt(t.seedSeconds)} s): ${fmt(t.dryRunSeconds)} s from the trigger to the end of the execution (target < 5 s); ${t.total - t.retained} would be removed, ${t.retained} retained.`,
      '',
    );
  }
  if (r.scanning) {
    const v = r.scanning;
    out.push(
      '## Built-in scanner',
      '',
      `- \`berth vulndb import\` of ${v.records} generated OSV records (${mbFmt(v.zipBytes)} zip) into SQLite: ${fmt(v.importSeconds)} s (${fmt(v.importCpuSeconds)} CPU s) (target < 60 s).`,
      `- Scan of a Debian bookworm image (${v.packages} packages from this machine's dpkg database) against it: ${fmt(v.scanSeconds)} s whole (${fmt(v.scanCpuSeconds)} CPU s; the first after the import ${fmt(v.firstScanSeconds)} s, ${fmt(v.firstScanCpuSeconds)} CPU s), ${fmt(v.matchSeconds)} s matching alone (median of 5; target < 2 s); ${v.findings} findings. Through the server (\`POST …/scan\` until the overview says Success, report and rows written): ${fmt(v.serverScanSeconds)} s (each server's first: ${v.firstServerScanSeconds.map(fmt).join(' s on the event loop, ')} s in the scan thread).`,
      `- Effect of scanning on concurrent pulls: ${v.pullImpact} (target < 10 %; alternating windows of ${v.pulls.windowSeconds} s).`,
      `- Load average (1 min) at the start and end of these rows: ${fmt(v.load[0])}, ${fmt(v.load[1])}.`,
      '',
    );
  }
  if (r.proxyFloor) out.push(...proxyFloorSection(r.proxyFloor));
  if (r.soak) out.push(...soakSection(r.soak));
  if (r.gc) out.push(...gcSection(r.gc));
  if (r.webhooks) out.push(...webhookSection(r.webhooks));
  if (r.workers) out.push(...workersSection(r.workers));
  return out.join('\n');
}

function workersSection(w: WorkersBenchResult): string[] {
  const pull = (side: keyof WorkersBenchResult['imagePull']) => median(w.imagePull[side]);
  const [p1, p2, pd] = [pull('w1'), pull('w2'), pull('distribution')];
  const rps = (side: keyof WorkersBenchResult['load']) => w.load[side]['req/s']!;
  const p99 = (side: keyof WorkersBenchResult['load']) => w.load[side]['p99 ms']!;
  return [
    '## Every core: `serve --workers 2` vs `--workers 1` vs distribution',
    '',
    'Three servers started side by side (bench/workers.ts): Berth with one process, Berth with a primary and two',
    'HTTP workers on one port (the same embedded SQLite database and blob folder), and distribution. Ratios > 1.0',
    'mean `--workers 2` is better.',
    '',
    '| Workload | --workers 1 | --workers 2 | distribution | 2 vs 1 | 2 vs distribution |',
    '|---|---:|---:|---:|---:|---:|',
    `| ${w.clients} clients pulling a 5-layer image, s (median of ${w.rounds}) | ${fmt(p1)} | ${fmt(p2)} | ${fmt(pd)} | **${fmt(p1 / p2)}** | **${fmt(pd / p2)}** |`,
    `| load run, ${w.loadClients} clients × ${w.loadSeconds} s, req/s | ${fmt(rps('w1'))} | ${fmt(rps('w2'))} | ${fmt(rps('distribution'))} | **${fmt(rps('w2') / rps('w1'))}** | **${fmt(rps('w2') / rps('distribution'))}** |`,
    `| load run, p99 ms | ${fmt(p99('w1'))} | ${fmt(p99('w2'))} | ${fmt(p99('distribution'))} | ${fmt(p99('w1') / p99('w2'))} | ${fmt(p99('distribution') / p99('w2'))} |`,
    `| load run, errors | ${w.load.w1.errors} | ${w.load.w2.errors} | ${w.load.distribution.errors} | | |`,
    '',
    'Peak RSS per process (VmHWM, reset before each measurement; target < 200 MiB per process, issue 15):',
    '',
    ...rssLines(w.rss).map((line) => `- ${line.replace(/^peak RSS /, '')}`),
    '',
  ];
}

function gcSection(g: GcBenchResult): string[] {
  const c = g.counts;
  const n = (x: number) => x.toLocaleString('en-US');
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)} %`;
  const rate = (p: GcBenchResult['pushesWithoutGc']) =>
    `${fmt(p.perSecond)}/s (${p.pushes} in ${fmt(p.seconds)} s, ${p.errors} errors)`;
  return [
    '## Garbage collection: Berth online vs distribution offline',
    '',
    `${n(c.artifacts)} artifacts in ${g.dataSet.projects * g.dataSet.reposPerProject} repositories, each an OCI image over its own config, four layers of its own`,
    `and its repository's base layer (${n(c.blobs)} config and layer blobs of ${g.dataSet.layerBytes} bytes or less, ${n(c.manifests)} manifests), written straight`,
    "into Berth's database and storage and into distribution's filesystem layout (bench/gc-seed.ts). Every artifact was",
    `pushed with a tag; ${n(c.deletedArtifacts)} (${pct(c.deletedArtifacts, c.artifacts)}) were then deleted, which leaves ${n(c.garbageBlobs)} blobs and ${n(c.garbageManifests)} manifests`,
    `(${pct(c.garbageBlobs + c.garbageManifests, c.blobs + c.manifests)} of all) as garbage; the base layers stay referenced.`,
    '',
    `- Berth: **${fmt(g.berth.seconds)} s** from the API call to the execution reading Success (the run's own figure ${fmt(g.berth.runSeconds)} s; target < 60 s), \`workers\` ${g.workers},`,
    `  while ${g.pushClients} clients pushed images (config + a fresh 64 KiB layer + manifest) into the same Berth: ${n(g.berth.purgedBlobs)} blobs deleted of`,
    `  which ${n(g.berth.purgedManifests)} manifests, ${n(g.berth.freedBytes)} bytes.`,
    `- Pushes without GC ${rate(g.pushesWithoutGc)}; during GC ${rate(g.pushesDuringGc)}. Every image pushed during GC (${g.pushedDuringGcVerified}) and ${g.survivorsVerified} surviving seeded images pulled back whole afterwards.`,
    `- distribution: \`docker-registry garbage-collect\` over the same content with no registry serving it (it needs the`,
    `  registry offline or read-only): **${fmt(g.distribution.seconds)} s**, ${n(g.distribution.blobsLeft)} blobs left. Ratio (distribution / Berth) **${fmt(g.distribution.seconds / g.berth.seconds)}**.`,
    `- Seeding took ${fmt(g.seedSeconds.berth)} s for Berth (rows and files) and ${fmt(g.seedSeconds.distribution)} s for distribution's layout.`,
    `- Berth's log: ${g.berth.summary.replace(/^\S+ /, '')}`,
    `- Phases (seconds, 1-minute load average at the end of each): ${g.phases.map((p) => `${p.phase} ${fmt(p.seconds)} (${fmt(p.load)})`).join('; ')}.`,
    '',
  ];
}

function proxyFloorSection(f: ProxyFloorResult): string[] {
  const s = f.seconds;
  return [
    '## Proxy cache: the first pull against the floor',
    '',
    `In each of ${f.rounds} round(s) of the proxy-cache row, after Berth's cold pull and the two direct pulls beside it, the same`,
    "image is pulled through two minimal relays of the bench's (bench/minimal-relay.ts, each a Node process of its own, no",
    "database): one that only forwards the upstream's bytes to the client, and one that also hashes them (SHA-256) and",
    'writes them to a file, as a cache must. Pull / direct pull, medians of the rounds:',
    '',
    '| Pull of the image | s (median) | / direct (median of the rounds) |',
    '|---|---:|---:|',
    `| direct from the upstream (docker-registry) | ${fmt(s.direct)} | 1.00 |`,
    `| Berth, first (cold) pull through the proxy project | ${fmt(s.berth)} | ${fmt(f.berthRatio)} |`,
    `| minimal relay, forward only | ${fmt(s.forward)} | ${fmt(f.forwardRatio)} |`,
    `| minimal relay, hash and store too | ${fmt(s.store)} | ${fmt(f.storeRatio)} |`,
    '',
    "Issue 19's goal is a cold pull ≤ 1.2 × the direct one. Where the relays themselves are over it, no pull-through cache in",
    'Node meets it on this machine: the client, the upstream and the relay share its cores, and the direct pull is the',
    "upstream's `sendfile` alone.",
    '',
  ];
}

function webhookSection(w: WebhookBenchResult): string[] {
  const ms = (l: WebhookBenchResult['berthLatency']) =>
    `p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms, max ${fmt(l.max)} ms`;
  return [
    '## Webhooks: every push delivered to two targets',
    '',
    `${w.pushes} image pushes (a fresh manifest each, over one config and one layer) from ${w.concurrency} clients into a project with`,
    'two webhook policies on PUSH_ARTIFACT (Default payload, each to its own receiver in a process of the bench), beside the',
    'same pushes into a project with no webhook on the same Berth, and into distribution configured with two notification',
    `endpoints. Latency runs from the push's 201 to the receiver reading the event. ${w.rounds} round(s), medians.`,
    '',
    `- Berth with webhooks **${fmt(w.berthWithWebhooks)} pushes/s**, without **${fmt(w.berthWithoutWebhooks)} pushes/s**: ${fmt(w.throughputLossPercent)} % slower with webhooks (target: under 5 %).`,
    `- Berth delivery latency ${ms(w.berthLatency)} (target: p99 under 1 s); delivered ${w.delivered.join(' and ')} of ${w.pushes}.`,
    `- distribution's notifications: ${ms(w.distributionLatency)}; delivered ${w.distributionDelivered.join(' and ')} of ${w.pushes}.`,
    `- The floor: the same pushes into a third project without webhooks, each event POSTed to two receivers by the bench's minimal sender (a process of its own, no database, events batched every 25 ms, 8 requests in flight per target): **${fmt(w.floor.pushesPerSecond)} pushes/s, ${fmt(w.floor.lossPercent)} % slower** than without (sender ${fmt(w.floor.senderCpuMsPerPush)} ms CPU per push; latency ${ms(w.floor.latency)}). What any delivery costs these shared cores, with nothing of Berth's in it: a loss under 5 % for Berth cannot be had where the floor alone is over it.`,
    `- The write alone: a second Berth with \`jobs.workers: 0\` (events written in the pushes' transactions, as the issue asks, and never sent): **${fmt(w.written.withWebhooks)} vs ${fmt(w.written.withoutWebhooks)} pushes/s, ${fmt(w.written.lossPercent)} % slower**. With the floor's ${fmt(w.floor.lossPercent)} % for sending and receiving, the least a delivery that keeps each event with its push can cost these cores is about ${fmt(w.written.lossPercent + w.floor.lossPercent)} %.`,
    '',
  ];
}

function soakSection(s: SoakResult): string[] {
  const over = s.afterBytes - s.baselineBytes;
  return [
    '## Soak: 200 clients, RSS over time',
    '',
    `${s.clients} clients against a fresh Berth for ${s.seconds} s, each op one of: an image push (config, a unique 64 KiB`,
    'layer, manifest), a blob pull, a manifest GET, a Harbor API list. VmRSS every ' +
      `${s.sampleSeconds} s; the clients then disconnect and Berth idles ${s.settleSeconds} s.`,
    '',
    `- **${s.pass ? 'pass' : 'FAIL'}**: RSS ${mbFmt(s.baselineBytes)} before the load, ${mbFmt(s.afterBytes)} ${s.settleSeconds} s after it (${over >= 0 ? '+' : ''}${mbFmt(over)}; allowed +${mbFmt(s.allowanceBytes)}); peak ${mbFmt(s.peakBytes)}.`,
    `- ${s.ops} ops (${s.byKind.push} pushes, ${s.byKind.pull} blob pulls, ${s.byKind.manifest} manifest GETs, ${s.byKind.list} lists), ${s.errors} errors.`,
    `- RSS (MiB) at seconds: ${s.samples.map(([t, b]) => `${t}: ${(b / 2 ** 20).toFixed(0)}`).join(', ')}.`,
    '',
  ];
}

function apiSection(a: ApiBenchResult): string[] {
  const ms = (x: { p50: number; p95: number; max: number }) =>
    `p50 ${fmt(x.p50)} ms, p95 ${fmt(x.p95)} ms, max ${fmt(x.max)} ms`;
  return [
    '## Harbor API lists',
    '',
    `One repository of ${a.artifacts} artifacts (seeded by ${a.artifacts} manifest PUTs in ${fmt(a.seedArtifactsSeconds)} s) and`,
    `${a.projects} projects (${fmt(a.seedProjectsSeconds)} s), listed through /api/v2.0 one request at a time.`,
    '',
    `- Artifact list, every page of ${a.artifactPages.pageSize} (${a.artifactPages.pages} pages, twice, with tags and labels): ${ms(a.artifactPages)}.`,
    `- Artifact list filtered by tag (\`q=tags=~t1\`): ${ms(a.artifactFiltered)}.`,
    `- Project list, every page of ${a.projectPages.pageSize} (${a.projectPages.pages} pages, five times): ${ms(a.projectPages)}.`,
    `- Project list filtered by name, newest first: ${ms(a.projectFiltered)}.`,
    '',
  ];
}

/** The markdown section under the results table. */
function replicationSection(r: ReplicationBenchResult): string[] {
  const berth = median(r.berthMBps);
  const skopeo = median(r.skopeoMBps);
  return [
    '## Replication: Berth → distribution beside skopeo',
    '',
    `An image of ${r.layers} × ${r.layerMiB} MiB layers (random bytes, gzip-stored; ${(r.bytes / MB).toFixed(0)} MB in all) is pushed to the`,
    `benched Berth once. In each of ${r.rounds} round(s) Berth replicates it through its own API (registry endpoint,`,
    'push-based manual policy, execution) to a fresh Debian docker-registry, and skopeo pushes the same image from an',
    'OCI layout on disk to another fresh one (same manifest digest, so no recompression). In the results table the',
    '"Berth" column is the replication rate (the copy task\'s start to end, from its own times) and the "distribution"',
    "column is skopeo's push rate to distribution.",
    '',
    `- Berth replication: **${berth.toFixed(1)} MB/s**; skopeo push: **${skopeo.toFixed(1)} MB/s**; ratio ${(berth / skopeo).toFixed(2)}.`,
    `- Execution wall time (POST /replication/executions until it reads Succeed, job queueing included): median ${median(r.executionSeconds).toFixed(1)} s.`,
    '',
  ];
}

/** One line per process: its peak RSS over the image pull, over the load run, and over its life. */
export function rssLines(rss: WorkersBenchResult['rss']): string[] {
  const names: Record<Side, (i: number) => string> = {
    w1: () => '--workers 1',
    w2: (i) => (i === 0 ? '--workers 2 primary' : `--workers 2 worker ${i}`),
    distribution: () => 'distribution',
  };
  return (Object.keys(names) as Side[]).flatMap((side) =>
    rss.life[side].map(
      (life, i) =>
        `peak RSS ${names[side](i)}: image pull ${mibFmt(rss.imagePull[side][i] ?? 0)}, load run ${mibFmt(rss.load[side][i] ?? 0)}, whole life ${mibFmt(life)}`,
    ),
  );
}

/** One line per Berth process: what it served, its role, and its peak RSS over its whole life. */
export function processPeakLines(peaks: ProcessPeak[]): string[] {
  return peaks.map((p) => `${p.label}, ${p.role} (pid ${p.pid}): ${mibFmt(p.peakBytes)}`);
}
