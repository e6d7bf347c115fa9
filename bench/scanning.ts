/**
 * The built-in scanner's rows (issue 17), on a fresh Berth process (SQLite + filesystem), Berth only:
 * - `berth vulndb import` of a generated database of 100 000 OSV records (a realistic mix of ecosystems
 *   and range shapes) into that Berth's database while it runs;
 * - scans of a Debian bookworm image (this machine's dpkg database, ~800 packages) against it, in this
 *   process (read the layer, inventory, match; the first scan after the import apart, then the median of
 *   5), and through the server (`POST …/scan` until its overview says Success: the job, the report and
 *   its vulnerability rows written);
 * - pulls by 8 clients of a 4-layer image with and without a scan running in the server, in alternating
 *   windows of the same run, 10 pairs of 3 s (target: pull throughput down by less than 10 %, the median
 *   of the pairs' slowdowns, their spread printed beside it), first with the scans in a
 *   niced worker thread of the server (`scanning.isolation: thread`, which writes the report itself) and
 *   then in its niced scanning process (the default, which writes the report), on the same database and
 *   blobs: before and after in one run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect } from '../src/db/connect.js';
import { MetaStore } from '../src/db/store.js';
import { REPORT_MIME_TYPE } from '../src/services/scanning/builtin/report.js';
import { inventoryImage } from '../src/services/scanning/builtin/inventory/index.js';
import { matchInventory, scanImage } from '../src/services/scanning/builtin/scan-image.js';
import { openVulnDb } from '../src/services/scanning/builtin/stored-vuln-db.js';
import { bookwormImageLayers, bookwormLayer, debian12Records } from '../test/helpers/vulndb.js';
import { zipArchive } from '../test/helpers/zip.js';
import {
  authedAgent,
  benchApi,
  childrenOf,
  startBerthProcess,
  workCounters,
  type BerthProcess,
  type WorkCounter,
} from './berth-process.js';
import { imageManifest, pullImage, pushBytes, pushImage, putManifest, type Target } from './client.js';
import { blob, configJson, sha256 } from './data.js';
import { closedLoop, median, MB, MiB } from './measure.js';

export interface ScanBenchResult {
  records: number;
  zipBytes: number;
  importSeconds: number;
  /** CPU seconds (user + system) the import process used: what the machine's load does not inflate. */
  importCpuSeconds: number;
  packages: number;
  /** The first whole scan after the import (nothing of the database cached yet). */
  firstScanSeconds: number;
  /** CPU seconds of that first scan: apart from the machine's load, what it cost more than the others. */
  firstScanCpuSeconds: number;
  /** Whole scans (read the layer, inventory, match), median of 5. */
  scanSeconds: number;
  /** CPU seconds of one whole scan in this process, mean of the 5. */
  scanCpuSeconds: number;
  /** Matching alone (the inventory read once), median of 5. */
  matchSeconds: number;
  findings: number;
  /** A scan through the server: from `POST …/scan` to an overview saying Success, median. */
  serverScanSeconds: number;
  /**
   * The first scan of each server (scans in a thread, the first after the import; then in the scanning
   * process, whose start it includes). The in-process first scan above also pays for collecting this
   * process's own garbage of generating the database (a 47 MiB zip of 100 000 JSON strings).
   */
  firstServerScanSeconds: [number, number];
  /** Pulls beside scans in the scanning process (the default). */
  pulls: PullImpact;
  /** The same with `scanning.isolation: thread` (scans in a worker thread), measured first in the same run. */
  pullsInThread: PullImpact;
  /** Load average (1 min) when the rows started and ended. */
  load: [number, number];
  /** One line for the report (kept for older readers of the JSON). */
  pullImpact: string;
}

