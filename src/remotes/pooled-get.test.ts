// pooledGet (the proxy cache's blob downloads): a 200 of known length streams views on pooled memory that
// come back through recycle, any other answer is read whole (Content-Length, chunked or to the close), and a
// connection cut mid-body or silent too long is an error.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isRecycling } from '../lib/recycling.js';
import { pooledGet } from './pooled-get.js';

describe('pooledGet', () => {
  const blob = Buffer.alloc(9 * 1024 * 1024 + 17);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
  const seen: string[] = [];
  let server: Server;
  let base: URL;
  before(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
      if (req.url === '/blob') {
        res.writeHead(200, { 'content-length': blob.length, 'x-a': '1' });
        return res.end(blob);
      }
      if (req.url === '/missing') {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
      }
      if (req.url === '/chunked') {
        res.writeHead(500);
        res.write('part one, ');
        return res.end('part two');
      }
      if (req.url === '/moved') {
        res.writeHead(307, { location: '/blob', 'content-length': 0 });
        return res.end();
      }
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': 1000 });
        res.write(Buffer.alloc(10));
        return setTimeout(() => res.destroy(), 20);
      }
      if (req.url === '/silent') {
        res.writeHead(200, { 'content-length': 1000 });
        return res.write(Buffer.alloc(10));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const get = (path: string, idleTimeoutMs = 5000) =>
    pooledGet(new URL(path, base), {
      headers: { authorization: 'Bearer t' },
      timeoutMs: 5000,
      idleTimeoutMs,
    });

  it('streams a 200 in chunks of pooled memory, handed back and read into again, bytes intact', async () => {
    const res = await get('/blob');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-a'], '1');
    assert.equal(res.headers['content-length'], String(blob.length));
    assert.ok(isRecycling(res.body as never));
    const hash = createHash('sha256');
    const memories = new Set<ArrayBufferLike>();
    let chunks = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      memories.add(chunk.buffer);
      chunks++;
      (res.body as unknown as { recycle(c: Buffer): void }).recycle(chunk);
    }
    assert.equal(hash.digest('hex'), createHash('sha256').update(blob).digest('hex'));
    assert.ok(chunks > 4, `${chunks} chunks`);
    assert.ok(
      memories.size < chunks,
      `memory read into again: ${memories.size} buffers for ${chunks} chunks`,
    );
    assert.equal(seen.at(-1), '/blob Bearer t', 'the headers are sent');
  });

  it('reads any other answer whole: with a length, chunked, a redirect', async () => {
    const missing = await get('/missing');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.body.json(), { errors: [{ code: 'BLOB_UNKNOWN' }] });
    const failed = await get('/chunked');
    assert.equal(failed.status, 500);
    assert.equal(await failed.body.text(), 'part one, part two');
    const moved = await get('/moved');
    assert.equal(moved.status, 307);
    assert.equal(moved.headers.location, '/blob');
    await moved.body.dump();
  });

  it('fails a body cut short or silent past the idle timeout', async () => {
    const cut = await get('/cut');
    await assert.rejects(async () => {
      for await (const _ of cut.body as AsyncIterable<Buffer>);
    });
    const silent = await get('/silent', 200);
    await assert.rejects(
      async () => {
        for await (const _ of silent.body as AsyncIterable<Buffer>);
      },
      (err: Error & { code?: string }) => err.code === 'UND_ERR_BODY_TIMEOUT',
    );
    await assert.rejects(
      pooledGet(new URL('http://127.0.0.1:1/'), { headers: {}, timeoutMs: 2000, idleTimeoutMs: 2000 }),
      (err: Error & { code?: string }) => err.code === 'ECONNREFUSED',
    );
  });
});
