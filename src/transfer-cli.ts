import type { BerthConfig } from './config/schema.js';
import { connect, type DbHandle } from './db/connect.js';
import { prepareSchema } from './db/migrate.js';
import { MetaStore } from './db/store.js';
import { systemClock } from './lib/clock.js';
import { AppError } from './lib/errors.js';
import { createLogger } from './lib/logger.js';
import type { StorageDriver } from './storage/driver.js';
import { createConfiguredDriver } from './storage/drivers.js';
import { openArchiveReader, openArchiveWriter } from './services/transfer/archive.js';
import { verifyArchive } from './services/transfer/archive-verify.js';
import type { TransferProgress } from './services/transfer/progress.js';
import { ProjectExporter } from './services/transfer/project-export.js';
import { ProjectImporter } from './services/transfer/project-import.js';
import { JobRuntime } from './jobs/runtime.js';
import { retentionStartJob } from './jobs/kinds/retention.start.js';
import { EventBus } from './services/events.js';
import { wireRegistry } from './services/registry/wire-registry.js';
import { SettingsService } from './services/settings/settings.js';
import { fixedSettings } from './services/settings/fixed-settings.js';
import { RobotService } from './services/access/robots.js';
import { RetentionPolicies } from './services/policies/retention/retention-policies.js';

/**
 * `berth export`, `berth verify` and `berth import` (docs/export.md): the instance is the one the config
 * names (its database and storage), whether or not a server runs on it. On a terminal progress is a bar;
 * otherwise every step is a JSON line on stdout, and so is the outcome.
 */

const tty = () => process.stdout.isTTY === true;

/** One line of output: a JSON object when not on a terminal, the text otherwise. */
export function say(text: string, json: Record<string, unknown>): void {
  if (tty()) console.log(text);
  else console.log(JSON.stringify(json));
}

