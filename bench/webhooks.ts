/**
 * Webhooks (issue 18), one row of `npm run bench` (BENCH_ONLY=webhooks runs it alone): 1,000 image pushes
 * into a project with two webhook targets (two policies on PUSH_ARTIFACT, Default payloads), each push
 * a fresh manifest over one config and one layer. Reports the pushes' throughput, beside the same pushes
 * into a project with no webhook on the same Berth, and each delivery's latency: from the push's 201 to
 * the receiver reading the event. Distribution runs the same pushes with two notification endpoints
 * (its own `notifications:` config), so the "distribution" column is the same work on the reference
 * registry. Every event must arrive at both targets (a missing one fails the row). The receivers of both
 * run in a child process (bench/webhook-receivers.ts), not beside the pushing client. A warm-up of 200
 * pushes per side is not counted; then 5 rounds (1 in a quick run), each side's figure their median.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { startDockerRegistry } from '../test/helpers/docker-registry.js';
import {
  authedAgent,
  benchApi,
  cpuMsOf,
  ioCountsOf,
  mainThreadCpuMsOf,
  runQueueMsOf,
  startBerthProcess,
  threadCpuMsOf,
  workCounters,
  type WorkCounter,
} from './berth-process.js';
import { ask, forkBenchScript, stopBenchScript } from './children.js';
import { imageManifest, pushBytes, pushMonolithic, putManifest, type Target } from './client.js';
import { blob, configJson, sha256 } from './data.js';
import { Latencies, median } from './measure.js';
import type { WorkloadResult } from './report.js';
import type { PayloadShape } from './webhook-receivers.js';
import type { SentEvent } from './webhook-sender.js';

export interface WebhookBenchResult {
  pushes: number;
  concurrency: number;
  rounds: number;
  /** Berth's pushes per second into the project with webhooks, and into the one without (medians). */
  berthWithWebhooks: number;
  berthWithoutWebhooks: number;
  /** Berth with webhooks / without, as a percentage loss (target: under 5 %). */
  throughputLossPercent: number;
  /**
   * The floor: pushes into a project without webhooks on the same Berth while the bench's minimal sender
   * (bench/webhook-sender.ts: a process of its own, no database, batches every 25 ms, 8 requests in flight
   * per target) POSTs each event to two receivers of its own: pushes per second (median), their loss
   * against the side without webhooks, the sender's CPU per push and the delivery latency. What any
   * delivery costs two shared cores, with nothing of Berth's delivery in it.
   */
  floor: {
    pushesPerSecond: number;
    lossPercent: number;
    senderCpuMsPerPush: number;
    latency: { p50: number; p99: number; max: number };
  };
  /**
   * What the issue's transactional write costs alone: a second Berth with `jobs.workers: 0` (no delivery
   * thread, no job worker; the events are written in the pushes' transactions and never sent), the same
   * pushes into a project with the same two policies and into one without (medians), and the loss. The
   * floor above plus this is the least a delivery that keeps the event with its push can cost here.
   */
  written: { withWebhooks: number; withoutWebhooks: number; lossPercent: number };
  /**
   * Berth's CPU time per push (medians over rounds, ms), into the project with webhooks (its deliveries
   * included: from the first push to the last event received) and into the one without: the work the
   * webhooks add, which wall-clock throughput shows only through the noise of a loaded machine.
   */
  berthCpuMsPerPush: { withWebhooks: number; withoutWebhooks: number; addedPercent: number };
  /**
   * The serving thread's statements, read-cache misses and drops, and waits for SQLite's write lock (count
   * and ms) per push (last round), with webhooks and without: the work counted rather than timed.
   */
  perPush: { withWebhooks: Record<string, number>; withoutWebhooks: Record<string, number> };
  /**
   * CPU ms per push of the bench's own parties on the same cores: the receivers' process (two targets;
   * hooked rounds, medians) and the pushing client (with and without webhooks, medians; its polls of the
   * receivers included). What the machine has left for Berth's deliveries.
   */
  receiversCpuMsPerPush: number;
  /** The same, up to the round's last push (what they took from the pushes while these ran). */
  receiversCpuMsPerPushWhilePushing: number;
  clientCpuMsPerPush: { withWebhooks: number; withoutWebhooks: number };
  /** The same, of Berth's main thread alone (the event loop that serves the pushes). */
  servingThreadCpuMsPerPush: { withWebhooks: number; withoutWebhooks: number; addedPercent: number };
  /**
   * The serving thread's time runnable but waiting for a CPU, per push, while the pushes ran (medians,
   * ms; Linux schedstat): the CPU other threads and processes took from it, with webhooks and without.
   */
  servingThreadRunQueueMsPerPush: { withWebhooks: number; withoutWebhooks: number };
  /**
   * The delivery thread's CPU per delivery (hooked rounds, medians, ms): the busiest thread beside the
   * main one over the round (Node's threads have no names); `otherThreadsMsPerPush` is the rest beside
   * it and the main thread (V8's compiler and GC helpers, libuv's pool).
   */
  deliveryThreadCpuMsPerDelivery: number;
  otherThreadsCpuMsPerPush: { withWebhooks: number; withoutWebhooks: number };
  /**
   * Berth's read- and write-class system calls and bytes written (files and sockets) per push, with
   * webhooks (deliveries included) and without (medians): /proc/<pid>/io, counts the load does not change.
   */
  ioPerPush: { withWebhooks: Record<string, number>; withoutWebhooks: Record<string, number> };
  /** Delivery latency over both targets and every round, ms. */
  berthLatency: { p50: number; p99: number; max: number };
  distributionLatency: { p50: number; p99: number; max: number };
  /** Events received per target in the last round (must equal `pushes`). */
  delivered: number[];
  distributionDelivered: number[];
}

