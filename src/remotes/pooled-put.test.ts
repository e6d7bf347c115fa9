// pooledPut (a copy's blob upload to a plain-http destination): the body arrives whole with its headers
// while every chunk goes back to the file read once the socket took it, an answer that comes before the
// body is all sent is returned and the rest not sent, and a destination that closes mid-body, a body of
// the wrong length, an answer that never comes or an abort are errors that leave no connection open.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileReadStream, SparePool } from '../storage/file-read-stream.js';
import { pooledPut } from './pooled-put.js';

const chunk = 256 * 1024;

describe('pooledPut', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pput-'));
  const blob = Buffer.alloc(6 * 1024 * 1024 + 17);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
  const file = join(dir, 'blob');
  writeFileSync(file, blob);
  const digest = createHash('sha256').update(blob).digest('hex');
  const received: { url: string; authorization?: string; type?: string; sha256: string; bytes: number }[] =
    [];
  const open = new Set<Socket>();
  let server: Server;
  let base: URL;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/cut') {
        let n = 0;
        return req.on('data', (c: Buffer) => {
          n += c.length;
          if (n > 1024 * 1024) req.socket.destroy();
        });
      }
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      req.on('end', () => {
        received.push({
          url: req.url!,
          authorization: req.headers.authorization,
          type: req.headers['content-type'],
          sha256: hash.digest('hex'),
          bytes,
        });
        // /silent reads the body and never answers.
        if (req.url === '/silent') return;
        res.writeHead(201, { location: '/v2/x/blobs/sha256:1', 'content-length': 0 });
        res.end();
      });
    });
    server.on('connection', (s: Socket) => {
      open.add(s);
      s.once('close', () => open.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The blob as Berth's storage reads it (storage/filesystem.ts), counting the chunks and the memory. */
  const source = (length = blob.length) => {
    const pool = new SparePool(chunk, 4);
    const memory = new Set<ArrayBufferLike>();
    const take = pool.take.bind(pool);
    pool.take = () => {
      const b = take();
      memory.add(b.buffer);
      return b;
    };
    const body = new FileReadStream(openSync(file, 'r'), 0, length, chunk, pool);
    const counts = { recycled: 0 };
    const recycle = body.recycle.bind(body);
    body.recycle = (c: Buffer) => {
      counts.recycled++;
      recycle(c);
    };
    return { body, memory, counts };
  };
  const put = (path: string, body: FileReadStream, o: { length?: number; signal?: AbortSignal } = {}) =>
    pooledPut(new URL(path, base), {
      headers: {
        authorization: 'Bearer t',
        'content-type': 'application/octet-stream',
        'content-length': String(o.length ?? blob.length),
      },
      body,
      timeoutMs: 1000,
      idleTimeoutMs: 5000,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  /** The destination's side of every connection closed (none left hanging). */
  const allClosed = async () => {
    for (let i = 0; i < 100 && open.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(open.size, 0, 'a connection is left open');
  };

  it('sends the body whole with its headers, each chunk handed back and read into again', async () => {
    const { body, memory, counts } = source();
    const res = await put('/v2/x/blobs/uploads/1?digest=sha256%3Aab', body);
    assert.equal(res.status, 201);
    assert.equal(res.headers.location, '/v2/x/blobs/sha256:1');
    await res.body.dump();
    assert.deepEqual(received.at(-1), {
      url: '/v2/x/blobs/uploads/1?digest=sha256%3Aab',
      authorization: 'Bearer t',
      type: 'application/octet-stream',
      sha256: digest,
      bytes: blob.length,
    });
    const chunks = Math.ceil(blob.length / chunk);
    assert.equal(counts.recycled, chunks, 'every chunk is handed back');
    assert.ok(memory.size <= 4, `${chunks} chunks read into ${memory.size} buffers`);
    await allClosed();
  });

  it('returns an answer that comes before the body is sent, and sends no more of it', async () => {
    // A destination that answers at once and reads on (node:http would close the connection after its
    // answer, and the next write could then fail before the answer was read: EPIPE, as with undici).
    const early = createNetServer((socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      socket.once('data', () => {
        const json = '{"errors":[{"code":"UNAUTHORIZED"}]}';
        socket.write(
          `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nwww-authenticate: Bearer realm="x"\r\ncontent-length: ${json.length}\r\n\r\n${json}`,
        );
        socket.resume();
      });
    });
    await new Promise<void>((r) => early.listen(0, '127.0.0.1', r));
    const { body } = source();
    const res = await pooledPut(new URL(`http://127.0.0.1:${(early.address() as AddressInfo).port}/early`), {
      headers: { 'content-length': String(blob.length) },
      body,
      timeoutMs: 1000,
      idleTimeoutMs: 5000,
    }).finally(() => early.close());
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="x"');
    assert.deepEqual(await res.body.json(), { errors: [{ code: 'UNAUTHORIZED' }] });
    assert.ok(body.destroyed, 'the rest of the body is not read');
    await allClosed();
  });

  it('fails when the destination closes mid-body, leaving no connection', async () => {
    const { body } = source();
    await assert.rejects(put('/cut', body), (err: Error & { code?: string }) =>
      ['ECONNRESET', 'EPIPE', undefined].includes(err.code),
    );
    assert.ok(body.destroyed);
    await allClosed();
  });

  it('fails a body shorter or longer than its Content-Length', async () => {
    const short = source(blob.length - 5).body;
    await assert.rejects(
      put('/silent', short),
      (err: Error & { code?: string }) => err.code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
    );
    const long = source().body;
    await assert.rejects(
      put('/silent', long, { length: 1000 }),
      (err: Error & { code?: string }) => err.code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
    );
    assert.ok(long.destroyed);
    await allClosed();
  });

  it('fails when no answer comes in time, or when aborted', async () => {
    await assert.rejects(
      put('/silent', source().body),
      (err: Error & { code?: string }) => err.code === 'UND_ERR_HEADERS_TIMEOUT',
    );
    const stop = new AbortController();
    const { body } = source();
    body.once('data', () => stop.abort(new Error('stopped by the test')));
    await assert.rejects(put('/silent', body, { signal: stop.signal }), /stopped by the test/);
    assert.ok(body.destroyed);
    await allClosed();
    await assert.rejects(
      put('/silent', source().body, { signal: AbortSignal.abort() }),
      (err: Error) => err.name === 'AbortError',
    );
    await assert.rejects(
      pooledPut(new URL('http://127.0.0.1:1/'), {
        headers: { 'content-length': '1' },
        body: source().body,
        timeoutMs: 2000,
        idleTimeoutMs: 2000,
      }),
      (err: Error & { code?: string }) => err.code === 'ECONNREFUSED',
    );
  });
});
