/**
 * The soak (issue 13): `clients` loops against a fresh Berth for `seconds`, each op one of an image push
 * (config + a unique 64 KiB layer + manifest), a blob pull, a manifest GET or a Harbor API list. VmRSS is
 * sampled every `sampleSeconds` during the load and while Berth idles after it; the soak passes when the
 * RSS after the settle is within `allowanceBytes` of the figure before the load.
 */
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { authedAgent, rssOf, startBerthProcess } from './berth-process.js';
import { manifestAccept, pullBlob, pushImage, type Target } from './client.js';
import { blob } from './data.js';
import { closedLoop, MiB } from './measure.js';

export interface SoakResult {
  clients: number;
  seconds: number;
  sampleSeconds: number;
  settleSeconds: number;
  /** Extra environment Berth ran with (e.g. to compare malloc settings). */
  env: Record<string, string>;
  baselineBytes: number;
  peakBytes: number;
  afterBytes: number;
  allowanceBytes: number;
  pass: boolean;
  /** [seconds since the load started, VmRSS bytes]; negative times are none, load ends at `seconds`. */
  samples: [number, number][];
  ops: number;
  errors: number;
  byKind: Record<'push' | 'pull' | 'manifest' | 'list', number>;
}

export async function soak(opts: {
  clients: number;
  seconds: number;
  sampleSeconds?: number;
  settleSeconds?: number;
  env?: Record<string, string>;
  log?: (s: string) => void;
}): Promise<SoakResult> {
  const sampleSeconds = opts.sampleSeconds ?? 10;
  const settleSeconds = opts.settleSeconds ?? 30;
  const allowanceBytes = 64 * MiB;
  const env = opts.env ?? {};
  const berth = await startBerthProcess({ env, label: 'soak' });
  const t: Target = { name: 'berth', url: berth.url, pid: berth.pid };
  const d = authedAgent({ connections: opts.clients, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
  try {
    const layers = [blob(51, 64 * 1024), blob(52, 256 * 1024), blob(53, MiB)];
    const img = await pushImage(t, 'bench/soak-pull', 'v1', 50, layers, d);
    const blobs = [img.configDigest, ...layers.map((l) => l.digest)];
    const lists = [
      '/api/v2.0/projects?page_size=10',
      '/api/v2.0/projects/bench/repositories?page_size=20',
      '/api/v2.0/projects/bench/repositories/soak-0/artifacts?page_size=20&with_tag=true',
      '/api/v2.0/projects/bench/logs?page_size=20',
    ];
    await new Promise((r) => setTimeout(r, 2000));
    const baselineBytes = rssOf(berth.pid);
    opts.log?.(`  soak: RSS before the load ${mib(baselineBytes)}`);
    const samples: [number, number][] = [[0, baselineBytes]];
    const t0 = performance.now();
    const sample = () => {
      const s = (performance.now() - t0) / 1000;
      const rss = rssOf(berth.pid);
      samples.push([Math.round(s), rss]);
      opts.log?.(`  soak: ${s.toFixed(0)} s RSS ${mib(rss)}`);
    };
    const timer = setInterval(sample, sampleSeconds * 1000);
    const byKind = { push: 0, pull: 0, manifest: 0, list: 0 };
    let seed = 100_000;
    const firstErrors: string[] = [];
    const r = await closedLoop(
      opts.clients,
      opts.seconds,
      async (w, i) => {
        const kind = (w + i) % 4;
        if (kind === 0) {
          // A unique layer each time, so pushes keep writing new blobs and rows.
          const s = seed++;
          await pushImage(t, `bench/soak-${w % 8}`, `t${s}`, s, [blob(s, 64 * 1024)], d);
          byKind.push++;
        } else if (kind === 1) {
          await pullBlob(t, img.repo, blobs[(w + i) % blobs.length]!, d);
          byKind.pull++;
        } else if (kind === 2) {
          const res = await request(`${t.url}/v2/${img.repo}/manifests/v1`, {
            headers: { accept: manifestAccept },
            dispatcher: d,
          });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`GET manifest: HTTP ${res.statusCode}`);
          byKind.manifest++;
        } else {
          const res = await request(`${t.url}${lists[(w + i) % lists.length]!}`, { dispatcher: d });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`GET list: HTTP ${res.statusCode}`);
          byKind.list++;
        }
      },
      {
        onError: (e) => {
          if (firstErrors.length < 5) firstErrors.push(String(e));
        },
      },
    );
    if (firstErrors.length) opts.log?.(`  soak errors, first ones:\n  ${firstErrors.join('\n  ')}`);
    // The load is over: close the client's sockets, as clients going away would, then let Berth idle.
    await d.close();
    await new Promise((r) => setTimeout(r, settleSeconds * 1000));
    clearInterval(timer);
    sample();
    const afterBytes = samples[samples.length - 1]![1];
    const peakBytes = Math.max(...samples.map((s) => s[1]), rssOf(berth.pid, 'VmHWM'));
    return {
      clients: opts.clients,
      seconds: opts.seconds,
      sampleSeconds,
      settleSeconds,
      env,
      baselineBytes,
      peakBytes,
      afterBytes,
      allowanceBytes,
      pass: afterBytes - baselineBytes <= allowanceBytes,
      samples,
      ops: r.ops,
      errors: r.errors,
      byKind,
    };
  } finally {
    await d.close().catch(() => undefined);
    await berth.stop();
  }
}