/** A process of the bench's (receivers, sender) over an IPC channel: its CPU is spent on Berth's cores. */
abstract class BenchChild {
  protected constructor(protected readonly child: ChildProcess) {}

  get pid(): number {
    return this.child.pid ?? 0;
  }

  close(): Promise<void> {
    return stopBenchScript(this.child);
  }
}

/**
 * The receivers, in a child process (bench/webhook-receivers.ts): Berth's two targets and distribution's
 * two endpoints, so receiving does not compete with the pushing client for the bench's CPU.
 */
class Receivers extends BenchChild {
  private constructor(
    child: ChildProcess,
    readonly urls: string[],
  ) {
    super(child);
  }

  static async start(shapes: PayloadShape[]): Promise<Receivers> {
    const child = forkBenchScript('webhook-receivers.ts');
    const { urls } = await Receivers.ask<{ urls: string[] }>(child, { start: shapes });
    return new Receivers(child, urls);
  }

  private static ask<T>(child: ChildProcess, message: object): Promise<T> {
    return ask<T>(child, message, 'the webhook receivers');
  }

  /** Distinct digests each receiver got since the last `take`. */
  async counts(): Promise<number[]> {
    return (await Receivers.ask<{ counts: number[] }>(this.child, { count: true })).counts;
  }

  /** Each receiver's arrivals (digest → epoch ms) since the last `take`, forgotten by the receivers. */
  async take(): Promise<Map<string, number>[]> {
    const { arrivals } = await Receivers.ask<{ arrivals: [string, number][][] }>(this.child, { take: true });
    return arrivals.map((a) => new Map(a));
  }
}

/**
 * The floor's sender (bench/webhook-sender.ts), a process of its own as Berth's delivery thread is a thread
 * of its own: the pushes' events reach it in batches every 25 ms, as the delivery thread looks for new
 * events every 25 ms.
 */
class Sender extends BenchChild {
  private pending: SentEvent[] = [];
  private timer: NodeJS.Timeout | undefined;

  static async start(targets: string[]): Promise<Sender> {
    const child = forkBenchScript('webhook-sender.ts');
    await ask(child, { targets }, 'the webhook sender');
    return new Sender(child);
  }

