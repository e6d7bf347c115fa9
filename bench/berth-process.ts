import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { freePort } from '../test/helpers/ports.js';

/** The admin the benched Berth starts with (BERTH_ADMIN_PASSWORD); every bench request authenticates as it. */
export const benchAdmin = { username: 'admin', password: 'Bench-Admin-12345' } as const;
export const benchAuthorization = `Basic ${Buffer.from(`${benchAdmin.username}:${benchAdmin.password}`).toString('base64')}`;

/**
 * An undici Agent whose every request carries the bench admin's Basic credentials (distribution, which
 * runs without auth in the bench, ignores them), so workloads need no auth code of their own.
 */
export function authedAgent(options: Agent.Options): Dispatcher {
  return new Agent(options).compose(
    (dispatch) => (opts, handler) =>
      dispatch(
        {
          ...opts,
          headers: {
            ...(opts.headers as Record<string, string> | undefined),
            authorization: benchAuthorization,
          },
        },
        handler,
      ),
  );
}

/** A Harbor API call as the bench admin; any status of 300 or more throws with the answer. */
export async function benchApi(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${url}/api/v2.0${path}`, {
    method,
    headers: { authorization: benchAuthorization, 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

export interface BerthProcess {
  url: string;
  pid: number;
  dir: string;
  log(): string;
  /** This Berth's processes now: the one of --workers 1, or the primary then each worker. */
  pids(): number[];
  stop(): Promise<void>;
}

/** One Berth process's peak RSS over its whole life, recorded when the bench stops it. */
export interface ProcessPeak {
  /** What the process served, e.g. `rows and load run`, `workers: --workers 2`. */
  label: string;
  /** `process` (--workers 1), `primary`, or `worker N`. */
  role: string;
  pid: number;
  peakBytes: number;
}

/** Every Berth process the bench has stopped so far, in the order stopped. */
export const processPeaks: ProcessPeak[] = [];

const root = resolve(import.meta.dirname, '..');

/**
 * Starts the built Berth (`node dist/server/main.js serve`, the bundle; `dist/src/main.js`, tsc's
 * output, with BENCH_UNBUNDLED=1, e.g. for a CPU profile whose frames name our source files) as its own process on 127.0.0.1 and a free
 * port, with a temp data dir (SQLite + filesystem blobs) and the default log level (info), logging
 * to a file. `workers` is `--workers` (default 1). `env` adds to its environment. `cpuProfDir` adds `--cpu-prof` (the profile is written when Berth exits on SIGTERM).
 */
export async function startBerthProcess(
  options: {
    cpuProfDir?: string;
    env?: Record<string, string>;
    benchProject?: boolean;
    workers?: number;
    /** Node options before the script (e.g. `--trace-gc`, `--import <preload>`), for diagnosis. */
    nodeArgs?: string[];
    /** The script to run instead of this checkout's build (e.g. another checkout's, for an A/B run). */
    main?: string;
    /** Names the processes in `processPeaks` (default `berth`). */
    label?: string;
  } = {},
): Promise<BerthProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'production' };
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('BERTH_') && k !== 'NODE_OPTIONS') env[k] = v;
  env.BERTH_ADMIN_PASSWORD = benchAdmin.password;
  // One process unless a row asks for more: the rows compare one event loop with distribution.
  env.BERTH_SERVER_WORKERS = String(options.workers ?? 1);
  // BENCH_BERTH_ENV=KEY=VALUE[,KEY=VALUE...] sets Berth settings for an A/B run of a row (e.g.
  // BERTH_REGISTRY_PROXY_BACKLOG_MB=512 for the proxy-cache row); the BERTH_ variables of the bench's own
  // environment are not passed on.
  for (const pair of (process.env.BENCH_BERTH_ENV ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  Object.assign(env, options.env);
  const nodeArgs = [
    ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []),
    ...(options.nodeArgs ?? []),
  ];
  const logFile = join(dir, 'berth.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      options.main ??
        // BENCH_BERTH_MAIN=<other checkout>/dist/server/main.js runs this bench's rows against another
        // build (an A/B of the server with the same bench code and windows).
        process.env.BENCH_BERTH_MAIN ??
        join(root, process.env.BENCH_UNBUNDLED === '1' ? 'dist/src/main.js' : 'dist/server/main.js'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data',
      join(dir, 'data'),
    ],
    { stdio: ['ignore', fd, fd], env, cwd: dir },
  );
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const pids = () => [child.pid!, ...childrenOf(child.pid!)];
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const all = pids();
      all.forEach((pid, i) =>
        processPeaks.push({
          label: options.label ?? 'berth',
          role: i === 0 ? (all.length > 1 ? 'primary' : 'process') : `worker ${i}`,
          pid,
          peakBytes: lifetimePeakOf(pid),
        }),
      );
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    // <dir>/data/blobs/blobs/sha256/<xx>: the 256 folders holding the blobs, removed side by side.
    await removeDir(dir, 5);
  };
  // Generous: on a machine at load 20-30 a start takes 10-20 s.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      const text = log();
      await stop();
      throw new Error(`Berth exited during start-up:\n${text.slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`Berth did not answer on ${url} in time:\n${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // Pushes never create projects: the bench pushes into `bench/…`.
  if (options.benchProject === false) return { url, pid: child.pid!, dir, log, pids, stop };
  const created = await fetch(`${url}/api/v2.0/projects`, {
    method: 'POST',
    headers: { authorization: benchAuthorization, 'content-type': 'application/json' },
    body: JSON.stringify({ project_name: 'bench' }),
  });
  if (created.status !== 201) {
    await stop();
    throw new Error(`could not create the bench project: ${created.status} ${await created.text()}`);
  }
  return { url, pid: child.pid!, dir, log, pids, stop };
}

/**
 * Removes a folder and everything under it: the subtrees `parallelDepth` levels down by 16 `rm -rf`
 * processes at once (each file removal waits on the disk's journal, so one process removing 100,000+
 * files one by one takes many minutes on a busy machine), then the rest by one more.
 */
export function removeDir(dir: string, parallelDepth = 4): Promise<void> {
  const script =
    'find "$1" -mindepth "$2" -maxdepth "$2" -print0 | xargs -0 -r -P 16 -n 16 rm -rf --; rm -rf -- "$1"';
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', script, 'sh', dir, String(parallelDepth)], (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS), or 0 when gone. */
export function rssOf(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time a process and its children (the workers of `serve --workers N`) have used so far, in ms, from
 * /proc/<pid>/stat (utime + stime, in clock ticks of 10 ms); 0 when gone.
 */
export function cpuMsOf(pid: number): number {
  const one = (p: number) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return 0;
    }
  };
  return [pid, ...childrenOf(pid)].reduce((n, p) => n + one(p), 0);
}

/**
 * A process's read- and write-class system calls so far (read, readv, pread, recvmsg, ... and write, writev,
 * ...: socket and file alike; futex and epoll are not counted) and the bytes they moved, from
 * /proc/<pid>/io (all its threads); zeros when gone. A count the load does not change.
 */
export function ioCountsOf(
  pid: number,
  tid?: number,
): {
  reads: number;
  writes: number;
  readBytes: number;
  writtenBytes: number;
} {
  try {
    const text = readFileSync(tid === undefined ? `/proc/${pid}/io` : `/proc/${pid}/task/${tid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return {
      reads: field('syscr'),
      writes: field('syscw'),
      readBytes: field('rchar'),
      writtenBytes: field('wchar'),
    };
  } catch {
    return { reads: 0, writes: 0, readBytes: 0, writtenBytes: 0 };
  }
}

/**
 * Minor page faults of a process so far (all its threads; /proc/<pid>/stat field 10), 0 when gone: each
 * is a page of memory touched for the first time (or mapped again), a count the load does not change.
 */
export function minorFaultsOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[7]);
  } catch {
    return 0;
  }
}

