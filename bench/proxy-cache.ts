/**
 * Proxy-cache pulls, two rows of `npm run bench` (BENCH_ONLY=proxy-cache runs them alone), with Debian's
 * docker-registry as the upstream (docs/proxy-cache.md):
 * - cold: the first pull of a 5 × 64 MiB image through a proxy project (every blob fetched from the
 *   upstream while it is streamed and cached) beside the same pull straight from the upstream, once just
 *   before and once just after it; five rounds, each a fresh image, and the median of the per-round
 *   ratios (cold / the mean of its two direct pulls) with their spread;
 * - cached: the next pulls through the proxy project (within proxy_cache_check_seconds: the cache only,
 *   no upstream request) beside the same image pulled from a normal project of the same Berth, in
 *   alternating pairs.
 * The "distribution" column holds the reference of each row: the direct upstream pull, and the normal
 * project pull.
 *
 * The floor: in each round the same image is also pulled through two minimal relays of the bench's
 * (bench/minimal-relay.ts, each a process of its own, no database): one that only forwards the upstream's
 * bytes, and one that also hashes and stores them, as a cache must. Their ratios to the round's direct
 * pull are what any pull-through cache in Node costs on this machine, with nothing of Berth's in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDockerRegistry } from '../test/helpers/docker-registry.js';
import {
  authedAgent,
  benchApi,
  cpuMsOf,
  ioCountsOf,
  mainThreadCpuMsOf,
  minorFaultsOf,
  rssOf,
  sampleRss,
  workCounters,
} from './berth-process.js';
import { nextMessage, forkBenchScript, stopBenchScript } from './children.js';
import { pullImage, pushImage, type Target } from './client.js';
import { blob } from './data.js';
import { MB, MiB, median, timed } from './measure.js';
import type { WorkloadResult } from './report.js';

/** The floor's figures: each minimal relay's first pull against the direct one, medians over the rounds. */
export interface ProxyFloorResult {
  rounds: number;
  /** Berth's cold pull / direct (median of the rounds' ratios). */
  berthRatio: number;
  /** The relay that only forwards, and the one that hashes and stores too: pull / direct (medians). */
  forwardRatio: number;
  storeRatio: number;
  /** Seconds (medians): direct, Berth cold, forward-only relay, hashing and storing relay. */
  seconds: { direct: number; berth: number; forward: number; store: number };
}

/** A minimal relay (bench/minimal-relay.ts) in a process of its own, and its URL. */
async function startRelay(upstream: string, mode: 'forward' | 'store', dir: string) {
  const child = forkBenchScript('minimal-relay.ts', [upstream, mode, dir]);
  const { url } = await nextMessage<{ url: string }>(child, `the ${mode} relay`);
  return { url, stop: () => stopBenchScript(child) };
}

