#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner. When PostgreSQL's tools are present
// it first starts one throwaway server for the whole run (BERTH_TEST_PG_URL); each test makes its own
// database on it. Usage: node scripts/test.mjs [path-filter ...]
// BERTH_TEST_DURATIONS=<file> writes the run's wall time per test file there, as JSON
// (scripts/test-durations-reporter.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const filters = process.argv.slice(2);
const requireAll = process.env.BERTH_REQUIRE_ALL === '1';

function find(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(find(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const files = [...find('src'), ...find('test')]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const port = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

let pg;
if (!process.env.BERTH_TEST_PG_URL) {
  if (has('initdb') && has('pg_ctl')) {
    const dir = mkdtempSync(join(tmpdir(), 'berth-pg-'));
    chmodSync(dir, 0o777);
    const asRoot = process.getuid?.() === 0;
    const run = (cmd, args) => {
      const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
      const r = spawnSync(c, a, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
    };
    const data = join(dir, 'data');
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const p = await port();
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      'start',
      '-o',
      `-p ${p} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300`,
    ]);
    pg = { dir, data, run };
    process.env.BERTH_TEST_PG_URL = `postgres://postgres@127.0.0.1:${p}/postgres`;
    console.log(`PostgreSQL for tests on port ${p}`);
  } else if (requireAll) {
    console.error('PostgreSQL (initdb, pg_ctl) is required: BERTH_REQUIRE_ALL=1');
    process.exit(1);
  } else {
    console.error(
      '\n*** PostgreSQL not found: suites run on SQLite only (install Debian package postgresql) ***\n',
    );
  }
}

const concurrency = process.env.BERTH_TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    ...(process.env.BERTH_TEST_DURATIONS
      ? [
          '--test-reporter=./scripts/test-durations-reporter.mjs',
          `--test-reporter-destination=${process.env.BERTH_TEST_DURATIONS}`,
        ]
      : []),
    `--test-concurrency=${concurrency}`,
    ...files,
  ],
  { stdio: 'inherit', env: process.env },
);
const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
if (pg) {
  try {
    pg.run('pg_ctl', ['-D', pg.data, '-m', 'immediate', 'stop']);
  } catch {
    // the server is gone with the temp dir either way
  }
  rmSync(pg.dir, { recursive: true, force: true });
}
process.exit(code);
