import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import {
  assertOciError,
  digestOf,
  makeImage,
  rawRequest,
  uniqueRepo,
  useBerth,
  type OciErrorBody,
  type RawResponse,
} from '../../helpers/registry-client.js';

const digest = digestOf('x');
const manifest = makeImage();

/** A request on `path`; PUTs carry a valid manifest, so only the name can be at fault. */
function send(url: string, method: string, path: string): Promise<RawResponse> {
  if (method !== 'PUT') return rawRequest(url, method, path);
  return rawRequest(url, method, path, { 'content-type': manifest.mediaType }, manifest.bytes);
}

/** The endpoints a name appears in, as [method, path suffix]. */
const endpoints: [string, string][] = [
  ['GET', '/tags/list'],
  ['GET', '/manifests/latest'],
  ['PUT', '/manifests/latest'],
  ['HEAD', `/blobs/${digest}`],
  ['GET', `/blobs/${digest}`],
  ['POST', '/blobs/uploads/'],
  ['GET', `/referrers/${digest}`],
];

function codeOf(res: RawResponse): string | undefined {
  try {
    return (JSON.parse(res.body) as OciErrorBody).errors[0]?.code;
  } catch {
    return undefined;
  }
}

function assertRefused(res: RawResponse, what: string, statuses: number[], codes: string[]) {
  assert.ok(res.status < 500, `${what}: ${res.status} ${res.body.slice(0, 200)}`);
  assert.ok(statuses.includes(res.status), `${what}: status ${res.status} ${res.body.slice(0, 200)}`);
  if (res.body !== '') {
    const code = codeOf(res);
    assert.ok(code && codes.includes(code), `${what}: code ${code} in ${res.body.slice(0, 200)}`);
  }
}

for (const backend of backends()) {
  describe(`repository names and unknown repositories [${backend}]`, () => {
    const fx = useBerth(backend);

    test('names outside the grammar answer 400 NAME_INVALID on every endpoint', async () => {
      const bad = [
        'Upper/case',
        'lower/Case',
        'foo//bar',
        'foo/bar/',
        '-lead/x',
        'trail-/x',
        'a..b/x',
        '.hidden/x',
        '_catalog/x',
        'sp%20ace/x',
        'nul%00/x',
        'x'.repeat(256),
        `${'a'.repeat(200)}/${'b'.repeat(60)}`,
      ];
      for (const name of bad) {
        for (const [method, suffix] of endpoints) {
          const res = await send(fx.berth.url, method, `/v2/${name}${suffix}`);
          assertRefused(res, `${method} ${name.slice(0, 40)}${suffix}`, [400], ['NAME_INVALID']);
        }
      }
    });

    test('raw ../ segments never reach another repository: 400 or 404, never 500', async () => {
      const victim = uniqueRepo();
      await fx.client.pushImage(victim, makeImage(), 'v1');
      const [project, repo] = victim.split('/') as [string, string];
      const paths = [
        `/v2/${project}/other/../${repo}/manifests/v1`,
        `/v2/${project}/x/../../${project}/${repo}/tags/list`,
        `/v2/../${project}/${repo}/tags/list`,
        `/v2/${project}/${repo}/../../../etc/passwd`,
        `/v2/${project}/./${repo}/tags/list`,
        `/v2/foo/../../../../../../etc/blobs/uploads/`,
      ];
      for (const path of paths) {
        for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
          const res = await send(fx.berth.url, method, path);
          assertRefused(
            res,
            `${method} ${path}`,
            [400, 404, 405],
            ['NAME_INVALID', 'NAME_UNKNOWN', 'UNSUPPORTED'],
          );
        }
      }
    });

    test('percent-encoded ../ is decoded and refused as NAME_INVALID', async () => {
      const victim = uniqueRepo();
      await fx.client.pushImage(victim, makeImage(), 'v1');
      const [project, repo] = victim.split('/') as [string, string];
      const paths = [
        `/v2/${project}/x/%2e%2e/${repo}/manifests/v1`,
        `/v2/${project}/x%2f%2e%2e%2f${repo}/manifests/v1`,
        `/v2/${project}/x/%2E%2E%2F${repo}/tags/list`,
        `/v2/%2e%2e/%2e%2e/etc/blobs/uploads/`,
        `/v2/${project}/%2e/${repo}/blobs/${digest}`,
        `/v2/${project}%2f..%2f..%2fetc/blobs/uploads/`,
      ];
      for (const path of paths) {
        for (const method of ['GET', 'POST', 'PUT']) {
          const res = await send(fx.berth.url, method, path);
          assertRefused(
            res,
            `${method} ${path}`,
            [400, 404, 405],
            ['NAME_INVALID', 'NAME_UNKNOWN', 'UNSUPPORTED'],
          );
          if (method === 'GET' && path.includes('/manifests/')) {
            assert.equal(res.status, 400, `${path}: ${res.body}`);
            assert.equal(codeOf(res), 'NAME_INVALID');
          }
        }
      }
      const malformed = await rawRequest(fx.berth.url, 'GET', `/v2/${project}/%zz/tags/list`);
      assertRefused(malformed, 'malformed percent-encoding', [400], ['NAME_INVALID']);
    });

    test('an upload session cannot be opened under a traversal name', async () => {
      const res = await rawRequest(fx.berth.url, 'POST', '/v2/foo%2f..%2f..%2fetc/blobs/uploads/');
      assertRefused(res, 'POST', [400], ['NAME_INVALID']);
      assert.equal(res.headers.location, undefined);
      const { body } = await fx.client.getJson<{ repositories: string[] }>('/v2/_catalog?n=1000');
      assert.ok(
        body.repositories.every((n) => !n.includes('..')),
        body.repositories.join(','),
      );
    });

    test('very long paths answer 400 or 404, never 500', async () => {
      for (const length of [300, 1000, 1100, 5000]) {
        const name = Array.from({ length: Math.ceil(length / 50) }, () => 'a'.repeat(49)).join('/');
        for (const [method, suffix] of endpoints) {
          const res = await send(fx.berth.url, method, `/v2/${name}${suffix}`);
          assertRefused(res, `${method} ${length}${suffix}`, [400, 404], ['NAME_INVALID', 'NAME_UNKNOWN']);
        }
      }
    });

    test('a name of exactly 255 characters with nested paths is valid', async () => {
      const name = `${'p'.repeat(50)}/${'q'.repeat(100)}/${'r'.repeat(103)}`;
      assert.equal(name.length, 255);
      await fx.client.pushImage(name, makeImage(), 'v1');
      const res = await fx.client.fetch(`/v2/${name}/manifests/v1`);
      assert.equal(res.status, 200);
    });

    test('an unknown repository answers 404 NAME_UNKNOWN', async () => {
      const name = uniqueRepo();
      await assertOciError(await fx.client.fetch(`/v2/${name}/tags/list`), 404, 'NAME_UNKNOWN');
      await assertOciError(
        await fx.client.fetch(`/v2/${name}/blobs/${digest}`),
        404,
        'NAME_UNKNOWN',
        'BLOB_UNKNOWN',
      );
      await assertOciError(
        await fx.client.fetch(`/v2/${name}/manifests/latest`),
        404,
        'NAME_UNKNOWN',
        'MANIFEST_UNKNOWN',
      );
      await assertOciError(
        await fx.client.fetch(`/v2/${name}/blobs/${digest}`, { method: 'DELETE' }),
        404,
        'NAME_UNKNOWN',
        'BLOB_UNKNOWN',
      );
    });
  });
}