/**
 * CPU time (ms) of a process's main thread alone (its event loop; a process's main thread has the
 * process's id as its thread id), without the worker threads beside it.
 */
export function mainThreadCpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * Time (ms) a thread of a process has spent runnable but waiting for a CPU (Linux schedstat's second
 * field): the time other threads took its CPU from it; the main thread when `tid` is the process's id.
 */
export function runQueueMsOf(pid: number, tid = pid): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return 0;
  }
}

/**
 * CPU time (ms) of each thread of a process (thread id → ms), from /proc/<pid>/task/<tid>/stat: Node's
 * threads carry no names, so a caller tells them apart by what they spent over a window (the webhooks row
 * takes the busiest thread beside the main one as the delivery thread).
 */
export function threadCpuMsOf(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids)
    try {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // the thread ended
    }
  return out;
}

/** The pids of a process's children (the workers of `serve --workers N`), from /proc. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The highest VmHWM read from each process before `sampleRss` reset it. */
const peakBeforeReset = new Map<number, number>();

/** A process's peak RSS since it started, in bytes, though `sampleRss` resets the kernel's mark per row. */
export function lifetimePeakOf(pid: number): number {
  return Math.max(peakBeforeReset.get(pid) ?? 0, rssOf(pid, 'VmHWM'));
}

/**
 * Resets the kernel's peak-RSS mark of a process (`5` to /proc/<pid>/clear_refs, Linux 4.0+), keeping the
 * old mark for `lifetimePeakOf`. False where that is not allowed.
 */
function resetPeak(pid: number): boolean {
  peakBeforeReset.set(pid, lifetimePeakOf(pid));
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * A process's peak RSS from now until stopped, in bytes: the kernel's own mark (VmHWM, reset at the
 * start), which no spike between two samples escapes; VmRSS is also sampled every `everyMs`, which is
 * all there is where the mark cannot be reset.
 */
export function sampleRss(pid: number, everyMs = 100): { stop(): { peak: number; samples: number } } {
  const exact = resetPeak(pid);
  let peak = rssOf(pid);
  let samples = 1;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
    samples++;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssOf(pid), exact ? rssOf(pid, 'VmHWM') : 0);
      return { peak, samples: samples + 1 };
    },
  };
}

/** The peak RSS of each of `pids` while `fn` runs, in bytes, in the order given. */
export async function peaksDuring<T>(pids: number[], fn: () => Promise<T>): Promise<[T, number[]]> {
  const samplers = pids.map((pid) => sampleRss(pid));
  try {
    const result = await fn();
    return [result, samplers.map((s) => s.stop().peak)];
  } catch (e) {
    for (const s of samplers) s.stop();
    throw e;
  }
}

/**
 * Berth's counters of work (its /metrics): SQL statements sent by the serving thread's connection, the
 * read cache's misses and drops, and the serving connection's waits for SQLite's write lock (held by the
 * delivery thread's commits, a scanning process's report), to count what a push or a scan costs rather than time
 * it.
 */
export async function workCounters(url: string): Promise<Record<WorkCounter, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    statements: value(/^berth_db_statements_total (\S+)$/m),
    misses: value(/^berth_read_cache_total\{result="misses"\} (\S+)$/m),
    drops: value(/^berth_read_cache_total\{result="drops"\} (\S+)$/m),
    lockWaits: value(/^berth_db_lock_waits_total (\S+)$/m),
    lockWaitMs: 1000 * value(/^berth_db_lock_wait_seconds_total (\S+)$/m),
  };
}

export type WorkCounter = 'statements' | 'misses' | 'drops' | 'lockWaits' | 'lockWaitMs';
