import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function yamlFile(text: string): string {
  const file = join(dir, `berth-${files++}.yaml`);
  writeFileSync(file, text);
  return file;
}

const empty = yamlFile('');

/** Asserts loadConfig throws a ConfigError whose message names `key`. */
function assertConfigError(fn: () => unknown, key: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    if (typeof key === 'string')
      assert.ok(err.message.includes(key), `"${key}" not named in: ${err.message}`);
    else assert.match(err.message, key);
    return true;
  });
}

describe('loadConfig', () => {
  test('defaults: port 5000, ./data, SQLite and blobs inside the data dir', () => {
    const c = loadConfig({ env: {}, file: empty });
    const data = resolve('./data');
    assert.equal(c.server.port, 5000);
    assert.equal(c.server.host, '0.0.0.0');
    assert.equal(c.data.dir, './data');
    assert.equal(c.database.url, `sqlite:${join(data, 'berth.db')}`);
    assert.equal(c.database.pool.max, 10);
    assert.deepEqual(c.storage, { driver: 'filesystem', filesystem: { root: join(data, 'blobs') } });
    assert.equal(c.log.level, 'info');
  });

  test('server.workers: auto unless set; a number from BERTH_SERVER_WORKERS; 0 or a word named as wrong', () => {
    assert.equal(loadConfig({ env: {}, file: empty }).server.workers, 'auto');
    assert.equal(loadConfig({ env: { BERTH_SERVER_WORKERS: '3' }, file: empty }).server.workers, 3);
    assert.equal(loadConfig({ env: { BERTH_SERVER_WORKERS: 'auto' }, file: empty }).server.workers, 'auto');
    for (const bad of ['0', 'lots', '1.5', '257'])
      assert.throws(
        () => loadConfig({ env: { BERTH_SERVER_WORKERS: bad }, file: empty }),
        /server\.workers: must be "auto" or a whole number of processes from 1 to 256/,
      );
  });

  test('database.sqliteCacheMb: 2 MiB unless set; BERTH_DATABASE_SQLITE_CACHE_MB; 0 named as wrong', () => {
    assert.equal(loadConfig({ env: {}, file: empty }).database.sqliteCacheMb, 2);
    const env = { BERTH_DATABASE_SQLITE_CACHE_MB: '16' };
    assert.equal(loadConfig({ env, file: empty }).database.sqliteCacheMb, 16);
    assert.throws(
      () => loadConfig({ env: { BERTH_DATABASE_SQLITE_CACHE_MB: '0' }, file: empty }),
      /database\.sqliteCacheMb/,
    );
  });

  test('the database URL and blob root follow data.dir', () => {
    const c = loadConfig({ env: {}, file: empty, overrides: { data: { dir: '/srv/berth' } } });
    assert.equal(c.database.url, 'sqlite:/srv/berth/berth.db');
    assert.equal(c.storage.driver === 'filesystem' && c.storage.filesystem.root, '/srv/berth/blobs');
  });

  test('berth.example.yaml loads and equals the defaults', () => {
    const example = fileURLToPath(new URL('../../berth.example.yaml', import.meta.url));
    assert.deepEqual(loadConfig({ env: {}, file: example }), loadConfig({ env: {}, file: empty }));
  });

  test('precedence: defaults < YAML file < BERTH_* env < overrides', () => {
    const file = yamlFile(
      [
        'server:',
        '  port: 6000',
        '  host: 127.0.0.1',
        'log:',
        '  level: warn',
        'data:',
        '  dir: /from/yaml',
      ].join('\n'),
    );
    const fromFile = loadConfig({ env: {}, file });
    assert.equal(fromFile.server.port, 6000);
    assert.equal(fromFile.server.host, '127.0.0.1');
    assert.equal(fromFile.data.dir, '/from/yaml');

    const env = { BERTH_SERVER_PORT: '7000', BERTH_LOG_LEVEL: 'debug' };
    const fromEnv = loadConfig({ env, file });
    assert.equal(fromEnv.server.port, 7000);
    assert.equal(fromEnv.log.level, 'debug');
    assert.equal(fromEnv.server.host, '127.0.0.1', 'keys the env leaves alone keep the file value');

    const over = loadConfig({ env, file, overrides: { server: { port: 8000 } } });
    assert.equal(over.server.port, 8000);
    assert.equal(over.log.level, 'debug');
    assert.equal(over.server.host, '127.0.0.1');
    assert.equal(over.data.dir, '/from/yaml');
  });

  test('every documented env variable maps to its key, camelCase as SNAKE_CASE', () => {
    const c = loadConfig({
      file: empty,
      env: {
        BERTH_SERVER_HOST: '::1',
        BERTH_SERVER_EXTERNAL_URL: 'https://registry.example.com',
        BERTH_SERVER_TRUST_PROXY: 'true',
        BERTH_DATA_DIR: '/d',
        BERTH_DATABASE_URL: 'postgres://u@h:5432/db',
        BERTH_DATABASE_POOL_MAX: '3',
        BERTH_DATABASE_POOL_ACQUIRE_TIMEOUT_MS: '250',
        BERTH_STORAGE_DRIVER: 'filesystem',
        BERTH_STORAGE_FILESYSTEM_ROOT: '/blobs',
        BERTH_UNRELATED: 'ignored',
      },
    });
    assert.equal(c.server.host, '::1');
    assert.equal(c.server.externalUrl, 'https://registry.example.com');
    assert.equal(c.server.trustProxy, true);
    assert.equal(c.data.dir, '/d');
    assert.equal(c.database.url, 'postgres://u@h:5432/db');
    assert.deepEqual(c.database.pool, { max: 3, acquireTimeoutMs: 250 });
    assert.deepEqual(c.storage, { driver: 'filesystem', filesystem: { root: '/blobs' } });
  });

  test('storage.filesystem.root alone, from env or YAML, keeps the default driver', () => {
    const fromEnv = loadConfig({ file: empty, env: { BERTH_STORAGE_FILESYSTEM_ROOT: '/blobs' } });
    assert.deepEqual(fromEnv.storage, { driver: 'filesystem', filesystem: { root: '/blobs' } });
    const file = yamlFile('storage:\n  filesystem:\n    root: /yaml-blobs\n');
    assert.deepEqual(loadConfig({ env: {}, file }).storage, {
      driver: 'filesystem',
      filesystem: { root: '/yaml-blobs' },
    });
  });

  test('the memory driver is selected by env', () => {
    const c = loadConfig({ file: empty, env: { BERTH_STORAGE_DRIVER: 'memory' } });
    assert.deepEqual(c.storage, { driver: 'memory', memory: {} });
  });

  test('the s3 driver takes every storage.s3 key from BERTH_STORAGE_S3_*', () => {
    const c = loadConfig({
      file: empty,
      env: {
        BERTH_STORAGE_DRIVER: 's3',
        BERTH_STORAGE_S3_BUCKET: 'berth',
        BERTH_STORAGE_S3_REGION: 'eu-west-1',
        BERTH_STORAGE_S3_ENDPOINT: 'http://127.0.0.1:7480',
        BERTH_STORAGE_S3_FORCE_PATH_STYLE: 'true',
        BERTH_STORAGE_S3_ACCESS_KEY_ID: 'AK',
        BERTH_STORAGE_S3_SECRET_ACCESS_KEY: 'SK',
        BERTH_STORAGE_S3_PREFIX: 'reg/one',
        BERTH_STORAGE_S3_REDIRECT: 'true',
        BERTH_STORAGE_S3_IDLE_TIMEOUT_MS: '2500',
      },
    });
    assert.deepEqual(c.storage, {
      driver: 's3',
      s3: {
        bucket: 'berth',
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:7480',
        forcePathStyle: true,
        accessKeyId: 'AK',
        secretAccessKey: 'SK',
        prefix: 'reg/one',
        redirect: true,
        connectTimeoutMs: 3000,
        idleTimeoutMs: 2500,
        maxAttempts: 3,
      },
    });
  });

  test('the s3 driver names a missing bucket, a half key pair and a bad prefix', () => {
    assertConfigError(() => loadConfig({ file: empty, env: { BERTH_STORAGE_DRIVER: 's3' } }), /storage\.s3/);
    const env = { BERTH_STORAGE_DRIVER: 's3', BERTH_STORAGE_S3_BUCKET: 'berth' };
    assertConfigError(
      () => loadConfig({ file: empty, env: { ...env, BERTH_STORAGE_S3_ACCESS_KEY_ID: 'AK' } }),
      /storage\.s3\.secretAccessKey: accessKeyId and secretAccessKey go together/,
    );
    assertConfigError(
      () => loadConfig({ file: empty, env: { ...env, BERTH_STORAGE_S3_PREFIX: '/abs/' } }),
      /storage\.s3\.prefix/,
    );
  });

  test('BERTH_CONFIG names the file', () => {
    const file = yamlFile('server:\n  port: 6123\n');
    assert.equal(loadConfig({ env: { BERTH_CONFIG: file } }).server.port, 6123);
  });

  test('an unknown storage driver names the key and the valid drivers', () => {
    assertConfigError(
      () => loadConfig({ env: {}, file: yamlFile('storage:\n  driver: ftp\n') }),
      'storage.driver',
    );
    assertConfigError(
      () => loadConfig({ file: empty, env: { BERTH_STORAGE_DRIVER: 'ftp' } }),
      /storage\.driver.*filesystem.*memory/,
    );
  });

  test('a port that is not a number names server.port', () => {
    assertConfigError(() => loadConfig({ env: {}, file: yamlFile('server:\n  port: abc\n') }), 'server.port');
    assertConfigError(() => loadConfig({ file: empty, env: { BERTH_SERVER_PORT: 'abc' } }), 'server.port');
    assertConfigError(() => loadConfig({ file: empty, env: { BERTH_SERVER_PORT: '70000' } }), 'server.port');
  });

  test('an unknown key is named, nested or at the top', () => {
    assertConfigError(
      () => loadConfig({ env: {}, file: yamlFile('server:\n  prot: 5000\n') }),
      /server.*prot/,
    );
    assertConfigError(() => loadConfig({ env: {}, file: yamlFile('sever:\n  port: 5000\n') }), 'sever');
  });

  test("an option of another driver is named (filesystem options under storage.driver 'memory')", () => {
    const file = yamlFile('storage:\n  driver: memory\n  filesystem:\n    root: /x\n');
    assertConfigError(() => loadConfig({ env: {}, file }), /storage.*filesystem/);
  });

  test('other wrong values name their key', () => {
    assertConfigError(() => loadConfig({ file: empty, env: { BERTH_LOG_LEVEL: 'loud' } }), 'log.level');
    assertConfigError(
      () => loadConfig({ file: empty, env: { BERTH_DATABASE_URL: 'mysql://x' } }),
      'database.url',
    );
    assertConfigError(
      () => loadConfig({ file: empty, env: { BERTH_SERVER_TRUST_PROXY: 'yes' } }),
      'server.trustProxy',
    );
    assertConfigError(
      () => loadConfig({ file: empty, env: { BERTH_DATABASE_POOL_MAX: '0' } }),
      'database.pool.max',
    );
  });

  test('an unreadable or malformed YAML file is a ConfigError naming the file', () => {
    assertConfigError(() => loadConfig({ env: {}, file: join(dir, 'absent.yaml') }), 'absent.yaml');
    const bad = yamlFile('server: [unclosed\n');
    assertConfigError(() => loadConfig({ env: {}, file: bad }), bad);
  });
});

