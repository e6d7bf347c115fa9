import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { run } from './exec.js';
import { freePort } from './ports.js';
import { hasTool, needTools, requireAll } from './tools.js';

/** The Debian packages (radosgw ceph-mon ceph-osd, which bring ceph-common and ceph-base) the server needs. */
export const cephTools = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph', 'monmaptool'];

/** True when the Ceph tools are installed; else skips the test loudly, or fails it under BERTH_REQUIRE_ALL=1. */
export function needS3Server(t: TestContext): boolean {
  return needTools(t, ...cephTools);
}

/**
 * For a test file that needs the server throughout: true when the Ceph tools are installed; else it fails
 * under BERTH_REQUIRE_ALL=1, or registers one skipped test named `label` with a loud message.
 */
export function s3ServerAvailable(label: string): boolean {
  const missing = cephTools.filter((t) => !hasTool(t));
  if (missing.length === 0) return true;
  const message = `MISSING TOOL(S): ${missing.join(', ')} — install radosgw ceph-mon ceph-osd (see .ci/run)`;
  if (requireAll) throw new Error(`${message}; BERTH_REQUIRE_ALL=1 forbids skipping`);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n`);
  test(label, { skip: message }, () => undefined);
  return false;
}

export interface RunningS3Server {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Creates a fresh bucket (a random name unless given) and returns its name. */
  createBucket(name?: string): Promise<string>;
  /** The `storage.s3` settings for a bucket of this server. */
  storageOptions(bucket: string): {
    bucket: string;
    region: string;
    endpoint: string;
    forcePathStyle: true;
    accessKeyId: string;
    secretAccessKey: string;
  };
  /** A client with the server's credentials, for a test to look into a bucket directly. */
  client(): S3Client;
  log(): string;
  /**
   * SIGSTOPs the gateway and waits until every one of its threads has stopped: connections are still
   * accepted (by the kernel) but nothing is answered.
   */
  pause(): Promise<void>;
  /** SIGCONTs the gateway after `pause()`. */
  resume(): void;
  stop(): Promise<void>;
}

/**
 * Starts a real single-node Ceph RADOS Gateway in a temp dir, every port on 127.0.0.1: one monitor with
 * cephx off, one OSD on memstore (nothing on disk), pools of size 1, and radosgw with the beast frontend.
 * It checks SigV4 signatures and speaks multipart, UploadPartCopy, ListObjectsV2 paging, ranged GET,
 * DeleteObjects and `If-None-Match: *` like S3. Up in about 10 s; all three daemons are killed by `stop()`
 * (and when the test process exits). One server per test file; one bucket per test or per Berth.
 */
export async function startS3Server(options: { startTimeoutMs?: number } = {}): Promise<RunningS3Server> {
  try {
    return await startS3ServerOnce(options);
  } catch {
    // Its ports are picked free and bound seconds later, once the monitor and OSD are up: another test may
    // take one meanwhile (radosgw then exits, or a stranger answers). Once more, on new ports.
    return startS3ServerOnce(options);
  }
}

async function startS3ServerOnce(options: { startTimeoutMs?: number }): Promise<RunningS3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-s3-'));
  for (const sub of ['run', 'log', 'mon/ceph-a', 'osd/ceph-0', 'rgw'])
    mkdirSync(join(dir, sub), { recursive: true });
  const monPort = await freePort();
  const rgwPort = await freePort();
  const fsid = randomUUID();
  const region = 'us-east-1';
  const accessKeyId = `BERTH${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(20).toString('base64url');
  const conf = join(dir, 'ceph.conf');
  writeFileSync(
    conf,
    [
      '[global]',
      `fsid = ${fsid}`,
      `mon host = v2:127.0.0.1:${monPort}`,
      'public addr = 127.0.0.1',
      'auth cluster required = none',
      'auth service required = none',
      'auth client required = none',
      'ms bind ipv6 = false',
      'osd pool default size = 1',
      'osd pool default min size = 1',
      'osd pool default pg num = 8',
      'osd pool default pgp num = 8',
      'osd pool default pg autoscale mode = off',
      'osd crush chooseleaf type = 0',
      'mon allow pool size one = true',
      'mon max pg per osd = 1000',
      'mon warn on pool no redundancy = false',
      // A shared machine's disk may be fuller than the monitor's default 30% free.
      'mon data avail crit = 1',
      'mon data avail warn = 2',
      `run dir = ${dir}/run`,
      `admin socket = ${dir}/run/$name.asok`,
      `log file = ${dir}/log/$name.log`,
      `pid file = ${dir}/run/$name.pid`,
      `keyring = ${dir}/keyring`,
      '[mon]',
      `mon data = ${dir}/mon/$cluster-$id`,
      `mon cluster log file = ${dir}/log/mon-cluster.log`,
      '[osd]',
      `osd data = ${dir}/osd/$cluster-$id`,
      'osd objectstore = memstore',
      'memstore device bytes = 4294967296',
      'osd max object name len = 460',
      'osd max object namespace len = 64',
      '[client]',
      // Without it the client side of radosgw and radosgw-admin keeps retrying the monitor handshake.
      'ms mon client mode = crc secure',
      `rgw frontends = beast endpoint=127.0.0.1:${rgwPort}`,
      `rgw data = ${dir}/rgw`,
      '',
    ].join('\n'),
  );

  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const logText = () => {
    const parts: string[] = [];
    for (const name of ['mon.a', 'osd.0', 'client.rgw', 'daemons']) {
      try {
        parts.push(`--- ${name}\n${readFileSync(join(dir, 'log', `${name}.log`), 'utf8').slice(-3000)}`);
      } catch {
        // not written
      }
    }
    return parts.join('\n');
  };
  const stop = async () => {
    process.removeListener('exit', killAll);
    const exits = children.map((c) =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => c.once('exit', () => resolve())),
    );
    killAll();
    await Promise.all(exits);
    rmSync(dir, { recursive: true, force: true });
  };
  const ceph = (cmd: string, args: string[], timeout = 30_000) =>
    run(cmd, ['-c', conf, ...args], { timeout, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  const daemon = (cmd: string, args: string[]): ChildProcess => {
    const fd = openSync(join(dir, 'log', 'daemons.log'), 'a');
    try {
      // -f keeps each daemon in the foreground, so this process owns it and can kill it.
      const child = spawn(cmd, ['-c', conf, '-f', ...args], { stdio: ['ignore', fd, fd] });
      child.once('error', () => undefined);
      children.push(child);
      return child;
    } finally {
      closeSync(fd);
    }
  };

  try {
    await ceph('monmaptool', [
      '--create',
      '--fsid',
      fsid,
      '--addv',
      'a',
      `[v2:127.0.0.1:${monPort}]`,
      join(dir, 'monmap'),
    ]);
    await ceph('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
    daemon('ceph-mon', ['-i', 'a']);
    await ceph('ceph', ['--connect-timeout', '20', 'osd', 'create']);
    await ceph('ceph-osd', ['--mkfs', '-i', '0']);
    daemon('ceph-osd', ['-i', '0']);
    const gateway = daemon('radosgw', ['-n', 'client.rgw']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead)
        throw new Error(`a Ceph daemon (${dead.spawnargs.slice(0, 1).join(' ')}) exited during start-up`);
      // radosgw answers an anonymous GET / with its bucket list; anything else on the port is a stranger.
      const up = await fetch(endpoint, { signal: AbortSignal.timeout(2000) }).then(
        async (r) => r.ok && (await r.text()).includes('ListAllMyBucketsResult'),
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`radosgw did not answer on ${endpoint} in time`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await ceph('radosgw-admin', [
      '-n',
      'client.rgw',
      'user',
      'create',
      '--uid',
      'berth',
      '--display-name',
      'Berth tests',
      '--access-key',
      accessKeyId,
      '--secret-key',
      secretAccessKey,
    ]);
    let client: S3Client | undefined;
    const server: RunningS3Server = {
      endpoint,
      region,
      accessKeyId,
      secretAccessKey,
      client() {
        client ??= new S3Client({
          region,
          endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId, secretAccessKey },
        });
        return client;
      },
      async createBucket(name = `berth-${randomBytes(6).toString('hex')}`) {
        await server.client().send(new CreateBucketCommand({ Bucket: name }));
        return name;
      },
      storageOptions(bucket) {
        return { bucket, region, endpoint, forcePathStyle: true, accessKeyId, secretAccessKey };
      },
      log: logText,
      async pause() {
        gateway.kill('SIGSTOP');
        await allThreadsStopped(gateway.pid!);
      },
      resume: () => gateway.kill('SIGCONT'),
      async stop() {
        gateway.kill('SIGCONT');
        client?.destroy();
        await stop();
      },
    };
    return server;
  } catch (err) {
    const log = logText();
    await stop();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
}

/**
 * A SIGSTOP wakes one thread of the process, which then stops the others: until it is scheduled, the
 * others go on serving. On a loaded machine that window let a request be answered after `kill` returned.
 * Waits until /proc shows every thread stopped (state T).
 */
async function allThreadsStopped(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = readdirSync(`/proc/${pid}/task`).map((tid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        // The state follows the command name, which is in parentheses and may itself hold spaces.
        return stat[stat.lastIndexOf(')') + 2];
      } catch {
        return 'T'; // the thread has exited
      }
    });
    if (states.every((s) => s === 'T' || s === 't')) return;
    if (Date.now() > deadline)
      throw new Error(`radosgw (${pid}) did not stop: thread states ${states.join('')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
