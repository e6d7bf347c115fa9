import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProxyCache } from '../../services/proxy/proxy-cache.js';
import type { ProxyTarget } from '../../services/proxy/proxy-projects.js';
import type { RegistryDeps } from './deps.js';
import type { RegistryRoute } from './paths.js';
import { proxied } from './proxied.js';

const digest = `sha256:${'a'.repeat(64)}`;

/**
 * A reply like Fastify's in the one way that matters here: it is a thenable that settles only once the
 * answer has been sent (never, in this test). Awaiting one returned from an async function adopts it.
 */
function fakeReply() {
  const sent: unknown[] = [];
  const reply = {
    statusCode: 200,
    code(c: number) {
      reply.statusCode = c;
      return reply;
    },
    header: () => reply,
    headers: () => reply,
    type: () => reply,
    send(body?: unknown) {
      sent.push(body);
      return reply;
    },
    then: () => undefined,
  };
  return { reply, sent };
}

test('a pull from a proxy project is answered once: proxied() says so without waiting for the answer to be sent', async () => {
  const target = { project: { id: 1, name: 'p' } } as unknown as ProxyTarget;
  const proxy = {
    target: () => Promise.resolve(target),
    upstreamType: () => Promise.resolve('docker-registry'),
    openBlob: () => Promise.resolve({ digest, size: 3, body: Readable.from([Buffer.from('abc')]) }),
    manifest: () =>
      Promise.resolve({
        digest,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 2,
        body: Buffer.from('{}'),
      }),
  } as unknown as ProxyCache;
  const deps = { proxy } as unknown as RegistryDeps;
  const routes: RegistryRoute[] = [
    { kind: 'blob', name: 'p/r', digest },
    { kind: 'manifest', name: 'p/r', reference: 'v1' },
  ];
  for (const route of routes) {
    const { reply, sent } = fakeReply();
    const req = { method: 'GET', url: '/v2/p/r/x', headers: {}, log: console } as unknown as FastifyRequest;
    // Before the fix, proxied() handed back the reply, the caller's await waited for the answer to finish,
    // got undefined, and ran the normal handler for the same request too (a second answer, an error logged).
    const answered = await Promise.race([
      proxied(deps, req, reply as unknown as FastifyReply, route),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 2000)),
    ]);
    assert.equal(answered, true, `${route.kind}: proxied() resolved to ${String(answered)}`);
    assert.equal(sent.length, 1, `${route.kind}: one answer`);
  }
});

test("a HEAD of a proxied blob is answered from its stat alone: the blob's bytes are never opened", async () => {
  const target = { project: { id: 1, name: 'p' } } as unknown as ProxyTarget;
  let opened = 0;
  const proxy = {
    target: () => Promise.resolve(target),
    upstreamType: () => Promise.resolve('docker-registry'),
    statBlob: () => Promise.resolve({ digest, size: 3 }),
    openBlob: () => {
      opened++;
      return Promise.resolve({ digest, size: 3, body: Readable.from([Buffer.from('abc')]) });
    },
  } as unknown as ProxyCache;
  const { reply, sent } = fakeReply();
  const req = { method: 'HEAD', url: '/v2/p/r/x', headers: {}, log: console } as unknown as FastifyRequest;
  const route: RegistryRoute = { kind: 'blob', name: 'p/r', digest };
  assert.equal(
    await proxied({ proxy } as unknown as RegistryDeps, req, reply as unknown as FastifyReply, route),
    true,
  );
  assert.deepEqual(sent, [undefined], 'one answer, without a body');
  assert.equal(opened, 0, 'the blob was not opened (a file descriptor and a read for nothing)');
});
