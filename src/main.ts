#!/usr/bin/env node
import cluster from 'node:cluster';
import { Command, InvalidArgumentError } from 'commander';
import type { BerthConfigInput } from './config/schema.js';
import { holdOldGenerationGrowth } from './lib/old-generation.js';
import { keepWasmOnBaseline } from './lib/wasm-baseline.js';
import { holdYoungGeneration } from './lib/young-generation.js';
import { berthVersion } from './version.js';

// Before anything heavy loads: the modules below are imported in the commands, after this.
const youngGeneration = holdYoungGeneration();
keepWasmOnBaseline();
holdOldGenerationGrowth();

interface CommonFlags {
  config?: string;
  data?: string;
  port?: number;
  host?: string;
  /** commander's `--no-migrate` sets this false. */
  migrate?: boolean;
  workers?: number | 'auto';
}

function overridesOf(flags: CommonFlags): BerthConfigInput {
  const o: BerthConfigInput = {};
  if (flags.data) o.data = { dir: flags.data };
  if (flags.port !== undefined || flags.host || flags.workers !== undefined) {
    o.server = {
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.host ? { host: flags.host } : {}),
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
    };
  }
  if (flags.migrate === false) o.database = { migrate: false };
  return o;
}

/** The config of a command; its module (and zod) loads here, after holdYoungGeneration. */
async function configOf(flags: CommonFlags) {
  const { loadConfig } = await import('./config/load.js');
  return loadConfig({ file: flags.config, overrides: overridesOf(flags) });
}

function portArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

/** `--workers`: the same rule as server.workers in config/schema.ts, without loading zod this early. */
function workersArg(value: string): number | 'auto' {
  if (value === 'auto') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('must be "auto" or a whole number of processes from 1 to 256');
  return n;
}

/** SIGINT/SIGTERM: close the app (jobs handed back, connections drained), then exit 0. */
function exitOnSignals(app: { logger: { info(o: object, m: string): void }; close(): Promise<void> }): void {
  const stop = async (signal: string) => {
    app.logger.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

const program = new Command()
  .name('berth')
  .description("Berth: a container registry with Harbor's API, in one process")
  .version(berthVersion);

program
  .command('serve', { isDefault: true })
  .description('serve the registry, API and UI (default command)')
  .option('-c, --config <file>', 'YAML config file (default: ./berth.yaml if present)')
  .option('-d, --data <dir>', 'data folder for the embedded SQLite database and blobs (default: ./data)')
  .option('-p, --port <port>', 'port to listen on (default: 5000)', portArg)
  .option('--host <host>', 'address to listen on (default: 0.0.0.0)')
  .option('--no-migrate', 'do not apply pending migrations; refuse to start unless the schema is current')
  .option(
    '-w, --workers <n>',
    'HTTP processes sharing the port: a number, or auto = one per core',
    workersArg,
  )
  .action(async (flags: CommonFlags) => {
    const config = await configOf(flags);
    // Loaded here so `--help` and `migrate` don't load the whole server.
    if (cluster.isWorker) return (await import('./workers/worker.js')).runWorker(config, youngGeneration);
    const { workerCount } = await import('./workers/count.js');
    const workers = workerCount(config.server.workers);
    if (workers > 1) return (await import('./workers/primary.js')).runPrimary(config, workers);
    const { buildApp } = await import('./app.js');
    const app = await buildApp(config);
    const url = await app.listen();
    youngGeneration.release();
    app.logger.info(
      { url, database: config.database.url.split(':')[0], storage: config.storage.driver },
      'Berth is serving',
    );
    exitOnSignals(app);
  });

program
  .command('worker')
  .description('run background jobs only (replication, GC, schedules); serves no HTTP')
  .option('-c, --config <file>', 'YAML config file (default: ./berth.yaml if present)')
  .option('-d, --data <dir>', 'data folder for the embedded SQLite database and blobs (default: ./data)')
  .option('--no-migrate', 'do not apply pending migrations; refuse to start unless the schema is current')
  .action(async (flags: CommonFlags) => {
    const config = await configOf(flags);
    if (config.jobs.workers === 0)
      throw new (await import('./config/load.js')).ConfigError(
        'jobs.workers is 0: a worker with no job slots does nothing',
      );
    const { buildApp } = await import('./app.js');
    const app = await buildApp(config);
    app.logger.info(
      { owner: app.jobs.worker?.owner, workers: config.jobs.workers },
      'Berth worker is running',
    );
    exitOnSignals(app);
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit (safe while other nodes start: they take turns)')
  .option('-c, --config <file>', 'YAML config file')
  .option('-d, --data <dir>', 'data folder')
  .action(async (flags: CommonFlags) => {
    const config = await configOf(flags);
    const { connect } = await import('./db/connect.js');
    const { migrateToLatest } = await import('./db/migrate.js');
    const handle = connect({
      url: config.database.url,
      poolMax: 2,
      acquireTimeoutMs: config.database.pool.acquireTimeoutMs,
    });
    try {
      const { applied } = await migrateToLatest(handle.db as never, handle.dialect);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await handle.close();
    }
  });

const vulndb = program.command('vulndb').description("the built-in scanner's offline vulnerability database");

vulndb
  .command('import <source>')
  .description("import OSV records from a zip laid out like osv.dev's all.zip, or a directory of .json files")
  .option('-c, --config <file>', 'YAML config file (default: ./berth.yaml if present)')
  .option('-d, --data <dir>', 'data folder for the embedded SQLite database (default: ./data)')
  .action(async (source: string, flags: CommonFlags) => {
    const config = await configOf(flags);
    const { runVulnDbImport } = await import('./vulndb-cli.js');
    process.exitCode = await runVulnDbImport(config, source);
  });

program
  .command('export <project>')
  .description(
    'write a project (artifacts, members, robots, policies) to a folder or a .tar; resumes an interrupted export',
  )
  .requiredOption('--to <dir|file.tar>', 'where to write: a folder, or a tar file when the name ends in .tar')
  .option('-c, --config <file>', 'YAML config file (default: ./berth.yaml if present)')
  .option('-d, --data <dir>', 'data folder for the embedded SQLite database and blobs (default: ./data)')
  .action(async (project: string, flags: CommonFlags & { to: string }) => {
    const config = await configOf(flags);
    process.exitCode = await (await import('./transfer-cli.js')).runExport(config, project, flags.to);
  });

program
  .command('verify <file>')
  .description(
    'check a project export: every blob against its digest, and the export manifest against the layouts',
  )
  .action(async (file: string) => {
    process.exitCode = await (await import('./transfer-cli.js')).runVerify(file);
  });

program
  .command('import <file>')
  .description('create a project from an export (folder or .tar), after verifying every digest in it')
  .option('--as <project>', "the name of the new project (default: the exported project's name)")
  .option('-c, --config <file>', 'YAML config file (default: ./berth.yaml if present)')
  .option('-d, --data <dir>', 'data folder for the embedded SQLite database and blobs (default: ./data)')
  .action(async (file: string, flags: CommonFlags & { as?: string }) => {
    const config = await configOf(flags);
    process.exitCode = await (await import('./transfer-cli.js')).runImport(config, file, flags.as);
  });

program.parseAsync().catch((err: unknown) => {
  // By name: their modules load lazily, and may not have loaded at all.
  if (err instanceof Error && (err.name === 'ConfigError' || err.name === 'SchemaVersionError')) {
    console.error(`berth: ${err.message}`);
    process.exit(2);
  }
  console.error(`berth: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
