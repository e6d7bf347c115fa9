import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { deepArray, digestOfPath, gzipBombChart, latencyProbe, storedFiles } from '../../helpers/hostile.js';
import {
  assertOciError,
  blobOf,
  body,
  descriptorOf,
  digestOf,
  makeImage,
  manifestOf,
  mediaTypes,
  RegistryClient,
  type Manifest,
} from '../../helpers/registry-client.js';

const chartConfig = 'application/vnd.cncf.helm.config.v1+json';
const chartLayer = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const depth = 100_000;

/** A one-layer manifest over `config` and `layer` blobs of the given media types, whatever the bytes. */
function oneLayer(configBytes: Buffer, configType: string, layerBytes: Buffer, layerType: string): Manifest {
  const config = blobOf(configBytes, configType);
  const layer = blobOf(layerBytes, layerType);
  return manifestOf(
    {
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: descriptorOf(config),
      layers: [descriptorOf(layer)],
    },
    [config, layer],
  );
}

/** A chart manifest whose chart layer is `layerBytes`. */
const chartWith = (layerBytes: Buffer) =>
  oneLayer(Buffer.from(`{"name":"c","version":"${Math.random()}"}`), chartConfig, layerBytes, chartLayer);

/** An image whose config JSON is `configText` (not necessarily sane). */
const imageWithConfig = (configText: string) =>
  oneLayer(
    Buffer.from(configText),
    mediaTypes.ociConfig,
    Buffer.from(`layer ${Math.random()}`),
    mediaTypes.ociLayer,
  );

/**
 * A PUT written as a blocking client does: the whole body goes out before the answer is read, and a
 * write that fails (EPIPE, ECONNRESET: the server closed early) fails the request.
 */
function writeFirst(
  url: string,
  path: string,
  headers: Record<string, string>,
  payload: Buffer,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    socket.pause();
    socket.on('error', reject);
    const head = Object.entries({ ...headers, host: `${hostname}:${port}`, 'content-length': payload.length })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`PUT ${path} HTTP/1.1\r\n${head}\r\n`);
    socket.write(payload, (err) => {
      if (err) return reject(err);
      socket.on('data', (c: Buffer) => {
        received.push(c);
        const text = Buffer.concat(received).toString('latin1');
        const split = text.indexOf('\r\n\r\n');
        if (split < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(text.slice(0, split))?.[1] ?? 0);
        if (text.length - split - 4 < length) return;
        socket.destroy();
        resolve({ status: Number(text.slice(9, 12)), body: text.slice(split + 4, split + 4 + length) });
      });
      socket.resume();
    });
  });
}

