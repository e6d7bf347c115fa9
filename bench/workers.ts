/**
 * `BENCH_ONLY=workers`: `berth serve --workers 2` against `--workers 1` and against distribution, in one
 * run, on the two rows the issue names: 32 curl clients pulling a 5-layer image at once, and the load run
 * (many clients looping over manifest and blob GETs). Rounds of the image pull rotate which server goes
 * first; the load runs one after another.
 */
import { startDockerRegistry } from '../test/helpers/docker-registry.js';
import { lifetimePeakOf, peaksDuring, startBerthProcess, type BerthProcess } from './berth-process.js';
import type { Target } from './client.js';
import { median } from './measure.js';
import { peakRssMetric, rssLines, type WorkloadResult } from './report.js';
import {
  imagePullWorkload,
  loadRun,
  prepare,
  type Fixtures,
  type Metrics,
  type Profile,
} from './workloads.js';

export type Side = 'w1' | 'w2' | 'distribution';

export interface WorkersBenchResult {
  clients: number;
  rounds: number;
  loadClients: number;
  loadSeconds: number;
  /** Seconds of each 32-client round, per side. */
  imagePull: Record<Side, number[]>;
  load: Record<Side, Metrics>;
  /**
   * Peak RSS in bytes of each process (the kernel's VmHWM, reset before each measurement): over the
   * image-pull rounds, over the load run, and over the process's whole life (start-up and fixtures
   * included). Per side, one figure per process: --workers 1's one process; --workers 2's primary, then
   * each worker; distribution's one process.
   */
  rss: Record<'imagePull' | 'load' | 'life', Record<Side, number[]>>;
}

/** The processes of each side: a Berth's (primary first) or distribution's. */
const pidsOf = (targets: Record<Side, Target>, berths: Partial<Record<Side, BerthProcess>>, side: Side) =>
  berths[side]?.pids() ?? [targets[side].pid];

async function allListening(berth: BerthProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!berth.log().includes('"msg":"Berth is serving"')) {
    if (Date.now() > deadline) throw new Error(`the workers did not all start:\n${berth.log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function workersBench(
  profile: Profile,
  log: (s: string) => void,
): Promise<{ details: WorkersBenchResult; workloads: WorkloadResult[] }> {
  const w1 = await startBerthProcess({ workers: 1, label: 'workers: --workers 1' });
  const w2 = await startBerthProcess({ workers: 2, label: 'workers: --workers 2' });
  const dist = await startDockerRegistry();
  try {
    await allListening(w2);
    const targets: Record<Side, Target> = {
      w1: { name: 'berth', url: w1.url, pid: w1.pid },
      w2: { name: 'berth', url: w2.url, pid: w2.pid },
      distribution: { name: 'distribution', url: dist.url, pid: dist.pid },
    };
    const sides = Object.keys(targets) as Side[];
    const berths = { w1, w2 };
    const peaks = (): Record<Side, number[]> => ({ w1: [], w2: [], distribution: [] });
    const rss = { imagePull: peaks(), load: peaks(), life: peaks() };
    /** Runs `fn` against one side, folding each of its processes' peak RSS into `into`. */
    const measured = async <T>(side: Side, into: Record<Side, number[]>, fn: () => Promise<T>) => {
      const [result, peak] = await peaksDuring(pidsOf(targets, berths, side), fn);
      into[side] = peak.map((p, i) => Math.max(p, into[side][i] ?? 0));
      return result;
    };
    log(
      `workers: --workers 1 (pid ${w1.pid}), --workers 2 (primary ${w2.pid}, workers ${w2.pids().slice(1).join(', ')}), distribution; preparing …`,
    );
    const fixtures = {} as Record<Side, Fixtures>;
    for (const side of sides) fixtures[side] = await prepare(targets[side], profile);

    const rounds = profile.rounds * 3;
    const pull = imagePullWorkload(profile.imageClients, rounds);
    const imagePull: Record<Side, number[]> = { w1: [], w2: [], distribution: [] };
    const pullMetrics: Record<Side, Metrics[]> = { w1: [], w2: [], distribution: [] };
    for (let round = 0; round < rounds; round++) {
      // Rotate who goes first, so warm caches and drifting background load favour no side.
      const order = sides.map((_, i) => sides[(i + round) % sides.length]!);
      for (const side of order) {
        const m = await measured(side, rss.imagePull, () => pull.measure(targets[side], fixtures[side]));
        imagePull[side].push(m.s!);
        pullMetrics[side].push(m);
      }
    }
    log(
      `  ${profile.imageClients}-client image pull, median s: ${sides.map((s) => `${s} ${median(imagePull[s]).toFixed(3)}`).join(', ')}`,
    );
    const load = {} as Record<Side, Metrics>;
    for (const side of sides) {
      log(`  load: ${profile.loadClients} clients for ${profile.loadSeconds} s against ${side} …`);
      load[side] = await measured(side, rss.load, () =>
        loadRun(targets[side], fixtures[side], profile.loadClients, profile.loadSeconds),
      );
      log(`    ${JSON.stringify(load[side])}`);
    }
    for (const side of sides) rss.life[side] = pidsOf(targets, berths, side).map(lifetimePeakOf);
    for (const line of rssLines(rss)) log(`  ${line}`);
    const details: WorkersBenchResult = {
      clients: profile.imageClients,
      rounds,
      loadClients: profile.loadClients,
      loadSeconds: profile.loadSeconds,
      imagePull,
      load,
      rss,
    };
    // Each row's peak RSS is its highest process's: the figure held against 200 MiB per process.
    const highest = (side: Side, phase: 'imagePull' | 'load') => Math.max(...rss[phase][side]) / 2 ** 20;
    for (const side of ['w2', 'distribution'] as const) {
      for (const m of pullMetrics[side]) m[peakRssMetric] = highest(side, 'imagePull');
      load[side][peakRssMetric] = highest(side, 'load');
    }
    // The main results table compares with distribution: these rows are --workers 2's.
    const workloads: WorkloadResult[] = [
      {
        id: 'workers-image-pull',
        title: `${profile.imageClients} clients pulling a 5-layer image at once, Berth --workers 2 (${rounds} rounds)`,
        main: 's',
        berth: pullMetrics.w2,
        distribution: pullMetrics.distribution,
      },
      {
        id: 'workers-load',
        title: `load run, ${profile.loadClients} clients for ${profile.loadSeconds} s, Berth --workers 2`,
        main: 'req/s',
        berth: [load.w2],
        distribution: [load.distribution],
      },
    ];
    return { details, workloads };
  } finally {
    await w1.stop();
    await w2.stop();
    await dist.stop();
  }
}
