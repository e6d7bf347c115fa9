import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';

const INDEX = '<!doctype html><title>Berth</title><div id="root"></div>';
const ASSET = 'console.log("berth ui");';

/** A stand-in bundle with the layout vite builds: index.html, hashed assets/, public files. */
function fakeBundle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-Ab12Cd34.js'), ASSET);
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

/** A raw GET, so a path like /../x reaches the server unnormalised. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const backend of backends()) {
  describe(`web UI serving (${backend})`, () => {
    let berth: RunningBerth;
    let bundle: string;
    before(async () => {
      bundle = fakeBundle();
      berth = await startBerth({ backend, overrides: { ui: { dir: bundle } } });
    });
    after(async () => {
      await berth.close();
      rmSync(bundle, { recursive: true, force: true });
    });

    test('/ answers the app shell, revalidated on every load', async () => {
      const res = await fetch(`${berth.url}/`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.equal(await res.text(), INDEX);
    });

    test('deep links of the browser router get the app shell (SPA fallback)', async () => {
      for (const path of [
        '/harbor/projects',
        '/harbor/projects/3/repositories/a%2Fb',
        '/account/sign-in?x=1',
      ]) {
        const res = await fetch(berth.url + path);
        assert.equal(res.status, 200, path);
        assert.equal(await res.text(), INDEX, path);
      }
    });

    test('hashed assets are cached for a year; a changed file gets a 304 only when its ETag matches', async () => {
      const res = await fetch(`${berth.url}/assets/index-Ab12Cd34.js`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(await res.text(), ASSET);
      const etag = res.headers.get('etag');
      assert.ok(etag);
      const again = await fetch(`${berth.url}/assets/index-Ab12Cd34.js`, {
        headers: { 'if-none-match': etag },
      });
      assert.equal(again.status, 304);
      const other = await fetch(`${berth.url}/assets/index-Ab12Cd34.js`, {
        headers: { 'if-none-match': '"x"' },
      });
      assert.equal(other.status, 200);
      await other.arrayBuffer();
      const icon = await fetch(`${berth.url}/favicon.svg`);
      assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
      assert.equal(icon.headers.get('cache-control'), 'no-cache');
      await icon.arrayBuffer();
    });

    test('a missing asset is a 404, not the app shell', async () => {
      const res = await fetch(`${berth.url}/assets/index-gone.js`);
      assert.equal(res.status, 404);
      assert.doesNotMatch(await res.text(), /<div id="root">/);
    });

    test('a rebuilt bundle is served without a restart', async () => {
      writeFileSync(join(bundle, 'assets', 'index-New98765.js'), 'console.log("v2");');
      const asset = await fetch(`${berth.url}/assets/index-New98765.js`);
      assert.equal(asset.status, 200);
      assert.equal(await asset.text(), 'console.log("v2");');
      const shell = INDEX.replace('<title>Berth</title>', '<title>Berth 2</title>');
      writeFileSync(join(bundle, 'index.html'), shell);
      try {
        const res = await fetch(`${berth.url}/harbor/projects`);
        assert.equal(await res.text(), shell);
      } finally {
        writeFileSync(join(bundle, 'index.html'), INDEX);
      }
    });

    test('paths outside the bundle are never served', async () => {
      for (const path of [
        '/../../../../etc/passwd',
        '/assets/../../../../etc/passwd',
        '/%2e%2e/%2e%2e/etc/passwd',
      ]) {
        const res = await rawGet(berth.url, path);
        assert.doesNotMatch(res.body, /root:/, path);
      }
    });

    test('the fallback never shadows the registry, the API, the token service, login, health or metrics', async () => {
      const v2 = await fetch(`${berth.url}/v2/`);
      assert.doesNotMatch(v2.headers.get('content-type') ?? '', /html/);
      assert.ok(v2.headers.get('docker-distribution-api-version'));
      await v2.arrayBuffer();
      for (const path of [
        '/api/v2.0/no-such-thing',
        '/api',
        '/service/nothing',
        '/c/nothing',
        '/metrics/x',
      ]) {
        const res = await fetch(berth.url + path);
        assert.equal(res.status, 404, path);
        assert.doesNotMatch(res.headers.get('content-type') ?? '', /html/, path);
        const body = (await res.json()) as { errors: { code: string }[] };
        assert.equal(body.errors[0]?.code, 'NOT_FOUND', path);
      }
      const post = await fetch(`${berth.url}/harbor/projects`, { method: 'POST', body: '{}' });
      assert.equal(post.status, 404);
      await post.arrayBuffer();
      const health = await fetch(`${berth.url}/health`);
      assert.match(health.headers.get('content-type') ?? '', /json/);
      await health.arrayBuffer();
      const metrics = await fetch(`${berth.url}/metrics`);
      assert.match(await metrics.text(), /berth_http_request_duration_seconds/);
    });
  });
}

describe('web UI not built', () => {
  test('the shell route explains how to build it; the API and registry still answer', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'berth-ui-empty-'));
    const berth = await startBerth({ overrides: { ui: { dir: empty } } });
    try {
      const res = await fetch(`${berth.url}/harbor/projects`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /npm run build/);
      const v2 = await fetch(`${berth.url}/v2/`);
      assert.doesNotMatch(v2.headers.get('content-type') ?? '', /html/);
      await v2.arrayBuffer();
    } finally {
      await berth.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