export interface PullImpact {
  clients: number;
  imageBytes: number;
  windowSeconds: number;
  /** Pull throughput per window, MB/s, in the order measured. */
  without: number[];
  with: number[];
  /**
   * The slowdown, as a percentage (target < 10): the median over the window pairs of 1 - with / without,
   * each pair two adjacent windows (one of each), which share the VM's speed of the moment. Before
   * session 14 it was 1 - median(with) / median(without) over 4 pairs of 6 s (`slowdownOfMediansPercent`).
   */
  slowdownPercent: number;
  /** Each pair's slowdown (1 - with / without, %), in the order measured: their min-max is the spread. */
  pairSlowdownsPercent: number[];
  /** The estimator before session 14: 1 - median(with) / median(without), %. */
  slowdownOfMediansPercent: number;
  /** Scans the server completed during the `with` windows. */
  scans: number;
  /**
   * CPU milliseconds per server scan (3 scans back to back, no pulls, the overview polled every 100 ms as
   * below), by thread: the serving thread (the event loop), the server's niced scan thread, the rest of
   * the server (libuv's pool, V8's helpers), and the scanning process's threads, niced and not. A count
   * of work, unlike the throughputs: the machine's load does not inflate it.
   */
  cpuMsPerScan: {
    serving: number;
    scanThread: number;
    others: number;
    scanProcessNiced: number;
    scanProcessNotNiced: number;
  };
  /**
   * Of `cpuMsPerScan.serving`: the overview polls' share (polls per scan x the serving thread's CPU per
   * poll, measured with no scan running), which grows with the scan's duration.
   */
  servingPollingMs: number;
  pollsPerScan: number;
  /**
   * The server's counters of work per scan over those 3 scans (/metrics): its connection's statements,
   * read-cache misses and drops, and its waits for SQLite's write lock (held by the scan's writes).
   */
  workPerScan: Record<WorkCounter, number>;
  /** The serving connection's lock waits (count, ms) summed over the windows with scans and without. */
  lockWaitsWith: { count: number; ms: number };
  lockWaitsWithout: { count: number; ms: number };
  /**
   * The scanning process's CPU per scan by phase (its own count, `berth_scan_process_cpu_seconds_total`):
   * over the 3 scans without pulls, and over the windows with pulls.
   */
  phaseCpuMsPerScan: Record<string, number>;
  phaseCpuMsPerScanUnderPulls: Record<string, number>;
  /**
   * The scanning process's CPU (all its threads, /proc) per second of the windows with scans and of those
   * without (the purge of a window's last scan runs into the next), in cores: what the governor holds to
   * its share while the pulls keep the machine busy.
   */
  scanProcessCores: { with: number; without: number };
  /** The serving thread's CPU per second of the windows with scans and without, in cores. */
  servingCores: { with: number; without: number };
  /**
   * A scan through the server (`POST …/scan` to Success), median: of the 3 without pulls (the machine
   * idle but for the polls, unless other work loads it) and of those in the windows with pulls.
   */
  scanSeconds: { withoutPulls: number; underPulls: number };
}

const root = resolve(import.meta.dirname, '..');
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

