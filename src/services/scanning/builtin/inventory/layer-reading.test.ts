import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { goBinary, layerOf } from '../../../../../test/helpers/vulndb.js';
import {
  DEFAULT_INVENTORY_LIMITS,
  inventoryImage,
  type ImageLayer,
  type LayerReadingCache,
} from './index.js';
import { deserializeReading, serializeReading } from './layer-reading.js';

/** A cache as the metadata database keeps it: the serialized reading, by digest, of one version. */
function memoryCache() {
  const rows = new Map<string, { version: string; text: string }>();
  const cache: LayerReadingCache = {
    get: (digest, version) => {
      const row = rows.get(digest);
      return Promise.resolve(row?.version === version ? deserializeReading(row.text, digest) : undefined);
    },
    put: (digest, version, reading) => {
      rows.set(digest, { version, text: serializeReading(reading) });
      return Promise.resolve();
    },
  };
  return { rows, cache };
}

/** The layer, counting how often its bytes are opened. */
function counted(layer: ImageLayer, opens: { n: number }): ImageLayer {
  return { ...layer, open: () => (opens.n++, layer.open()) };
}

const base = layerOf([
  { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
  {
    path: 'var/lib/dpkg/status',
    content: 'Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1\n',
  },
  { path: 'app/node_modules/lodash/package.json', content: '{"name":"lodash","version":"4.17.20"}' },
  { path: 'app/node_modules/minimist/package.json', content: '{"name":"minimist","version":"1.2.5"}' },
  { path: 'opt/old/node_modules/left-pad/package.json', content: '{"name":"left-pad","version":"1.0.0"}' },
  {
    path: 'usr/bin/tool',
    content: goBinary('go1.21.5', 'path\texample.com/tool\nmod\texample.com/tool\tv1.0.0\th1:x=\n'),
    mode: 0o755,
  },
  { path: 'app/package-lock.json', content: '{not json' },
]);
const whiteouts = layerOf([
  { path: 'app/node_modules/.wh.lodash', content: '' },
  { path: 'opt/old/.wh..wh..opq', content: '' },
  { path: 'opt/old/node_modules/is-odd/package.json', content: '{"name":"is-odd","version":"3.0.1"}' },
  { path: 'usr/bin/tool', content: Buffer.alloc(2048, 0x20), mode: 0o755 },
]);
const upgrade = layerOf([
  { path: 'app/node_modules/minimist/package.json', content: '{"name":"minimist","version":"1.2.8"}' },
]);

describe('layer readings kept between scans', () => {
  test('an image reads the same from cached readings as from its layers, whiteouts across layers applied', async () => {
    const image = [base, whiteouts, upgrade];
    const plain = await inventoryImage(image);
    const { rows, cache } = memoryCache();
    const first = { n: 0 };
    const stats = { cached: 0, read: 0 };
    const filled = await inventoryImage(
      image.map((l) => counted(l, first)),
      undefined,
      cache,
      stats,
    );
    assert.deepEqual(filled, plain);
    assert.deepEqual([first.n, stats.read, stats.cached, rows.size], [3, 3, 0, 3]);

    const again = { n: 0 };
    const cachedStats = { cached: 0, read: 0 };
    const fromCache = await inventoryImage(
      image.map((l) => counted(l, again)),
      undefined,
      cache,
      cachedStats,
    );
    assert.equal(again.n, 0, 'no layer is opened when all are cached');
    assert.deepEqual(cachedStats, { cached: 3, read: 0 });
    assert.deepEqual(fromCache, plain);
    // The removed, hidden and replaced packages stay out; the Go binary replaced by a script is gone too.
    assert.deepEqual(fromCache.packages.map((p) => `${p.kind} ${p.name}@${p.version}`).sort(), [
      'npm is-odd@3.0.1',
      'npm minimist@1.2.8',
      'os libssl3@3.0.11-1',
    ]);
    assert.equal(fromCache.packages.find((p) => p.name === 'libssl3')!.layer, base.digest);
    assert.match(fromCache.notes.join('\n'), /package-lock\.json/);
  });

  test("a layer shared by two images keeps its own reading: each image applies its layers' whiteouts", async () => {
    const { cache } = memoryCache();
    await inventoryImage([base, whiteouts], undefined, cache);
    const opens = { n: 0 };
    const other = await inventoryImage([counted(base, opens), counted(upgrade, opens)], undefined, cache);
    assert.equal(opens.n, 1, 'only the layer not read before is opened');
    assert.deepEqual(other, await inventoryImage([base, upgrade]));
    assert.ok(other.packages.some((p) => p.name === 'lodash' && p.version === '4.17.20'));
    assert.ok(
      other.packages.some((p) => p.kind === 'Go' && p.name === 'example.com/tool' && p.version === 'v1.0.0'),
    );
  });

  test('a reading of another version (code, limits) is read again and replaced', async () => {
    const { rows, cache } = memoryCache();
    await inventoryImage([base], undefined, cache);
    rows.set(base.digest, { ...rows.get(base.digest)!, version: 'r0;gzip' });
    const opens = { n: 0 };
    await inventoryImage([counted(base, opens)], undefined, cache);
    assert.equal(opens.n, 1);
    assert.notEqual(rows.get(base.digest)!.version, 'r0;gzip');
    const smaller = { ...DEFAULT_INVENTORY_LIMITS, maxFileBytes: 16 };
    const bounded = await inventoryImage([counted(base, opens)], smaller, cache);
    assert.equal(opens.n, 2, 'other limits are another version');
    assert.ok(bounded.notes.some((n) => /larger than the scanner reads/.test(n)));
  });

  test('a cache that fails costs a read, not the scan', async () => {
    const failing: LayerReadingCache = {
      get: () => Promise.reject(new Error('database is locked')),
      put: () => Promise.reject(new Error('database is locked')),
    };
    assert.deepEqual(
      await inventoryImage([base, whiteouts], undefined, failing),
      await inventoryImage([base, whiteouts]),
    );
  });
});
