import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort } from './ports.js';

/** Debian's CNCF distribution 2.8 binary (package `docker-registry`). */
export const dockerRegistryBinary = process.env.BERTH_DOCKER_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface DockerRegistryOptions {
  /** Require HTTP basic auth with these users (written to a bcrypt htpasswd file). */
  htpasswd?: Record<string, string>;
  /** Log level of the registry (default info). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** Milliseconds to wait for `GET /v2/` to answer (default 15 s). */
  startTimeoutMs?: number;
  /** Lines appended to the config as they are (e.g. a `notifications:` section). */
  extraConfig?: string[];
}

export interface RunningDockerRegistry {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** host:port, for docker-style references. */
  host: string;
  /** Process id, e.g. to sample its RSS. */
  pid: number;
  /** Temp dir holding the config, storage root and log. */
  dir: string;
  /** The registry's log so far (stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts distribution (`docker-registry serve <config>`) on 127.0.0.1 and a free port, with filesystem
 * storage in a temp dir, deletes enabled and, optionally, basic auth from an htpasswd file.
 */
export async function startDockerRegistry(
  options: DockerRegistryOptions = {},
): Promise<RunningDockerRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-distribution-'));
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    `  level: ${options.logLevel ?? 'info'}`,
    '  fields: { service: registry }',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    // As in Debian's shipped /etc/docker/registry/config.yml.
    '  cache:',
    '    blobdescriptor: inmemory',
    '  maintenance:',
    '    uploadpurging: { enabled: false }',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
  ];
  if (options.htpasswd) {
    const file = join(dir, 'htpasswd');
    const entries = Object.entries(options.htpasswd).map(
      ([user, pw]) => `${user}:${bcrypt.hashSync(pw, 10)}`,
    );
    writeFileSync(file, entries.join('\n') + '\n', { mode: 0o600 });
    lines.push('auth:', '  htpasswd:', '    realm: basic-realm', `    path: ${file}`);
  }
  if (options.extraConfig) lines.push(...options.extraConfig);
  const configFile = join(dir, 'config.yml');
  writeFileSync(configFile, lines.join('\n') + '\n');

  const logFile = join(dir, 'registry.log');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(dockerRegistryBinary, ['serve', configFile], {
      stdio: ['ignore', fd, fd],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', () => undefined);
  const url = `http://127.0.0.1:${port}`;
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = readLog();
      await stop();
      throw new Error(`docker-registry exited during start-up:\n${log.slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      // 401 is the expected answer when auth is configured.
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const log = readLog();
      await stop();
      throw new Error(`docker-registry did not answer on ${url} in time:\n${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, host: `127.0.0.1:${port}`, pid: child.pid!, dir, log: readLog, stop };
}
