// The delivery thread's HTTP/1.1 client for plain-http targets: one kept-alive connection for a target's
// deliveries, answers framed by length or chunks, a closed idle connection sent again on a new one.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebhookSender } from './webhook-sender.js';

describe('webhook POST client (plain http)', () => {
  let server: Server;
  let base: string;
  let connections = 0;
  const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const sender = new WebhookSender(500);

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const path = req.url!.split('?')[0];
        if (path === '/chunked') {
          res.writeHead(500);
          res.write('part one, ');
          setImmediate(() => res.end('part two'));
        } else if (path === '/close') {
          res.writeHead(200, { Connection: 'close' }).end('bye');
        } else if (path === '/slow') {
          setTimeout(() => res.writeHead(200).end(), 2000).unref();
        } else res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    sender.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const post = (path: string, body = '{"type":"PUSH_ARTIFACT"}') =>
    sender.post(
      `${base}${path}?a=1`,
      { 'Content-Type': 'application/json', Authorization: 'Bearer x' },
      body,
      {
        skipCertVerify: false,
      },
    );

  test("sends the stored headers and body, reads the answer, and keeps the connection for the target's next delivery", async () => {
    const before = connections;
    for (let i = 0; i < 3; i++)
      assert.deepEqual(await post('/hook', `{"n":${i}}`), { status: 200, body: 'ok' });
    assert.equal(connections - before, 1, 'one connection for three deliveries');
    const last = received.at(-1)!;
    assert.equal(last.url, '/hook?a=1');
    assert.equal(last.body, '{"n":2}');
    assert.equal(last.headers['content-type'], 'application/json');
    assert.equal(last.headers.authorization, 'Bearer x');
    assert.equal(last.headers['user-agent'], 'Go-http-client/1.1');
    assert.equal(last.headers['content-length'], '7');
  });

  test('reads a chunked answer, and opens a new connection after an answer that closes it', async () => {
    assert.deepEqual(await post('/chunked'), { status: 500, body: 'part one, part two' });
    assert.deepEqual(await post('/close'), { status: 200, body: 'bye' });
    const before = connections;
    assert.equal((await post('/hook')).status, 200);
    assert.equal(connections - before, 1);
  });

  test('a kept connection the target closed while idle is replaced; the delivery arrives once', async () => {
    await post('/hook');
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    const n = received.length;
    assert.equal((await post('/hook', '{"again":true}')).status, 200);
    assert.equal(received.length, n + 1);
    assert.equal(received.at(-1)!.body, '{"again":true}');
  });

  test('the time limit covers the whole exchange; a header with a line break is refused', async () => {
    await assert.rejects(post('/slow'), /timed out after 500 ms/);
    await assert.rejects(
      sender.post(`${base}/hook`, { Authorization: 'x\r\nInjected: 1' }, '{}', { skipCertVerify: false }),
      /invalid header/,
    );
    assert.equal((await post('/hook')).status, 200);
  });
});