function progressPrinter() {
  let last = 0;
  const print = (p: TransferProgress) => {
    if (!tty()) return console.log(JSON.stringify({ event: 'progress', ...p }));
    const now = Date.now();
    if (now - last < 100 && p.blobs < p.totalBlobs) return;
    last = now;
    const share = p.totalBytes === 0 ? 1 : p.bytes / p.totalBytes;
    const width = 30;
    const filled = Math.round(share * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    process.stdout.write(
      `\r${p.phase} ${bar} ${(share * 100).toFixed(0).padStart(3)}% ${p.blobs}/${p.totalBlobs} blobs, ${mib(p.bytes)}/${mib(p.totalBytes)} MiB${p.skipped ? `, ${p.skipped} already there` : ''}`,
    );
    if (p.blobs === p.totalBlobs) process.stdout.write('\n');
  };
  return print;
}

const mib = (n: number) => (n / 1048576).toFixed(1);

async function openInstance(
  config: BerthConfig,
): Promise<{ handle: DbHandle; store: MetaStore; storage: StorageDriver }> {
  const handle = connect({
    url: config.database.url,
    poolMax: 2,
    acquireTimeoutMs: config.database.pool.acquireTimeoutMs,
  });
  try {
    // Never migrates: these commands may run beside a serving Berth, whose schema they must match.
    await prepareSchema(handle.db as never, handle.dialect, false, createLogger('silent'));
    const storage = await createConfiguredDriver(config.storage);
    return { handle, store: new MetaStore(handle.db), storage };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Exit codes: 0 done, 1 refused (a message says why). */
async function refusals(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) {
      if (tty()) process.stdout.write('\n');
      console.error(`berth: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

export async function runExport(config: BerthConfig, project: string, to: string): Promise<number> {
  const { handle, store, storage } = await openInstance(config);
  try {
    return await refusals(async () => {
      const started = Date.now();
      const writer = await openArchiveWriter(to);
      const exporter = new ProjectExporter({ store, storage, clock: systemClock });
      const m = await exporter.export(project, writer, progressPrinter());
      const bytes = m.blobs.reduce((n, b) => n + b.size, 0);
      const artifacts = m.repositories.reduce((n, r) => n + r.artifacts.length, 0);
      say(
        `exported project ${project} to ${to}: ${m.repositories.length} repositories, ${artifacts} artifacts, ${m.blobs.length} blobs (${mib(bytes)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        {
          event: 'exported',
          project,
          to,
          repositories: m.repositories.length,
          artifacts,
          blobs: m.blobs.length,
          bytes,
        },
      );
      return 0;
    });
  } finally {
    storage.close?.();
    await handle.close();
  }
}

export async function runVerify(file: string): Promise<number> {
  return refusals(async () => {
    const { manifest, problems } = await verifyArchive(await openArchiveReader(file), progressPrinter());
    for (const p of problems) say(`problem: ${p}`, { event: 'problem', problem: p });
    if (problems.length > 0) {
      console.error(
        `berth: ${file} is not a sound export: ${problems.length} problem(s), first: ${problems[0]}`,
      );
      return 1;
    }
    say(
      `${file} is a sound export of project ${manifest.project.name}: ${manifest.blobs.length} blobs verified`,
      {
        event: 'verified',
        project: manifest.project.name,
        blobs: manifest.blobs.length,
      },
    );
    return 0;
  });
}

export async function runImport(config: BerthConfig, file: string, as: string | undefined): Promise<number> {
  const { handle, store, storage } = await openInstance(config);
  const clock = systemClock;
  const log = createLogger('silent');
  // The registry's rules (digest checks, quota, the GC fence) without a server: no job runs here, and
  // the pushes' events reach no subscriber (no webhook or replication fires for an import).
  const jobs = new JobRuntime({
    store,
    clock,
    log,
    config: { ...config.jobs, workers: 0 },
    schedules: false,
  });
  // The kinds an import schedules are known, so their payloads are checked; none runs in this process.
  jobs.queue.register(
    retentionStartJob({ trigger: () => Promise.reject(new Error('berth import runs no jobs')) }),
  );
  const core = await wireRegistry({
    config,
    store,
    storage,
    clock,
    log,
    events: new EventBus(() => {}),
    jobs,
  });
  try {
    return await refusals(async () => {
      const started = Date.now();
      const reader = await openArchiveReader(file);
      // The whole archive is checked before anything is written.
      const { manifest, problems } = await verifyArchive(reader, progressPrinter());
      if (problems.length > 0) {
        for (const p of problems) say(`problem: ${p}`, { event: 'problem', problem: p });
        throw new AppError('BAD_REQUEST', `${file} is not a sound export, nothing imported: ${problems[0]}`);
      }
      const settings = new SettingsService({ store, clock, fixed: fixedSettings(config) });
      const importer = new ProjectImporter({
        ...{ store, storage, clock, uploads: core.uploads, manifests: core.manifests, quota: core.quota },
        robots: new RobotService({ store, clock, prefix: config.auth.robotPrefix, settings }),
        retention: new RetentionPolicies({ store, clock, scheduler: jobs.scheduler }),
      });
      const r = await importer.import({ log }, reader, manifest, as, progressPrinter());
      for (const w of r.warnings) say(`warning: ${w}`, { event: 'warning', warning: w });
      for (const robot of r.robots)
        say(`robot ${robot.name} has a new secret (shown once): ${robot.secret}`, {
          event: 'robot',
          ...robot,
        });
      const artifacts = manifest.repositories.reduce((n, x) => n + x.artifacts.length, 0);
      say(
        `imported ${manifest.project.name} as project ${r.project}: ${manifest.repositories.length} repositories, ${artifacts} artifacts, ${manifest.blobs.length} blobs (${r.deduplicated} already held) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        {
          event: 'imported',
          project: r.project,
          repositories: manifest.repositories.length,
          artifacts,
          blobs: manifest.blobs.length,
          deduplicated: r.deduplicated,
        },
      );
      return 0;
    });
  } finally {
    await core.pulls.stop();
    storage.close?.();
    await handle.close();
  }
}