  readonly send = (event: SentEvent): void => {
    this.pending.push(event);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const events = this.pending;
      this.pending = [];
      this.child.send({ events });
    }, 25);
  };

  override async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await super.close();
  }
}

/** Epoch milliseconds with performance.now()'s resolution: comparable with the receivers' process. */
const epochMs = () => performance.timeOrigin + performance.now();

/**
 * Pushes `count` images into `repo` from `concurrency` loops: the config and layer once, then a fresh
 * manifest per push (an annotation makes each digest unique). Returns pushes/s and each digest's 201 time.
 */
async function pushMany(
  t: Target,
  repo: string,
  count: number,
  concurrency: number,
  seed: number,
  d: Dispatcher,
  onPushed?: (event: SentEvent) => void,
): Promise<{ perSecond: number; done: Map<string, number> }> {
  const config = configJson(seed);
  const layer = blob(seed, 4096);
  const configDigest = await pushBytes(t, repo, config, d);
  await pushMonolithic(t, repo, layer, d);
  const done = new Map<string, number>();
  let next = 0;
  const start = performance.now();
  // BENCH_WEBHOOKS_RATE=<pushes/s>: push i starts no sooner than i / rate s after the first, so that A/B
  // runs on a loaded machine compare the delivery thread's work per delivery at the same batch sizes.
  const rate = Number(process.env.BENCH_WEBHOOKS_RATE ?? 0);
  const loop = async () => {
    for (let i = next++; i < count; i = next++) {
      const due = rate > 0 ? start + (1000 * i) / rate - performance.now() : 0;
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      const manifest = imageManifest(configDigest, config.length, [layer], { 'bench.push': `${seed}-${i}` });
      await putManifest(t, repo, `t${i}`, manifest, d);
      const digest = sha256(manifest);
      done.set(digest, epochMs());
      onPushed?.([repo, `t${i}`, digest]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { perSecond: count / ((performance.now() - start) / 1000), done };
}

/**
 * Waits until every pushed digest reached the receivers `which` (or `timeoutMs`); each delivery's latency
 * in ms. Each round pushes fresh digests, so a count of `done.size` means all of them arrived.
 */
async function collect(
  done: Map<string, number>,
  rx: Receivers,
  which: number[],
  timeoutMs: number,
): Promise<{ delivered: number[]; latencies: number[] }> {
  const deadline = performance.now() + timeoutMs;
  const complete = async () => {
    const counts = await rx.counts();
    return which.every((i) => counts[i]! >= done.size);
  };
  while (!(await complete()) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const all = await rx.take();
  const latencies: number[] = [];
  const delivered: number[] = [];
  for (const i of which) {
    const arrivals = all[i]!;
    let n = 0;
    for (const [digest, pushedAt] of done) {
      const at = arrivals.get(digest);
      if (at === undefined) continue;
      n++;
      latencies.push(Math.max(0, at - pushedAt));
    }
    delivered.push(n);
  }
  return { delivered, latencies };
}

/** One round's figures, and its latencies added to the run's. */
function figures(perSecond: number, latencies: number[], all: Latencies): Record<string, number> {
  const round = new Latencies(latencies.length);
  for (const ms of latencies) {
    round.add(ms);
    all.add(ms);
  }
  return { 'req/s': perSecond, 'p50 ms': round.percentile(50), 'p99 ms': round.percentile(99) };
}

/** Each key's median over the rounds. */
function medianOf(rounds: Record<string, number>[]): Record<string, number> {
  const keys = Object.keys(rounds[0] ?? {});
  return Object.fromEntries(keys.map((k) => [k, median(rounds.map((r) => r[k]!))]));
}

const summary = (l: Latencies) => ({ p50: l.percentile(50), p99: l.percentile(99), max: l.percentile(100) });

export async function webhookBench(options: {
  quick: boolean;
  log: (s: string) => void;
  cpuProfDir?: string;
}): Promise<{ workload: WorkloadResult; details: WebhookBenchResult }> {
  const pushes = options.quick ? 200 : 1_000;
  // BENCH_WEBHOOKS_ROUNDS: more rounds in a quick run, to read figures past the delivery thread's start.
  const rounds = Number(process.env.BENCH_WEBHOOKS_ROUNDS ?? (options.quick ? 1 : 5));
  const concurrency = 8;
  const rx = await Receivers.start(['harbor', 'harbor', 'distribution', 'distribution', 'harbor', 'harbor']);
  const berthUrls = rx.urls.slice(0, 2);
  const distUrls = rx.urls.slice(2, 4);
  const sender = await Sender.start(rx.urls.slice(4).map((url) => `${url}/hook`));
  const berthProc = await startBerthProcess({
    label: 'webhooks',
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
  });
  // Events written in the pushes' transactions and never delivered: what the write alone costs.
  const writtenProc = await startBerthProcess({
    label: 'webhooks-written',
    env: { BERTH_JOBS_WORKERS: '0' },
  });
  const dist = await startDockerRegistry({
    logLevel: 'error',
    extraConfig: [
      'notifications:',
      '  endpoints:',
      ...distUrls.flatMap((url, i) => [
        `    - name: bench${i}`,
        `      url: ${url}/events`,
        '      timeout: 5s',
        '      threshold: 5',
        '      backoff: 1s',
      ]),
    ],
  });
  const d = authedAgent({ connections: concurrency, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const berth: Target = { name: 'berth', url: berthProc.url, pid: berthProc.pid };
  const distribution: Target = { name: 'distribution', url: dist.url, pid: dist.pid };
  const written: Target = { name: 'berth', url: writtenProc.url, pid: writtenProc.pid };
  const workload: WorkloadResult = {
    id: 'webhooks',
    title: `webhooks: ${pushes} pushes, 2 targets, concurrency ${concurrency}`,
    main: 'req/s',
    berth: [],
    distribution: [],
  };
  const berthLat = new Latencies(2 * pushes * rounds);
  const distLat = new Latencies(2 * pushes * rounds);
  const without: number[] = [];
  // The floor: pushes into a project without webhooks, each event sent by the bench's minimal sender.
  const floor: number[] = [];
  const floorLat = new Latencies(2 * pushes * rounds);
  const senderMs: number[] = [];
  const writtenWith: number[] = [];
  const writtenWithout: number[] = [];
  let floorDelivered: number[] = [];
  const cpuWith: number[] = [];
  const cpuWithout: number[] = [];
  // What the machine's other parties spend per push: the receivers (hooked rounds) and the pushing client.
  const receiversMs: number[] = [];
  const receiversPushingMs: number[] = [];
  const clientWith: number[] = [];
  const clientWithout: number[] = [];
  const clientMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const queuedWith: number[] = [];
  const queuedWithout: number[] = [];
  const mainWith: number[] = [];
  const mainWithout: number[] = [];
  const threadMs: number[] = [];
  const otherMs: number[] = [];
  const otherMsWithout: number[] = [];
  const ioWith: Record<string, number>[] = [];
  const ioWithout: Record<string, number>[] = [];
  // The process's calls, and the serving thread's own (its task's io file).
  const ioNow = () => ({ all: ioCountsOf(berthProc.pid), main: ioCountsOf(berthProc.pid, berthProc.pid) });
  const ioDelta = (a: ReturnType<typeof ioNow>) => {
    const b = ioNow();
    return {
      reads: (b.all.reads - a.all.reads) / pushes,
      writes: (b.all.writes - a.all.writes) / pushes,
      writtenBytes: (b.all.writtenBytes - a.all.writtenBytes) / pushes,
      servingThreadReads: (b.main.reads - a.main.reads) / pushes,
      servingThreadWrites: (b.main.writes - a.main.writes) / pushes,
    };
  };
  const perPush: WebhookBenchResult['perPush'] = { withWebhooks: {}, withoutWebhooks: {} };
  const counted = async (c0: Record<WorkCounter, number>) => {
    const c1 = await workCounters(berth.url);
    const keys = Object.keys(c0) as WorkCounter[];
    return Object.fromEntries(keys.map((k) => [k, (c1[k] - c0[k]) / pushes]));
  };
  let delivered: number[] = [];
  let distributionDelivered: number[] = [];
  try {
    await benchApi(berth.url, 'POST', '/projects', { project_name: 'floor' });
    for (const target of [berth, written]) {
      await benchApi(target.url, 'POST', '/projects', { project_name: 'hooked' });
      await benchApi(target.url, 'POST', '/projects', { project_name: 'plain' });
      for (const [i, url] of berthUrls.entries())
        await benchApi(target.url, 'POST', '/projects/hooked/webhook/policies', {
          name: `bench${i}`,
          enabled: true,
          event_types: ['PUSH_ARTIFACT'],
          targets: [{ type: 'http', address: `${url}/hook`, payload_format: 'Default' }],
        });
    }
    // A round that is not counted: the delivery thread starts at the first delivery, and each side's
    // first pushes pay for compiling their code paths; without it round 1 of each side ran slower than
    // the rounds after it (385 against 682 pushes/s on a quiet machine) and the medians took that in.
    const warmUp = Math.min(200, pushes);
    await pushMany(berth, 'plain/warm', warmUp, concurrency, 6999, d);
    await collect(
      (await pushMany(berth, 'floor/warm', warmUp, concurrency, 4999, d, sender.send)).done,
      rx,
      [4, 5],
      60_000,
    );
    await collect(
      (await pushMany(berth, 'hooked/warm', warmUp, concurrency, 5999, d)).done,
      rx,
      [0, 1],
      60_000,
    );
    await pushMany(written, 'plain/warm', warmUp, concurrency, 6999, d);
    await pushMany(written, 'hooked/warm', warmUp, concurrency, 5999, d);
    await collect(
      (await pushMany(distribution, 'bench/warm', warmUp, concurrency, 6999, d)).done,
      rx,
      [2, 3],
      60_000,
    );
    for (let round = 0; round < rounds; round++) {
      // Each side pushes manifests of its own: with one seed for both, the side that came second in a round
      // PUT manifests Berth already held (in another repository), a different path (one more statement per
      // push). Rounds alternate the order, so with 5 rounds the side without webhooks came first three
      // times and the median loss read high (and, in the other order, low: -12 to +7 %, against 25-43 %).
      const seed = 7000 + round;
      const hookedSeed = 8000 + round;
      // Alternate which goes first so neither side always meets a warm or a busy machine.
      const floorSeed = 9000 + round;
      const order =
        round % 2 === 0
          ? ['plain', 'floor', 'hooked', 'dist', 'written-plain', 'written-hooked']
          : ['written-hooked', 'written-plain', 'dist', 'hooked', 'floor', 'plain'];
      for (const which of order) {
        const cpu0 = cpuMsOf(berthProc.pid);
        const rx0 = cpuMsOf(rx.pid);
        const client0 = clientMs();
        const main0 = mainThreadCpuMsOf(berthProc.pid);
        const queued0 = runQueueMsOf(berthProc.pid);
        const threads0 = threadCpuMsOf(berthProc.pid);
        const io0 = ioNow();
        const work0 = await workCounters(berth.url);
        if (which === 'plain') {
          const r = await pushMany(berth, `plain/r${round}`, pushes, concurrency, seed, d);
          queuedWithout.push((runQueueMsOf(berthProc.pid) - queued0) / pushes);
          without.push(r.perSecond);
          cpuWithout.push((cpuMsOf(berthProc.pid) - cpu0) / pushes);
          clientWithout.push((clientMs() - client0) / pushes);
          mainWithout.push((mainThreadCpuMsOf(berthProc.pid) - main0) / pushes);
          ioWithout.push(ioDelta(io0));
          const idle = [...threadCpuMsOf(berthProc.pid)]
            .filter(([tid]) => tid !== berthProc.pid)
            .reduce((n, [tid, ms]) => n + ms - (threads0.get(tid) ?? 0), 0);
          otherMsWithout.push(idle / pushes);
          perPush.withoutWebhooks = await counted(work0);
        } else if (which === 'written-plain' || which === 'written-hooked') {
          const project = which === 'written-plain' ? 'plain' : 'hooked';
          const own = which === 'written-plain' ? seed : hookedSeed;
          const r = await pushMany(written, `${project}/r${round}`, pushes, concurrency, own, d);
          (which === 'written-plain' ? writtenWithout : writtenWith).push(r.perSecond);
        } else if (which === 'floor') {
          const sender0 = cpuMsOf(sender.pid);
          const r = await pushMany(berth, `floor/r${round}`, pushes, concurrency, floorSeed, d, sender.send);
          const c = await collect(r.done, rx, [4, 5], 60_000);
          floor.push(r.perSecond);
          senderMs.push((cpuMsOf(sender.pid) - sender0) / pushes);
          floorDelivered = c.delivered;
          for (const ms of c.latencies) floorLat.add(ms);
        } else if (which === 'hooked') {
          const r = await pushMany(berth, `hooked/r${round}`, pushes, concurrency, hookedSeed, d);
          queuedWith.push((runQueueMsOf(berthProc.pid) - queued0) / pushes);
          receiversPushingMs.push((cpuMsOf(rx.pid) - rx0) / pushes);
          const c = await collect(r.done, rx, [0, 1], 60_000);
          cpuWith.push((cpuMsOf(berthProc.pid) - cpu0) / pushes);
          receiversMs.push((cpuMsOf(rx.pid) - rx0) / pushes);
          clientWith.push((clientMs() - client0) / pushes);
          mainWith.push((mainThreadCpuMsOf(berthProc.pid) - main0) / pushes);
          ioWith.push(ioDelta(io0));
          const deltas = [...threadCpuMsOf(berthProc.pid)]
            .filter(([tid]) => tid !== berthProc.pid)
            .map(([tid, ms]) => ms - (threads0.get(tid) ?? 0))
            .sort((a, b) => b - a);
          threadMs.push((deltas[0] ?? 0) / (2 * pushes));
          otherMs.push(deltas.slice(1).reduce((n, ms) => n + ms, 0) / pushes);
          perPush.withWebhooks = await counted(work0);
          delivered = c.delivered;
          workload.berth.push(figures(r.perSecond, c.latencies, berthLat));
        } else {
          const r = await pushMany(distribution, `bench/r${round}`, pushes, concurrency, seed, d);
          const c = await collect(r.done, rx, [2, 3], 60_000);
          distributionDelivered = c.delivered;
          workload.distribution.push(figures(r.perSecond, c.latencies, distLat));
        }
      }
      options.log(
        `  round ${round + 1}: berth ${workload.berth.at(-1)!['req/s']!.toFixed(0)}/s with webhooks, ${without.at(-1)!.toFixed(0)}/s without, ${floor.at(-1)!.toFixed(0)}/s with the bench's minimal sender (${senderMs.at(-1)!.toFixed(2)} ms CPU per push, delivered ${floorDelivered.join('+')}); events written and not sent (a Berth with jobs.workers 0) ${writtenWith.at(-1)!.toFixed(0)}/s vs ${writtenWithout.at(-1)!.toFixed(0)}/s without; CPU ${cpuWith.at(-1)!.toFixed(2)} vs ${cpuWithout.at(-1)!.toFixed(2)} ms per push (serving thread ${mainWith.at(-1)!.toFixed(2)} vs ${mainWithout.at(-1)!.toFixed(2)}, waiting for a CPU ${queuedWith.at(-1)!.toFixed(3)} vs ${queuedWithout.at(-1)!.toFixed(3)}); delivered ${delivered.join('+')} of ${pushes} each; serving connection's lock waits per push ${perPush.withWebhooks['lockWaits']?.toFixed(2)} (${perPush.withWebhooks['lockWaitMs']?.toFixed(2)} ms) vs ${perPush.withoutWebhooks['lockWaits']?.toFixed(2)}; statements ${perPush.withWebhooks['statements']?.toFixed(1)} vs ${perPush.withoutWebhooks['statements']?.toFixed(1)}; the receivers ${receiversMs.at(-1)!.toFixed(2)} ms CPU per push (${receiversPushingMs.at(-1)!.toFixed(2)} while the pushes ran), the pushing client ${clientWith.at(-1)!.toFixed(2)} vs ${clientWithout.at(-1)!.toFixed(2)}; the delivery thread ${threadMs.at(-1)!.toFixed(3)} ms per delivery, other threads ${otherMs.at(-1)!.toFixed(2)} vs ${otherMsWithout.at(-1)!.toFixed(2)} ms per push; per push ${ioWith.at(-1)!['writes']!.toFixed(1)} vs ${ioWithout.at(-1)!['writes']!.toFixed(1)} write and ${ioWith.at(-1)!['reads']!.toFixed(1)} vs ${ioWithout.at(-1)!['reads']!.toFixed(1)} read calls (serving thread ${ioWith.at(-1)!['servingThreadReads']!.toFixed(1)} vs ${ioWithout.at(-1)!['servingThreadReads']!.toFixed(1)} reads, ${ioWith.at(-1)!['servingThreadWrites']!.toFixed(1)} vs ${ioWithout.at(-1)!['servingThreadWrites']!.toFixed(1)} writes), ${(ioWith.at(-1)!['writtenBytes']! / 1024).toFixed(1)} vs ${(ioWithout.at(-1)!['writtenBytes']! / 1024).toFixed(1)} KiB written`,
      );
      if (floorDelivered.some((n) => n !== pushes))
        throw new Error(
          `webhooks: the minimal sender's ${floorDelivered.join(' and ')} of ${pushes} events arrived`,
        );
      if (delivered.some((n) => n !== pushes))
        throw new Error(`webhooks: only ${delivered.join(' and ')} of ${pushes} events reached the targets`);
    }
  } finally {
    await d.close();
    await berthProc.stop();
    await writtenProc.stop();
    await dist.stop();
    await sender.close();
    await rx.close();
  }
  const withHooks = median(workload.berth.map((m) => m['req/s']!));
  const withoutHooks = median(without);
  const floorRate = median(floor);
  return {
    workload,
    details: {
      pushes,
      concurrency,
      rounds,
      berthWithWebhooks: withHooks,
      berthWithoutWebhooks: withoutHooks,
      throughputLossPercent: 100 * (1 - withHooks / withoutHooks),
      floor: {
        pushesPerSecond: floorRate,
        lossPercent: 100 * (1 - floorRate / withoutHooks),
        senderCpuMsPerPush: median(senderMs),
        latency: summary(floorLat),
      },
      written: {
        withWebhooks: median(writtenWith),
        withoutWebhooks: median(writtenWithout),
        lossPercent: 100 * (1 - median(writtenWith) / median(writtenWithout)),
      },
      berthCpuMsPerPush: {
        withWebhooks: median(cpuWith),
        withoutWebhooks: median(cpuWithout),
        addedPercent: 100 * (median(cpuWith) / median(cpuWithout) - 1),
      },
      perPush,
      receiversCpuMsPerPush: median(receiversMs),
      receiversCpuMsPerPushWhilePushing: median(receiversPushingMs),
      clientCpuMsPerPush: { withWebhooks: median(clientWith), withoutWebhooks: median(clientWithout) },
      servingThreadRunQueueMsPerPush: {
        withWebhooks: median(queuedWith),
        withoutWebhooks: median(queuedWithout),
      },
      servingThreadCpuMsPerPush: {
        withWebhooks: median(mainWith),
        withoutWebhooks: median(mainWithout),
        addedPercent: 100 * (median(mainWith) / median(mainWithout) - 1),
      },
      deliveryThreadCpuMsPerDelivery: median(threadMs),
      otherThreadsCpuMsPerPush: { withWebhooks: median(otherMs), withoutWebhooks: median(otherMsWithout) },
      ioPerPush: { withWebhooks: medianOf(ioWith), withoutWebhooks: medianOf(ioWithout) },
      berthLatency: summary(berthLat),
      distributionLatency: summary(distLat),
      delivered,
      distributionDelivered,
    },
  };
}
