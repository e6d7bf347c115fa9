// The built web UI and a real Chromium to drive it: the UI is built once per source state into a temp
// dir (vite, as `npm run build` does), and Debian's Chromium is driven by playwright-core.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { run } from './exec.js';

export const chromiumPath = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';

/** Without the background-networking flags Chromium keeps dialing out on a closed network. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const root = fileURLToPath(new URL('../../', import.meta.url));
let built: Promise<string> | undefined;

/** A digest of every file under web/ and the lock file: the build's inputs. */
function sourceKey(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else hash.update(full).update(readFileSync(full));
    }
  };
  walk(join(root, 'web'));
  hash.update(readFileSync(join(root, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds web/ (as `npm run build` does) into a temp dir named after its sources, so the browser test files
 * of one run (separate processes) share one build; pass it as `ui.dir` to startBerth. A build is renamed
 * into place only when complete, so a concurrent test never serves half of one.
 */
export function builtWebUi(): Promise<string> {
  built ??= (async () => {
    const name = `berth-web-${sourceKey()}`;
    const out = join(tmpdir(), name);
    // Builds of older sources, untouched for a day, are not needed again.
    for (const old of readdirSync(tmpdir()).filter((n) => /^berth-web-[0-9a-f]{16}$/.test(n) && n !== name))
      if (Date.now() - statSync(join(tmpdir(), old)).mtimeMs > 86_400_000)
        rmSync(join(tmpdir(), old), { recursive: true, force: true });
    if (existsSync(join(out, 'index.html'))) {
      utimesSync(out, new Date(), new Date()); // in use: keep it from the clean-up above
      return out;
    }
    const staging = mkdtempSync(join(tmpdir(), 'berth-web-staging-'));
    try {
      await run(
        process.execPath,
        [
          join(root, 'node_modules/vite/bin/vite.js'),
          'build',
          '--config',
          join(root, 'web/vite.config.ts'),
          '--logLevel',
          'warn',
        ],
        { env: { ...process.env, BERTH_WEB_OUT_DIR: staging } },
      );
      renameSync(staging, out);
    } catch (err) {
      // Another test process finished the same build first: use that one.
      if (!existsSync(join(out, 'index.html'))) throw err;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return out;
  })();
  return built;
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (own cookies and storage): one per signed-in person. */
  context(options?: { phone?: boolean }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Launches Chromium headless. playwright-core gives each launch a new, empty --user-data-dir of its own
 * and removes it on close.
 */
export async function launchChromium(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async context(options = {}) {
      const ctx = await browser.newContext({
        viewport: options.phone ? { width: 390, height: 844 } : { width: 1366, height: 860 },
        isMobile: !!options.phone,
        hasTouch: !!options.phone,
      });
      ctx.setDefaultTimeout(15_000);
      contexts.push(ctx);
      return ctx;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
    },
  };
}

const shotDir = join(root, 'test-results', 'screenshots');

/** Saves a full-page screenshot under test-results/screenshots/ (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(shotDir, { recursive: true });
  const path = join(shotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * What the page showed when a step failed: a screenshot under test-results/ and the visible text of its
 * main area, appended to the assertion's message so CI's log says what the user would have seen.
 */
const apiTrail = new WeakMap<Page, string[]>();

/** Keeps the page's last 40 API exchanges (method, path, status, time), for failureEvidence. */
export function watchApi(page: Page): void {
  const trail: string[] = [];
  apiTrail.set(page, trail);
  const started = new WeakMap<object, number>();
  page.on('request', (req) => started.set(req, Date.now()));
  page.on('requestfinished', (req) => {
    void req
      .response()
      .then((res) => {
        const url = new URL(req.url());
        if (!url.pathname.startsWith('/api/') && !url.pathname.startsWith('/c/')) return;
        const ms = Date.now() - (started.get(req) ?? Date.now());
        trail.push(
          `${new Date().toISOString().slice(11, 23)} ${req.method()} ${url.pathname}${url.search} -> ${res?.status() ?? '?'} (${ms} ms)`,
        );
        if (trail.length > 40) trail.shift();
      })
      .catch(() => undefined); // the page closed first
  });
  page.on('requestfailed', (req) =>
    trail.push(`${req.method()} ${req.url()} failed: ${req.failure()?.errorText}`),
  );
}

export async function failureEvidence(page: Page, name: string): Promise<string> {
  const shot = await screenshot(page, name).catch((err: Error) => `no screenshot (${err.message})`);
  const text = await page
    .locator('main')
    .first()
    .innerText({ timeout: 2000 })
    .catch((err: Error) => `(no text: ${err.message})`);
  const trail = apiTrail.get(page)?.join('\n') ?? '(API calls not watched)';
  return `\n--- page at failure (${page.url()}; ${shot}) ---\n${text.slice(0, 3000)}\n--- last API calls ---\n${trail}\n---`;
}

/** The page's errors and failed requests, for assertion messages. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text()))
      errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

/**
 * Opens a page that edits a saved setting and makes a choice on it while the page's first read of that
 * setting (GET `path`) is held back, as a slow answer under load is: `choose` starts once the page has
 * asked; the answer goes through when `choose` is done, or as soon as `control` is not on the page (the
 * form waits for the saved setting before it offers a choice). Resolves once `choose` is done.
 */
export async function chooseWhileLoading(
  page: Page,
  open: () => Promise<unknown>,
  path: RegExp,
  control: Locator,
  choose: () => Promise<void>,
): Promise<void> {
  let asked!: () => void;
  const seen = new Promise<void>((r) => (asked = r));
  let release!: () => void;
  const answer = new Promise<void>((r) => (release = r));
  await page.route(path, async (route) => {
    if (route.request().method() === 'GET') {
      asked();
      await answer;
    }
    await route.continue();
  });
  try {
    await open();
    await seen;
    const chosen = choose();
    // Left waiting when `choose` is done first (the form did not wait): its timeout is not a failure.
    const waiting = control.waitFor({ state: 'detached' }).catch(() => undefined);
    await Promise.race([chosen, waiting]);
    release();
    await chosen;
  } finally {
    release();
    await page.unroute(path);
  }
}
