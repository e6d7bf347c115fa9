// `berth migrate` and start-up migrations as an operator runs them: several processes at once on one
// database, a node told not to migrate, and a node older than the database's schema.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { connect } from '../../../src/db/connect.js';
import { migrations } from '../../../src/db/migrations/index.js';
import { backends } from '../../helpers/berth.js';
import { run, runFailing } from '../../helpers/exec.js';
import { createDatabase } from '../../helpers/postgres.js';

const main = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../..', import.meta.url));

for (const backend of backends()) {
  describe(`berth migrate on ${backend}`, () => {
    let dir: string;
    let url: string;
    const known = Object.keys(migrations(backend)).sort();
    const env = () => ({
      PATH: process.env.PATH ?? '',
      BERTH_DATABASE_URL: url,
      BERTH_ADMIN_PASSWORD: 'Berth-Test-12345',
      BERTH_LOG_LEVEL: 'warn',
    });
    const berth = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', main, ...args, '--data', dir], {
        cwd: repo,
        env: env(),
        timeout: 120_000,
      });
    const berthFails = (...args: string[]) =>
      runFailing(process.execPath, ['--import', 'tsx', main, ...args, '--data', dir], {
        cwd: repo,
        env: env(),
        timeout: 120_000,
      });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-migrate-'));
      url =
        backend === 'postgres'
          ? await createDatabase(process.env.BERTH_TEST_PG_URL!)
          : `sqlite:${join(dir, 'berth.db')}`;
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test('a node told not to migrate refuses an unmigrated database and says to run berth migrate', async () => {
      const failed = await berthFails('serve', '--no-migrate', '--port', '0');
      assert.equal(failed.code, 2);
      assert.match(failed.stderr, /^berth: the database schema lacks \d+ migration\(s\)/m);
      assert.match(failed.stderr, /run `berth migrate` once, then start this node/);
      assert.doesNotMatch(failed.stderr, /\n\s+at /, 'an operator message, not a stack trace');
    });

    test('three `berth migrate` started at once apply each migration exactly once', async () => {
      const outs = await Promise.all([berth('migrate'), berth('migrate'), berth('migrate')]);
      const applied = outs.flatMap((o) => /^applied: (.*)$/m.exec(o.stdout)?.[1]?.split(', ') ?? []).sort();
      assert.deepEqual(applied, known);
      assert.match((await berth('migrate')).stdout, /database is up to date/);
    });

    test('a node older than the schema refuses to start, saying to upgrade it', async () => {
      const handle = connect({ url, poolMax: 1, acquireTimeoutMs: 5000 });
      try {
        await sql`insert into berth_migration (name, applied_at) values ('9999_from_a_newer_berth', 'x')`.execute(
          handle.db,
        );
      } finally {
        await handle.close();
      }
      for (const command of [['serve', '--port', '0'], ['migrate']]) {
        const failed = await berthFails(...command);
        assert.equal(failed.code, 2);
        assert.match(
          failed.stderr,
          new RegExp(
            `^berth: the database schema is at migration 9999_from_a_newer_berth but this Berth knows up to ${known.at(-1)}: upgrade Berth on this node`,
            'm',
          ),
        );
      }
    });
  });
}