export async function scanBench(opts: {
  records: number;
  quick?: boolean;
  log: (s: string) => void;
}): Promise<ScanBenchResult> {
  const load0 = os.loadavg()[0]!;
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-vulndb-'));
  const data = join(dir, 'data');
  // Both servers (scans on the event loop, then in a thread) use one database and one blob store.
  const shared = {
    BERTH_DATABASE_URL: `sqlite:${join(data, 'berth.db')}`,
    BERTH_STORAGE_FILESYSTEM_ROOT: join(dir, 'blobs'),
  };
  try {
    const zip = join(dir, 'all.zip');
    writeFileSync(zip, generatedDatabase(opts.records));
    const zipBytes = statSync(zip).size;
    opts.log(`  generated ${opts.records} records (${(zipBytes / 2 ** 20).toFixed(1)} MiB zip); importing …`);
    const t0 = performance.now();
    const children0 = childCpuSeconds();
    execFileSync(
      process.execPath,
      [join(root, 'dist/server/main.js'), 'vulndb', 'import', zip, '--data', data],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const importSeconds = (performance.now() - t0) / 1000;
    const importCpuSeconds = childCpuSeconds() - children0;
    const handle = connect({ url: `sqlite:${join(data, 'berth.db')}`, poolMax: 1, acquireTimeoutMs: 5000 });
    let local: Pick<
      ScanBenchResult,
      | 'packages'
      | 'firstScanSeconds'
      | 'firstScanCpuSeconds'
      | 'scanSeconds'
      | 'scanCpuSeconds'
      | 'matchSeconds'
      | 'findings'
    >;
    try {
      const store = new MetaStore(handle.db);
      const scans: number[] = [];
      const matches: number[] = [];
      let findings = 0;
      let t = performance.now();
      const c0 = process.cpuUsage();
      const first = await scanImage({ layers: bookwormImageLayers() }, (await openVulnDb(store))!);
      const firstScanSeconds = (performance.now() - t) / 1000;
      const firstScanCpuSeconds = cpuSeconds(process.cpuUsage(c0));
      const inventory = await inventoryImage(bookwormImageLayers());
      let cpu = 0;
      for (let i = 0; i < 5; i++) {
        const c = process.cpuUsage();
        t = performance.now();
        const report = await scanImage({ layers: bookwormImageLayers() }, (await openVulnDb(store))!);
        scans.push((performance.now() - t) / 1000);
        cpu += cpuSeconds(process.cpuUsage(c));
        findings = report.vulnerabilities.length;
        t = performance.now();
        await matchInventory(inventory, (await openVulnDb(store))!);
        matches.push((performance.now() - t) / 1000);
      }
      if (first.vulnerabilities.length !== findings) throw new Error('two scans of one image disagree');
      local = {
        packages: inventory.packages.length,
        firstScanSeconds,
        firstScanCpuSeconds,
        scanSeconds: median(scans),
        scanCpuSeconds: cpu / 5,
        matchSeconds: median(matches),
        findings,
      };
    } finally {
      await handle.close();
    }
    opts.log(`  in process: ${JSON.stringify(local)}; now pulls with and without a scan in the server …`);
    const impact = async (isolation: 'thread' | 'process', first: boolean) => {
      const berth = await startBerthProcess({
        env: { ...shared, BERTH_SCANNING_WORKERS: '1', BERTH_SCANNING_ISOLATION: isolation },
        benchProject: first,
        label: `vulndb: scanning.isolation ${isolation}`,
      });
      try {
        opts.log(`  scanning.isolation: ${isolation}`);
        return await pullImpact(berth, { quick: opts.quick ?? false, log: opts.log });
      } finally {
        await berth.stop();
      }
    };
    const inThread = await impact('thread', true);
    const { pulls, serverScans } = await impact('process', false);
    const serverScanSeconds = median(serverScans.slice(1));
    return {
      records: opts.records,
      zipBytes,
      importSeconds,
      importCpuSeconds,
      ...local,
      serverScanSeconds,
      firstServerScanSeconds: [inThread.serverScans[0]!, serverScans[0]!],
      pulls,
      pullsInThread: inThread.pulls,
      load: [load0, os.loadavg()[0]!],
      pullImpact:
        `${pulls.clients} clients pulling a ${(pulls.imageBytes / MiB).toFixed(0)} MiB image: ` +
        `${median(pulls.without).toFixed(0)} MB/s without a scan, ${median(pulls.with).toFixed(0)} MB/s with one ` +
        `running in the scanning process (${impactText(pulls)}; ${pulls.scans} scans completed meanwhile; ` +
        `serving thread ${pulls.cpuMsPerScan.serving.toFixed(0)} ms CPU per scan; the scanning process ` +
        `${(pulls.scanProcessCores.with * 100).toFixed(1)} % of a core over the windows with scans, ` +
        `${pulls.phaseCpuMsPerScanUnderPulls.all ?? '?'} ms per scan under pulls (a scan ` +
        `${pulls.scanSeconds.underPulls.toFixed(1)} s there, ${pulls.scanSeconds.withoutPulls.toFixed(1)} s without pulls), ` +
        `${pulls.phaseCpuMsPerScan.all ?? '?'} without, by phase ${JSON.stringify(pulls.phaseCpuMsPerScan)}); ` +
        `in a thread (scanning.isolation: thread, same run): ${median(inThread.pulls.without).toFixed(0)} vs ` +
        `${median(inThread.pulls.with).toFixed(0)} MB/s (${impactText(inThread.pulls)}; ${inThread.pulls.scans} scans; ` +
        `serving thread ${inThread.pulls.cpuMsPerScan.serving.toFixed(0)} ms CPU per scan)`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The slowdown as the row reports it: the pairs' median, their spread, and the estimator of before. */
function impactText(p: PullImpact): string {
  const lo = Math.min(...p.pairSlowdownsPercent);
  const hi = Math.max(...p.pairSlowdownsPercent);
  return (
    `${p.slowdownPercent.toFixed(1)} % slower, median of ${p.pairSlowdownsPercent.length} pairs of ` +
    `${p.windowSeconds} s windows, pairs ${lo.toFixed(1)} … ${hi.toFixed(1)} %; ` +
    `ratio of medians ${p.slowdownOfMediansPercent.toFixed(1)} %`
  );
}

/** CPU seconds used by this process's children that ended so far (/proc/self/stat's cutime + cstime). */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // Fields after the command: state is [0], so cutime (16th overall) is [13] and cstime [14].
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * CPU milliseconds (user + system) and nice value of each thread of a process, by thread id, and of its
 * children's threads (`child`).
 */
function threadCpuMs(pid: number, child = false): Map<number, { ms: number; nice: number; child: boolean }> {
  const out = new Map<number, { ms: number; nice: number; child: boolean }>();
  if (!child) for (const c of childrenOf(pid)) for (const [tid, t] of threadCpuMs(c, true)) out.set(tid, t);
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // After the command: state is [0], utime [11], stime [12], nice [16] (fields 14, 15 and 19 of stat).
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(Number(tid), { ms: (Number(f[11]) + Number(f[12])) * 10, nice: Number(f[16]), child });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CPU ms (user + system) of a process's main thread (`serving`) and of all its children's threads. */
function processCpuMs(pid: number): { serving: number; child: number } {
  let serving = 0;
  let child = 0;
  for (const [tid, t] of threadCpuMs(pid)) {
    if (t.child) child += t.ms;
    else if (tid === pid) serving += t.ms;
  }
  return { serving, child };
}

/** The server's count of its scanning processes' CPU by phase (ms) and of the scans counted. */
async function scanPhaseCpu(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^berth_scan_process_cpu_seconds_total\{phase="(\w+)"\} (\S+)$/gm))
    out[m[1]!] = Number(m[2]) * 1000;
  out.scans = Number(/^berth_scan_process_scans_total (\S+)$/m.exec(text)?.[1] ?? 0);
  return out;
}

/** CPU ms per scan by phase between two `scanPhaseCpu` readings (and their sum, `all`). */
function phasesPerScan(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const scans = (b.scans ?? 0) - (a.scans ?? 0);
  const out: Record<string, number> = {};
  if (scans <= 0) return out;
  let all = 0;
  for (const [k, v] of Object.entries(b)) {
    if (k === 'scans') continue;
    out[k] = Math.round((v - (a[k] ?? 0)) / scans);
    all += out[k];
  }
  out.all = all;
  return out;
}

/**
 * Pull throughput of `clients` clients pulling a 4-layer image over and over, in windows that alternate
 * between no scan and scans of the bookworm image back to back in the server (one at a time, each
 * `POST …/scan` then its overview polled every 100 ms). A window with scans waits for its last scan to
 * end before the next window starts, so none spills over.
 */
async function pullImpact(
  berth: BerthProcess,
  opts: { quick: boolean; log: (s: string) => void },
): Promise<{ pulls: PullImpact; serverScans: number[] }> {
  const t: Target = { name: 'berth', url: berth.url, pid: berth.pid };
  const clients = 8;
  // Many short pairs rather than a few long ones: the VM's throughput swings by a third within one run
  // (1,114-1,623 MB/s without scans on the quiet machine), in swings that last longer than a pair, so
  // adjacent windows share it and the median of the pairs' ratios cancels most of it. At 3 s a window
  // holds one or two scans (~1.5 s each quiet).
  const windowSeconds = opts.quick ? 2 : 3;
  const pairs = opts.quick ? 4 : 10;
  const d = authedAgent({ connections: clients + 2 });
  try {
    const image = await pushImage(
      t,
      'bench/pulled',
      'v1',
      31,
      [0, 1, 2, 3].map((i) => blob(310 + i, 4 * MiB)),
      d,
    );
    const layer = bookwormLayer();
    const layerDigest = await pushBytes(t, 'bench/bookworm', layer, d);
    const config = configJson(32);
    const configDigest = await pushBytes(t, 'bench/bookworm', config, d);
    const manifest = imageManifest(
      configDigest,
      config.length,
      [{ digest: layerDigest, size: layer.length }],
      undefined,
      'application/vnd.oci.image.layer.v1.tar+gzip',
    );
    await putManifest(t, 'bench/bookworm', 'bookworm', manifest, d);
    const artifact = `/projects/bench/repositories/bookworm/artifacts/${sha256(manifest)}`;
    let polls = 0;
    const poll = async () => {
      polls++;
      await new Promise((r) => setTimeout(r, 100));
      return (await (await benchApi(berth.url, 'GET', `${artifact}?with_scan_overview=true`)).json()) as {
        scan_overview?: Record<string, { scan_status: string }>;
      };
    };
    const scanOnce = async (): Promise<number> => {
      const t0 = performance.now();
      await benchApi(berth.url, 'POST', `${artifact}/scan`);
      for (;;) {
        const a = await poll();
        const status = a.scan_overview?.[REPORT_MIME_TYPE]?.scan_status;
        if (status === 'Success') return (performance.now() - t0) / 1000;
        if (status && !['Pending', 'Running', 'Scheduled'].includes(status))
          throw new Error(`the scan ended ${status}: ${berth.log().slice(-2000)}`);
      }
    };
    // A first scan warms the server (the job kind, the database's pages) and checks the path works.
    const serverScans = [await scanOnce()];
    // What the serving thread spends on the polls alone (50 of them, no scan running): a slow scan
    // (nice 19 on a loaded machine) is polled more, so this share is reported apart.
    const servingMs = () => threadCpuMs(berth.pid).get(berth.pid)?.ms ?? 0;
    const idle0 = servingMs();
    for (let i = 0; i < 50; i++) await poll();
    const msPerPoll = (servingMs() - idle0) / 50;
    polls = 0;
    const cpu0 = threadCpuMs(berth.pid);
    const work0 = await workCounters(berth.url);
    const phases0 = await scanPhaseCpu(berth.url);
    for (let i = 0; i < 3; i++) serverScans.push(await scanOnce());
    const withoutPulls = median(serverScans.slice(-3));
    const scansUnderPulls: number[] = [];
    const pollsPerScan = polls / 3;
    const work1 = await workCounters(berth.url);
    const phaseCpuMsPerScan = phasesPerScan(phases0, await scanPhaseCpu(berth.url));
    const workPerScan = Object.fromEntries(
      (Object.keys(work0) as WorkCounter[]).map((k) => [k, (work1[k] - work0[k]) / 3]),
    ) as Record<WorkCounter, number>;
    const cpuMsPerScan = {
      serving: 0,
      scanThread: 0,
      others: 0,
      scanProcessNiced: 0,
      scanProcessNotNiced: 0,
    };
    for (const [tid, now] of threadCpuMs(berth.pid)) {
      const ms = (now.ms - (cpu0.get(tid)?.ms ?? 0)) / 3;
      const key = now.child
        ? now.nice > 0
          ? 'scanProcessNiced'
          : 'scanProcessNotNiced'
        : tid === berth.pid
          ? 'serving'
          : now.nice > 0
            ? 'scanThread'
            : 'others';
      cpuMsPerScan[key] += ms;
    }
    const servingPollingMs = pollsPerScan * msPerPoll;
    opts.log(
      `  CPU per scan (ms): ${JSON.stringify(cpuMsPerScan)}; of the serving thread's, ~${servingPollingMs.toFixed(0)} ms ` +
        `answered ${pollsPerScan.toFixed(0)} overview polls (${msPerPoll.toFixed(1)} ms each, measured without a scan); ` +
        `work per scan: ${JSON.stringify(workPerScan)}; scanning process CPU per scan by phase (ms): ` +
        JSON.stringify(phaseCpuMsPerScan),
    );
    const pull = () =>
      closedLoop(clients, windowSeconds, async () => {
        await pullImage(t, image, d);
      });
    // One window of pulls first, counted on neither side: pull throughput rises over the first windows of
    // a fresh server whatever the scans do (15410bd and e0dda22: 390-583 MB/s in window 1, 1,600-1,780 by
    // window 5), which the alternating order alone does not cancel.
    const warmUp = await pull();
    // With short windows the warm-up is two windows long (pull throughput rises over a fresh server's
    // first ~10 s).
    await pull();
    opts.log(
      `  warm-up pulls (not counted): ${((warmUp.ops * image.bytes) / MB / warmUp.seconds).toFixed(0)} MB/s`,
    );
    const without: number[] = [];
    const withScan: number[] = [];
    let scans = 0;
    const lockWaitsWith = { count: 0, ms: 0 };
    const lockWaitsWithout = { count: 0, ms: 0 };
    const cpuOver = { with: { child: 0, serving: 0, s: 0 }, without: { child: 0, serving: 0, s: 0 } };
    const underPulls0 = await scanPhaseCpu(berth.url);
    let underPulls: Record<string, number> = {};
    for (let i = 0; i < pairs * 2; i++) {
      // off, on, on, off, off, on, on, off: each side goes first as often.
      const scanning = i % 4 === 1 || i % 4 === 2;
      const w0 = await workCounters(berth.url);
      const c0 = processCpuMs(berth.pid);
      let stop = false;
      const scanner = scanning
        ? (async () => {
            while (!stop) {
              const seconds = await scanOnce();
              serverScans.push(seconds);
              scansUnderPulls.push(seconds);
              scans++;
            }
          })()
        : Promise.resolve();
      const r = await pull();
      const c1 = processCpuMs(berth.pid);
      const w1 = await workCounters(berth.url);
      stop = true;
      await scanner;
      if (scanning) underPulls = await scanPhaseCpu(berth.url);
      const over = scanning ? cpuOver.with : cpuOver.without;
      over.child += c1.child - c0.child;
      over.serving += c1.serving - c0.serving;
      over.s += r.seconds;
      if (r.errors) throw new Error(`${r.errors} pulls failed`);
      const mbps = (r.ops * image.bytes) / MB / r.seconds;
      (scanning ? withScan : without).push(mbps);
      const waits = { count: w1.lockWaits - w0.lockWaits, ms: w1.lockWaitMs - w0.lockWaitMs };
      const sum = scanning ? lockWaitsWith : lockWaitsWithout;
      sum.count += waits.count;
      sum.ms += waits.ms;
      opts.log(
        `  pulls ${scanning ? 'with a scan running' : 'without a scan'}: ${mbps.toFixed(0)} MB/s ` +
          `(lock waits ${waits.count}, ${waits.ms.toFixed(0)} ms; scanning process ` +
          `${((c1.child - c0.child) / r.seconds / 10).toFixed(1)} % of a core)`,
      );
    }
    // off, on | on, off | off, on | …: window 2k and 2k+1 are a pair, one of each side.
    const pairSlowdownsPercent = without.map((off, k) => (1 - withScan[k]! / off) * 100);
    const slowdownPercent = median(pairSlowdownsPercent);
    const phaseCpuMsPerScanUnderPulls = phasesPerScan(underPulls0, underPulls);
    const cores = (o: { child: number; serving: number; s: number }, k: 'child' | 'serving') =>
      o.s > 0 ? o[k] / 1000 / o.s : 0;
    const scanProcessCores = { with: cores(cpuOver.with, 'child'), without: cores(cpuOver.without, 'child') };
    const servingCores = { with: cores(cpuOver.with, 'serving'), without: cores(cpuOver.without, 'serving') };
    opts.log(
      `  scanning process ${(scanProcessCores.with * 100).toFixed(1)} % of a core over the windows with scans ` +
        `(${(scanProcessCores.without * 100).toFixed(1)} % without), serving thread ` +
        `${(servingCores.with * 100).toFixed(1)} / ${(servingCores.without * 100).toFixed(1)} %; ` +
        `per scan by phase under pulls (ms): ${JSON.stringify(phaseCpuMsPerScanUnderPulls)}; a scan takes ` +
        `${withoutPulls.toFixed(2)} s without pulls, ${scansUnderPulls.length ? median(scansUnderPulls).toFixed(2) : '?'} s under them`,
    );
    opts.log(
      `  slowdown ${slowdownPercent.toFixed(1)} % (median of ${pairs} pairs; pairs ` +
        `${Math.min(...pairSlowdownsPercent).toFixed(1)} … ${Math.max(...pairSlowdownsPercent).toFixed(1)} %: ` +
        `${pairSlowdownsPercent.map((x) => x.toFixed(1)).join(', ')})`,
    );
    return {
      pulls: {
        clients,
        imageBytes: image.bytes,
        windowSeconds,
        without,
        with: withScan,
        slowdownPercent,
        pairSlowdownsPercent,
        slowdownOfMediansPercent: (1 - median(withScan) / median(without)) * 100,
        scans,
        cpuMsPerScan,
        servingPollingMs,
        pollsPerScan,
        workPerScan,
        lockWaitsWith,
        lockWaitsWithout,
        phaseCpuMsPerScan,
        phaseCpuMsPerScanUnderPulls,
        scanProcessCores,
        servingCores,
        scanSeconds: { withoutPulls, underPulls: scansUnderPulls.length ? median(scansUnderPulls) : NaN },
      },
      serverScans,
    };
  } finally {
    await d.close();
  }
}

/** A deterministic pseudo-random generator, so every run imports the same database. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * `count` OSV records: the committed Debian:12 fixture plus generated ones. Debian:12 records (40 %) name
 * this machine's source packages and made-up ones, with dpkg versions; npm, PyPI, Go, Maven and Alpine
 * records use their own version shapes; ranges are introduced/fixed, several ranges, last_affected,
 * unfixed, or a versions list; most carry a CVSS v3.1 vector, some a v4 one or only a vendor word.
 */
export function generatedDatabase(count: number): Buffer {
  const random = rng(17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const status = readFileSync('/var/lib/dpkg/status', 'utf8');
  const sources = [...new Set([...status.matchAll(/^(?:Source|Package): (\S+)/gm)].map((m) => m[1]!))];
  const files = debian12Records().map((r) => ({ path: r.file, content: JSON.stringify(r.record) }));
  const ecosystems = [
    {
      name: 'Debian:12',
      share: 0.4,
      version: () => `${int(1, 9)}.${int(0, 40)}.${int(0, 20)}-${int(1, 5)}+deb12u${int(1, 9)}`,
      pkg: () => (random() < 0.5 ? pick(sources) : `src-${int(0, 5000)}`),
    },
    {
      name: 'npm',
      share: 0.2,
      version: () => `${int(0, 9)}.${int(0, 30)}.${int(0, 30)}`,
      pkg: () => `pkg-${int(0, 20000)}`,
    },
    {
      name: 'PyPI',
      share: 0.12,
      version: () => `${int(0, 5)}.${int(0, 30)}${random() < 0.2 ? `rc${int(1, 3)}` : ''}`,
      pkg: () => `py-${int(0, 8000)}`,
    },
    {
      name: 'Go',
      share: 0.1,
      version: () => `${int(0, 2)}.${int(0, 40)}.${int(0, 20)}`,
      pkg: () => `github.com/org${int(0, 500)}/mod${int(0, 20)}`,
    },
    {
      name: 'Maven',
      share: 0.1,
      version: () => `${int(1, 6)}.${int(0, 20)}.${int(0, 10)}${random() < 0.1 ? '.RELEASE' : ''}`,
      pkg: () => `org.example${int(0, 300)}:lib-${int(0, 30)}`,
    },
    {
      name: 'Alpine:v3.19',
      share: 0.08,
      version: () => `${int(1, 4)}.${int(0, 20)}.${int(0, 9)}-r${int(0, 9)}`,
      pkg: () => `apk-${int(0, 2000)}`,
    },
  ] as const;
  function int(lo: number, hi: number): number {
    return lo + Math.floor(random() * (hi - lo + 1));
  }
  const vectors = [
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N',
    'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N',
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
  ];
  for (let i = files.length; i < count; i++) {
    let r = random();
    const eco = ecosystems.find((e) => (r -= e.share) < 0) ?? ecosystems[0];
    const shape = random();
    const v1 = eco.version();
    const v2 = eco.version();
    const ranges =
      shape < 0.6
        ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: v1 }] }]
        : shape < 0.75
          ? [
              {
                type: 'ECOSYSTEM',
                events: [
                  { introduced: v1 },
                  { fixed: v2 },
                  { introduced: eco.version() },
                  { fixed: eco.version() },
                ],
              },
            ]
          : shape < 0.85
            ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: v1 }] }]
            : shape < 0.93
              ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }]
              : [];
    const id = `BENCH-${eco.name.split(':')[0]!.toUpperCase()}-${i}`;
    const sev = random();
    const record = {
      schema_version: '1.6.0',
      id,
      modified: '2025-06-01T00:00:00Z',
      aliases: [`CVE-2025-${10000 + i}`],
      summary: `generated advisory ${i}`,
      details: `A generated advisory for the bench, ${eco.name} record ${i}. `.repeat(3),
      ...(sev < 0.7
        ? { severity: [{ type: 'CVSS_V3', score: pick(vectors) }] }
        : sev < 0.75
          ? {
              severity: [
                { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
              ],
            }
          : { database_specific: { severity: pick(['LOW', 'MODERATE', 'HIGH', 'CRITICAL']) } }),
      affected: [
        {
          package: { ecosystem: eco.name, name: eco.pkg() },
          ranges,
          ...(ranges.length ? {} : { versions: [v1, v2] }),
        },
      ],
      references: [{ type: 'ADVISORY', url: `https://example.org/advisories/${id}` }],
    };
    files.push({ path: `${id}.json`, content: JSON.stringify(record) });
  }
  return zipArchive(files);
}