export async function proxyCacheBench(
  berthUrl: string,
  options: { quick: boolean; log: (s: string) => void; pid?: number },
): Promise<{ rows: WorkloadResult[]; floor: ProxyFloorResult }> {
  const layers = options.quick ? 2 : 5;
  const layerMiB = options.quick ? 16 : 64;
  const rounds = options.quick ? 1 : 5;
  const ratios: number[] = [];
  const upstream = await startDockerRegistry({ logLevel: 'error' });
  const relayDir = mkdtempSync(join(tmpdir(), 'berth-bench-relay-'));
  const forwarding = await startRelay(upstream.url, 'forward', relayDir);
  const storing = await startRelay(upstream.url, 'store', relayDir);
  const floor = {
    direct: [] as number[],
    berth: [] as number[],
    forward: [] as number[],
    store: [] as number[],
  };
  const floorRatios = { forward: [] as number[], store: [] as number[] };
  const d = authedAgent({ connections: 4, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const berth: Target = { name: 'berth', url: berthUrl, pid: 0 };
  const dist: Target = { name: 'distribution', url: upstream.url, pid: upstream.pid };
  const row = (id: string, title: string): WorkloadResult => ({
    id,
    title: `proxy cache: ${title} of ${layers} × ${layerMiB} MiB`,
    main: 's',
    berth: [],
    distribution: [],
  });
  const cold = row('proxy-cache-cold', 'first pull (vs direct from upstream)');
  const cached = row('proxy-cache-cached', 'cached pull (vs a normal project)');
  try {
    const registry = await benchApi(berthUrl, 'POST', '/registries', {
      name: 'bench-upstream',
      type: 'docker-registry',
      url: upstream.url,
    });
    const registryId = Number(registry.headers.get('location')!.split('/').pop());
    await benchApi(berthUrl, 'POST', '/projects', { project_name: 'bench-proxy', registry_id: registryId });
    await benchApi(berthUrl, 'POST', '/projects', { project_name: 'bench-normal' });
    for (let round = 0; round < rounds; round++) {
      const specs = Array.from({ length: layers }, (_, i) => blob(9000 + round * 10 + i, layerMiB * MiB));
      const repo = `proxied/img${round}`;
      const image = await pushImage(dist, repo, 'v1', 900 + round, specs, d);
      // The row's whole-life peak may fall in a push (from what the previous round left resident): shown too.
      const pushRss = options.pid ? sampleRss(options.pid) : undefined;
      await pushImage(berth, `bench-normal/${repo}`, 'v1', 900 + round, specs, d);
      const pushPeak = pushRss?.stop().peak ?? 0;
      const through = { ...image, repo: `bench-proxy/${repo}` };
      // The direct pull swings 0.3-1.3 s within one quiet run (docs/benchmarks.md): each cold pull is set
      // against its own round's direct pulls, one just before and one just after it (their mean), so a
      // swing of the machine hits both sides of the round's ratio.
      const before = await timed(() => pullImage(dist, image, d));
      // Berth's CPU for the cold pull (all its threads), and its event loop's alone.
      const pid = options.pid ?? 0;
      const [cpu0, loop0, rss0, io0, faults0] = [
        cpuMsOf(pid),
        mainThreadCpuMsOf(pid),
        rssOf(pid),
        ioCountsOf(pid),
        minorFaultsOf(pid),
      ];
      const coldRss = pid ? sampleRss(pid) : undefined;
      const first = await timed(() => pullImage(berth, through, d));
      const [cpu, loop] = [(cpuMsOf(pid) - cpu0) / 1000, (mainThreadCpuMsOf(pid) - loop0) / 1000];
      // Read and write system calls (sockets and files) per cold pull: how many units the bytes went in.
      const io = ioCountsOf(pid);
      const faults = minorFaultsOf(pid) - faults0;
      const calls = `${io.reads - io0.reads} reads (${((io.readBytes - io0.readBytes) / MiB).toFixed(0)} MiB), ${io.writes - io0.writes} writes (${((io.writtenBytes - io0.writtenBytes) / MiB).toFixed(0)} MiB)`;
      const coldPeak = coldRss?.stop().peak ?? 0;
      const after = await timed(() => pullImage(dist, image, d));
      const direct = (before + after) / 2;
      ratios.push(first / direct);
      // The floor, after the direct pulls (the upstream's files as warm for them as for Berth's).
      const viaForward = await timed(() => pullImage({ ...dist, url: forwarding.url }, image, d));
      const viaStore = await timed(() => pullImage({ ...dist, url: storing.url }, image, d));
      floor.direct.push(direct);
      floor.berth.push(first);
      floor.forward.push(viaForward);
      floor.store.push(viaStore);
      floorRatios.forward.push(viaForward / direct);
      floorRatios.store.push(viaStore / direct);
      const cachedRss = pid ? sampleRss(pid) : undefined;
      cold.berth.push({ s: first, 'MB/s': image.bytes / MB / first });
      cold.distribution.push({ s: direct, 'MB/s': image.bytes / MB / direct });
      const normal = { ...image, repo: `bench-normal/${repo}` };
      // Pairs of pulls, alternating who goes first, so warm page caches and the load of the moment
      // favour neither (the machine is shared; one pair is noise).
      const pairs: string[] = [];
      // SQL statements of the serving thread per pull, each side (the /metrics read itself included in both).
      const sql = { proxied: 0, plain: 0 };
      const counted = async (side: 'proxied' | 'plain', image: typeof through) => {
        const before = (await workCounters(berthUrl)).statements;
        const s = await timed(() => pullImage(berth, image, d));
        sql[side] += (await workCounters(berthUrl)).statements - before;
        return s;
      };
      for (let pair = 0; pair < (options.quick ? 1 : 3); pair++) {
        let proxied: number;
        let plain: number;
        if ((round + pair) % 2 === 0) {
          proxied = await counted('proxied', through);
          plain = await counted('plain', normal);
        } else {
          plain = await counted('plain', normal);
          proxied = await counted('proxied', through);
        }
        cached.berth.push({ s: proxied, 'MB/s': image.bytes / MB / proxied });
        cached.distribution.push({ s: plain, 'MB/s': image.bytes / MB / plain });
        pairs.push(`${proxied.toFixed(2)}/${plain.toFixed(2)}`);
      }
      const cachedPeak = cachedRss?.stop().peak ?? 0;
      options.log(
        `  round ${round + 1}: cold ${first.toFixed(2)} s vs direct ${direct.toFixed(2)} s ` +
          `(${before.toFixed(2)} before, ${after.toFixed(2)} after; ratio ${(first / direct).toFixed(2)}) (Berth ${cpu.toFixed(2)} CPU-s, ` +
          `event loop ${loop.toFixed(2)}; ${calls}; ${faults} page faults); cached/normal ${pairs.join(', ')} s ` +
          `(SQL statements per pull ${(sql.proxied / pairs.length).toFixed(1)}/${(sql.plain / pairs.length).toFixed(1)}); ` +
          `RSS ${(rss0 / MiB).toFixed(0)} MiB before, peak ${(pushPeak / MiB).toFixed(0)} push, ${(coldPeak / MiB).toFixed(0)} cold, ${(cachedPeak / MiB).toFixed(0)} cached; ` +
          `the floor: forward-only relay ${viaForward.toFixed(2)} s (${(viaForward / direct).toFixed(2)}), hashing and storing relay ${viaStore.toFixed(2)} s (${(viaStore / direct).toFixed(2)})`,
      );
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    options.log(
      `  cold/direct per round ${ratios.map((r) => r.toFixed(2)).join(', ')}: median ${median(ratios).toFixed(2)}, ` +
        `spread ${sorted[0]!.toFixed(2)}-${sorted[sorted.length - 1]!.toFixed(2)} (goal: median ≤ 1.20); ` +
        `the floor: forward-only relay ${median(floorRatios.forward).toFixed(2)}, hashing and storing relay ${median(floorRatios.store).toFixed(2)} (medians)`,
    );
  } finally {
    await d.close();
    await forwarding.stop();
    await storing.stop();
    rmSync(relayDir, { recursive: true, force: true });
    await upstream.stop();
  }
  return {
    rows: [cold, cached],
    floor: {
      rounds,
      berthRatio: median(ratios),
      forwardRatio: median(floorRatios.forward),
      storeRatio: median(floorRatios.store),
      seconds: {
        direct: median(floor.direct),
        berth: median(floor.berth),
        forward: median(floor.forward),
        store: median(floor.store),
      },
    },
  };
}
