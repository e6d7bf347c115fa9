/**
 * Proxy-cache pulls, two rows of `npm run bench` (BENCH_ONLY=proxy-cache runs them alone), with Debian's
 * docker-registry as the upstream (docs/proxy-cache.md):
 * - cold: the first pull of a 5 × 64 MiB image through a proxy project (every blob fetched from the
 *   upstream while it is streamed and cached) beside the same pull straight from the upstream;
 * - cached: the next pulls through the proxy project (within proxy_cache_check_seconds: the cache only,
 *   no upstream request) beside the same image pulled from a normal project of the same Berth, in
 *   alternating pairs.
 * The "distribution" column holds the reference of each row: the direct upstream pull, and the normal
 * project pull.
 */
import { startDockerRegistry } from '../test/helpers/docker-registry.js';
import {
  authedAgent,
  benchApi,
  cpuMsOf,
  mainThreadCpuMsOf,
  rssOf,
  sampleRss,
  workCounters,
} from './berth-process.js';
import { pullImage, pushImage, type Target } from './client.js';
import { blob } from './data.js';
import { MB, MiB, timed } from './measure.js';
import type { WorkloadResult } from './report.js';

export async function proxyCacheBench(
  berthUrl: string,
  options: { quick: boolean; log: (s: string) => void; pid?: number },
): Promise<WorkloadResult[]> {
  const layers = options.quick ? 2 : 5;
  const layerMiB = options.quick ? 16 : 64;
  const rounds = options.quick ? 1 : 3;
  const upstream = await startDockerRegistry({ logLevel: 'error' });
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
      await pushImage(berth, `bench-normal/${repo}`, 'v1', 900 + round, specs, d);
      const through = { ...image, repo: `bench-proxy/${repo}` };
      const direct = await timed(() => pullImage(dist, image, d));
      // Berth's CPU for the cold pull (all its threads), and its event loop's alone.
      const pid = options.pid ?? 0;
      const [cpu0, loop0, rss0] = [cpuMsOf(pid), mainThreadCpuMsOf(pid), rssOf(pid)];
      const coldRss = pid ? sampleRss(pid) : undefined;
      const first = await timed(() => pullImage(berth, through, d));
      const [cpu, loop] = [(cpuMsOf(pid) - cpu0) / 1000, (mainThreadCpuMsOf(pid) - loop0) / 1000];
      const coldPeak = coldRss?.stop().peak ?? 0;
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
        `  round ${round + 1}: cold ${first.toFixed(2)} s vs direct ${direct.toFixed(2)} s (Berth ${cpu.toFixed(2)} CPU-s, ` +
          `event loop ${loop.toFixed(2)}); cached/normal ${pairs.join(', ')} s ` +
          `(SQL statements per pull ${(sql.proxied / pairs.length).toFixed(1)}/${(sql.plain / pairs.length).toFixed(1)}); ` +
          `RSS ${(rss0 / MiB).toFixed(0)} MiB before, peak ${(coldPeak / MiB).toFixed(0)} cold, ${(cachedPeak / MiB).toFixed(0)} cached`,
      );
    }
  } finally {
    await d.close();
    await upstream.stop();
  }
  return [cold, cached];
}
