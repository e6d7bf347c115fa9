import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testAdmin } from './berth.js';
import { freePort } from './ports.js';

/**
 * Berth as a real child process (`node --import tsx src/main.ts serve`), so a test can SIGKILL it
 * mid-request or SIGTERM it and watch it shut down. For in-process servers use `startBerth()`.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const mainTs = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface SpawnOptions {
  /** The data folder (SQLite file `berth.db` and filesystem blobs); reuse it to restart. */
  dataDir: string;
  /** A PostgreSQL URL; SQLite in `dataDir` when omitted. */
  databaseUrl?: string;
  /** Milliseconds to wait for `GET /health` = 200 (default 30 s). */
  startTimeoutMs?: number;
  logLevel?: string;
  /** HTTP processes (`--workers`); default 1, so a test gets one process whatever the machine's cores. */
  workers?: number;
  /** Extra BERTH_* settings, e.g. { BERTH_JOBS_LEASE_SECONDS: '2' }. */
  env?: Record<string, string>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BerthProcess {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  pid: number;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  /** False once the process has exited. */
  readonly running: boolean;
  /** Sends `signal` and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM, then SIGKILL if it is still running after `graceMs`; idempotent. */
  stop(graceMs?: number): Promise<Exit>;
  /** The last few KiB of the process's stdout and stderr, for failure messages. */
  output(): string;
}

const OUTPUT_TAIL = 16 * 1024;
const PORT_ATTEMPTS = 3;

/** Starts `berth serve` on 127.0.0.1 and a free port; resolves once `/health` answers 200. */
export async function spawnBerth(options: SpawnOptions): Promise<BerthProcess> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      return await spawnOn(port, options);
    } catch (err) {
      lastError = err as Error;
      // Another process may have taken the port between freePort() and listen(); try another one.
      if (!/EADDRINUSE/.test(lastError.message)) throw lastError;
    }
  }
  throw lastError!;
}

async function spawnOn(port: number, options: SpawnOptions): Promise<BerthProcess> {
  // Only the settings given here: the test runner's own BERTH_* variables must not leak into the server.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BERTH_')),
  );
  env.BERTH_LOG_LEVEL = options.logLevel ?? 'warn';
  env.BERTH_ADMIN_PASSWORD = testAdmin.password;
  env.BERTH_SERVER_WORKERS = String(options.workers ?? 1);
  // Scans at full speed: the suite keeps both cores busy, so the default would hold every scan back
  // (scanning.cpuShareWhenBusy; its own tests set it).
  env.BERTH_SCANNING_CPU_SHARE_WHEN_BUSY = '1';
  // Deliveries at the process's priority, for the same reason: at SCHED_IDLE (the default) a delivery
  // thread on cores the suite keeps busy waits for its hand-over (webhooks.deliveryPriority; its own
  // tests cover it: src/services/webhooks/delivery-thread.test.ts).
  env.BERTH_WEBHOOKS_DELIVERY_PRIORITY = 'normal';
  Object.assign(env, options.env);
  if (options.databaseUrl) env.BERTH_DATABASE_URL = options.databaseUrl;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      mainTs,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data',
      options.dataDir,
    ],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<Exit>((resolve) => {
    // 'close' rather than 'exit': the output is complete by then.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const url = `http://127.0.0.1:${port}`;
  const proc = handleOf(child, url, exited, () => tail);
  try {
    await waitHealthy(url, exited, options.startTimeoutMs ?? 30_000, () => ownsListener(child.pid!, port));
  } catch (err) {
    await proc.stop(0);
    throw new Error(`${(err as Error).message}\n--- berth output ---\n${tail}`);
  }
  return proc;
}

function handleOf(
  child: ChildProcess,
  url: string,
  exited: Promise<Exit>,
  output: () => string,
): BerthProcess {
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const kill = async (signal: NodeJS.Signals) => {
    if (!done) child.kill(signal);
    return exited;
  };
  return {
    url,
    pid: child.pid!,
    exited,
    get running() {
      return !done;
    },
    kill,
    async stop(graceMs = 5000) {
      if (done) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    output,
  };
}

/**
 * Whether `pid` (or one of its children: `--workers`) holds the socket listening on 127.0.0.1:`port`. Another
 * test's server may take the port between freePort() and this one's listen, and then it answers /health: the
 * requests that follow went to it (seen once in CI: a replication execution "not found" after a restart).
 * Linux only; elsewhere (no /proc) it cannot tell, and says yes.
 */
function ownsListener(pid: number, port: number): boolean {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return true;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set(
    table
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[1] === local && f[3] === '0A')
      .map((f) => f[9]),
  );
  const pids = [String(pid)];
  try {
    pids.push(...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean));
  } catch {
    // gone: it holds nothing
  }
  for (const p of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${p}/fd/${fd}`));
        if (m && inodes.has(m[1])) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}

async function waitHealthy(
  url: string,
  exited: Promise<Exit>,
  timeoutMs: number,
  ours: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone: Exit | undefined;
  void exited.then((e) => {
    gone = e;
  });
  while (Date.now() < deadline) {
    if (gone) throw new Error(`berth exited during start-up (code ${gone.code}, signal ${gone.signal})`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status === 200 && ours()) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`berth at ${url} was not healthy within ${timeoutMs} ms`);
}