for (const backend of backends()) {
  describe(`hostile content [${backend}]`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let client: RegistryClient;
    const repo = 'p/hostile';

    before(async () => {
      berth = await startBerth({
        backend,
        overrides: { auth: { throttle: { maxFailures: 3, windowSeconds: 300 } } },
      });
      api = new HarborApi(berth.url);
      client = new RegistryClient(berth.url);
      await api.expect(201, 'POST', '/projects', { project_name: 'p' });
    });
    after(async () => {
      const closing = berth.close();
      berth.app.server.server.closeAllConnections();
      await closing;
    });

    const putRaw = (r: string, ref: string, bytes: Buffer, type: string) =>
      client.fetch(`/v2/${r}/manifests/${ref}`, {
        method: 'PUT',
        headers: { 'content-type': type },
        body: body(bytes),
      });
    const known = (digest: string) => storedFiles(berth.dataDir).some((p) => digestOfPath(p) === digest);

    test('an index whose platform nests 100,000 levels is refused with 400 and nothing is stored', async () => {
      const child = makeImage();
      await client.pushImage(repo, child);
      for (const field of ['platform', 'annotations']) {
        const text =
          field === 'platform'
            ? `{"architecture":"amd64","os":"linux","features":${deepArray(depth)}}`
            : `{"a":"b","x":${deepArray(depth)}}`;
        const bytes = Buffer.from(
          `{"schemaVersion":2,"mediaType":"${mediaTypes.ociIndex}","manifests":[` +
            `{"mediaType":"${child.mediaType}","digest":"${child.digest}","size":${child.bytes.length},"${field}":${text}}]}`,
        );
        const res = await putRaw(repo, `deep-${field}`, bytes, mediaTypes.ociIndex);
        await assertOciError(res, 400, 'MANIFEST_INVALID');
        assert.equal(known(digestOf(bytes)), false, 'the refused manifest is not in storage');
      }
    });

    test('an index naming a missing child answers 400 MANIFEST_BLOB_UNKNOWN and stores nothing', async () => {
      const present = makeImage();
      await client.pushImage(repo, present);
      const absent = makeImage();
      const bytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: mediaTypes.ociIndex,
          manifests: [descriptorOf(present), descriptorOf(absent)],
        }),
      );
      const res = await putRaw(repo, 'missing-child', bytes, mediaTypes.ociIndex);
      await assertOciError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
      assert.equal(known(digestOf(bytes)), false, 'the refused index is not in storage');
    });

    test('a config nesting Env and history 100,000 deep never takes the repository pages down', async () => {
      const r = 'p/deepconfig';
      const sane = makeImage();
      await client.pushImage(r, sane, 'sane');
      const deep = imageWithConfig(
        `{"architecture":"amd64","os":"linux","config":{"Env":${deepArray(depth)}},"history":${deepArray(depth)}}`,
      );
      for (const b of deep.blobs) await client.pushBlob(r, b);
      const res = await putRaw(r, 'deep', deep.bytes, deep.mediaType);
      await res.arrayBuffer();
      assert.ok(res.status === 201 || res.status === 400, `push answered ${res.status}`);
      const base = '/projects/p/repositories/deepconfig/artifacts';
      const list = await api.expect<{ digest: string; extra_attrs: Record<string, unknown> }[]>(
        200,
        'GET',
        `${base}?with_tag=true&with_label=true&with_accessory=true&page_size=100`,
      );
      assert.ok(
        list.body.some((a) => a.digest === sane.digest),
        'the sane artifact is still listed',
      );
      await api.expect(200, 'GET', `/projects/p/repositories?page_size=100`);
      await api.expect(200, 'GET', `${base}/sane`);
      if (res.status === 201) {
        const one = await api.expect<{ extra_attrs: Record<string, unknown> }>(200, 'GET', `${base}/deep`);
        assert.equal(one.body.extra_attrs.config, undefined, 'the unparseable config is left empty');
        await api.expectError(404, 'NOT_FOUND', 'GET', `${base}/deep/additions/build_history`);
      }
      await api.expect(200, 'GET', `${base}/sane/additions/build_history`);
    });

    test('a config larger than the parse bound leaves its fields empty, the page answers 200', async () => {
      const r = 'p/bigconfig';
      const big = imageWithConfig(
        JSON.stringify({ architecture: 'amd64', os: 'linux', pad: 'x'.repeat(5 * 1024 * 1024) }),
      );
      await client.pushImage(r, big, 'big');
      const one = await api.expect<{ extra_attrs: Record<string, unknown> }>(
        200,
        'GET',
        '/projects/p/repositories/bigconfig/artifacts/big',
      );
      assert.deepEqual(one.body.extra_attrs, {});
      await api.expectError(
        404,
        'NOT_FOUND',
        'GET',
        '/projects/p/repositories/bigconfig/artifacts/big/additions/build_history',
      );
    });

    test('a chart layer that is not gzip answers 404 for every chart addition', async () => {
      const chart = chartWith(Buffer.from('this is not a gzip stream, just text'));
      await client.pushImage('p/notgzip', chart, '1.0.0');
      for (const name of ['values.yaml', 'readme.md', 'dependencies']) {
        await api.expectError(
          404,
          'NOT_FOUND',
          'GET',
          `/projects/p/repositories/notgzip/artifacts/1.0.0/additions/${name}`,
        );
      }
    });

    test('a gzip bomb chart answers 404 and /v2/ keeps answering meanwhile (p90 under 100 ms, none held 400 ms)', async () => {
      const chart = chartWith(await gzipBombChart(100 * 1024 * 1024));
      assert.ok(chart.blobs[1]!.bytes.length < 200 * 1024, 'the bomb is small compressed');
      await client.pushImage('p/bomb', chart, '1.0.0');
      const probe = latencyProbe(berth.url);
      const started = performance.now();
      await new Promise((r) => setTimeout(r, 50));
      const results = await Promise.all(
        ['values.yaml', 'readme.md', 'dependencies', 'values.yaml'].map((name) =>
          api.call('GET', `/projects/p/repositories/bomb/artifacts/1.0.0/additions/${name}`),
        ),
      );
      const { maxMs, p90Ms, count } = await probe.stop();
      for (const res of results) assert.equal(res.status, 404, res.text.slice(0, 300));
      assert.ok(count > 0);
      // The same probe as long again with nothing else running: on a machine shared by many processes,
      // scheduling alone can delay an answer, and that noise is not what this test is about.
      const idle = latencyProbe(berth.url);
      await new Promise((r) => setTimeout(r, performance.now() - started));
      const baseline = await idle.stop();
      // Reading the bomb on the event loop blocked it for about a second per request; now nine answers
      // in ten come within 100 ms, and none waits anywhere near a second. The slowest is allowed 400 ms
      // (or three times the idle probe's slowest): on the 2-core VM, beside another test file, one answer
      // took 166 ms once against an idle slowest of 22 ms (a scheduling or GC pause, not the bomb).
      const noise = `idle: max ${baseline.maxMs.toFixed(1)} ms, p90 ${baseline.p90Ms.toFixed(1)} ms`;
      assert.ok(p90Ms < 100, `/v2/ p90 ${p90Ms.toFixed(1)} ms while the bomb was read (${noise})`);
      assert.ok(
        maxMs < Math.max(400, 3 * baseline.maxMs),
        `/v2/ took ${maxMs.toFixed(1)} ms while the bomb was read (${noise})`,
      );
    });

    test('the login lockout answers 429 with Retry-After equal to the rest of the lock', async () => {
      const anon = new RegistryClient(berth.url, { auth: { username: 'intruder', password: 'wrong' } });
      for (let i = 0; i < 3; i++) {
        const res = await anon.fetch('/v2/');
        await res.arrayBuffer();
        assert.equal(res.status, 401);
      }
      const locked = await anon.fetch('/v2/');
      await locked.arrayBuffer();
      assert.equal(locked.status, 429);
      const v2 = Number(locked.headers.get('retry-after'));
      assert.ok(v2 > 290 && v2 <= 300, `Retry-After on /v2 is ${v2}`);
      const viaApi = await api.as('intruder', 'wrong').call('GET', '/users/current');
      assert.equal(viaApi.status, 429);
      const a = Number(viaApi.headers.get('retry-after'));
      assert.ok(a > 290 && a <= 300, `Retry-After on the API is ${a}`);
      const token = await fetch(`${berth.url}/service/token?service=berth`, {
        headers: { authorization: `Basic ${Buffer.from('intruder:wrong').toString('base64')}` },
      });
      await token.arrayBuffer();
      assert.equal(token.status, 429);
      const t = Number(token.headers.get('retry-after'));
      assert.ok(t > 290 && t <= 300, `Retry-After on the token service is ${t}`);
    });

    test('a too-large manifest answers 413 to a client that writes the whole body first', async () => {
      const auth = `Basic ${Buffer.from(`${berth.admin.username}:${berth.admin.password}`).toString('base64')}`;
      for (const size of [5 * 1024 * 1024, 9 * 1024 * 1024]) {
        const res = await writeFirst(
          berth.url,
          `/v2/${repo}/manifests/huge`,
          { authorization: auth, 'content-type': mediaTypes.ociManifest },
          Buffer.alloc(size, 0x20),
        );
        assert.equal(res.status, 413, res.body.slice(0, 200));
        assert.equal(
          (JSON.parse(res.body) as { errors: { code: string }[] }).errors[0]!.code,
          'MANIFEST_INVALID',
        );
      }
      const apiRes = await writeFirst(
        berth.url,
        '/api/v2.0/projects/p',
        { authorization: auth, 'content-type': 'application/json' },
        Buffer.alloc(3 * 1024 * 1024, 0x20),
      );
      assert.equal(apiRes.status, 413, apiRes.body.slice(0, 200));
    });

    test('every list answers an unknown sort key as Harbor does: ignored, 200', async () => {
      await client.pushImage('p/sorted', makeImage(), 'v1');
      const lists = [
        '/projects',
        '/projects/p/repositories',
        '/repositories',
        '/projects/p/repositories/sorted/artifacts',
        '/projects/p/repositories/sorted/artifacts/v1/tags',
        '/projects/p/repositories/sorted/artifacts/v1/accessories',
        '/projects/p/members',
        '/audit-logs',
        '/auditlog-exts',
        '/quotas',
        '/registries',
        '/replication/policies',
        '/replication/executions',
        '/users',
        '/usergroups',
        '/labels?scope=g',
        '/robots',
      ];
      for (const path of lists) {
        const sep = path.includes('?') ? '&' : '?';
        for (const sort of ['no_such_key', '-no_such_key', 'no_such_key,-also_not']) {
          const res = await api.call('GET', `${path}${sep}sort=${encodeURIComponent(sort)}`);
          assert.equal(res.status, 200, `${path} sort=${sort}: ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
    });
  });
}