describe('berth CLI', { concurrency: true }, () => {
  const main = fileURLToPath(new URL('../main.ts', import.meta.url));
  const repo = fileURLToPath(new URL('../..', import.meta.url));

  function berth(args: string[], env: Record<string, string> = {}) {
    return new Promise<{ code: number | null; out: string }>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
        cwd: repo,
        env: {
          PATH: process.env.PATH ?? '',
          BERTH_CONFIG: empty,
          BERTH_DATA_DIR: join(dir, 'cli-data'),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      // Generous: tsx compiles the whole app graph on start, which is slow on a busy CI machine.
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.on('error', fail);
      child.on('exit', (code) => {
        clearTimeout(timer);
        done({ code, out });
      });
    });
  }

  test('serve --port notaport exits non-zero naming the option', async () => {
    const { code, out } = await berth(['serve', '--port', 'notaport']);
    assert.notEqual(code, 0);
    assert.match(out, /--port/);
    assert.match(out, /notaport/);
  });

  test('serve --workers 0 exits non-zero naming the option', async () => {
    const { code, out } = await berth(['serve', '--workers', '0']);
    assert.notEqual(code, 0);
    assert.match(out, /--workers/);
    assert.match(out, /"auto" or a whole number/);
  });

  test('a bad BERTH_STORAGE_DRIVER stops start-up with a message naming storage.driver', async () => {
    const { code, out } = await berth(['serve', '--port', '0'], { BERTH_STORAGE_DRIVER: 'ftp' });
    assert.equal(code, 2, out);
    assert.match(out, /storage\.driver/);
    assert.doesNotMatch(out, /\n\s+at /, 'no stack trace for a configuration error');
  });

  test('--help lists serve and migrate', async () => {
    const { code, out } = await berth(['--help']);
    assert.equal(code, 0);
    assert.match(out, /^\s+serve\b/m);
    assert.match(out, /^\s+migrate\b/m);
  });
});
