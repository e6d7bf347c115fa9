// Set-up for the portal page tests: signing in through the form, and a repository of many artifacts.
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { connect } from '../../../src/db/connect.js';
import type { RunningBerth } from '../../helpers/berth.js';
import { needTools } from '../../helpers/tools.js';
import { launchChromium, type TestBrowser } from '../../helpers/web-ui.js';
import type { Creds } from './portal-fixtures.js';

/** Opens the portal in a new page and signs in through the form; resolves on the projects list. */
export async function signIn(ctx: BrowserContext, base: string, who: Creds): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(`${base}/harbor/projects`);
  await page.waitForURL(/\/account\/sign-in/);
  await page.getByLabel('Username or email').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/harbor\/projects$/);
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  return page;
}

/** Chromium launched, and a page signed in as `who` on the projects list. */
export async function signedInChromium(
  berth: RunningBerth,
  who: Creds,
): Promise<{ chrome: TestBrowser; page: Page }> {
  const chrome = await launchChromium();
  return { chrome, page: await signIn(await chrome.context(), berth.url, who) };
}

/** A test that needs Chromium: skipped loudly without it (fails under BERTH_REQUIRE_ALL=1). */
export function chromiumStep(name: string, fn: () => Promise<void>) {
  return test(name, async (t) => {
    if (!needTools(t, 'chromium')) return;
    await fn();
  });
}

/**
 * `count` tagged artifacts (t-00000, t-00001, …, pushed a millisecond apart) in repository `name` of an
 * existing project, inserted 500 rows a statement over a second connection to Berth's database: pushing
 * 10 000 manifests over /v2 takes minutes on a small machine, and the listing under test reads only
 * these rows.
 */
export async function seedArtifacts(berth: RunningBerth, name: string, count: number): Promise<void> {
  const project = await berth.app.store.projects.findByName(name.split('/')[0]!);
  if (!project) throw new Error(`no project for ${name}`);
  const start = Date.now() - count;
  const repo = await berth.app.store.repositories.ensure(project.id, name, new Date(start).toISOString());
  const { db, close } = connect({ url: berth.databaseUrl, poolMax: 1, acquireTimeoutMs: 30_000 });
  try {
    const rows = Array.from({ length: count }, (_, i) => {
      const manifest = JSON.stringify({ schemaVersion: 2, annotations: { n: String(i) } });
      return {
        repository_id: repo.id,
        digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`,
        media_type: 'application/vnd.oci.image.manifest.v1+json',
        artifact_type: 'application/vnd.oci.image.config.v1+json',
        manifest_size: manifest.length,
        size: manifest.length,
        subject_digest: null,
        config_digest: null,
        annotations: null,
        push_time: new Date(start + i).toISOString(),
        pull_time: null,
      };
    });
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const ids = await trx.insertInto('artifact').values(chunk).returning(['id']).execute();
        await trx
          .insertInto('tag')
          .values(
            ids.map(({ id }, j) => ({
              repository_id: repo.id,
              artifact_id: id,
              name: `t-${String(i + j).padStart(5, '0')}`,
              push_time: chunk[j]!.push_time,
              pull_time: null,
            })),
          )
          .execute();
      }
    });
  } finally {
    await close();
  }
}
