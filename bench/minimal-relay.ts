/**
 * The proxy-cache row's floor (bench/proxy-cache.ts): the least a pull-through cache written in Node must
 * do per byte, with nothing of Berth in it. An HTTP server that answers every GET by asking the upstream
 * (undici) and writing its answer's bytes to the client as they come, with backpressure; with `store`, a
 * blob's bytes are also hashed (SHA-256) and written to a file, renamed once complete, as a cache must (no
 * database, no verification answer, no checks, and the file written without waiting for it: the most
 * favourable case). Forked by the bench with `<upstream> <mode> <dir>`; answers `{ url }` over the IPC
 * channel once listening.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Agent, request } from 'undici';

const [upstream, mode, dir] = process.argv.slice(2) as [string, 'forward' | 'store', string];
mkdirSync(dir, { recursive: true });
const agent = new Agent({ connections: 8 });
let files = 0;

const server = createServer((req, res) => {
  void (async () => {
    const up = await request(upstream + req.url, {
      dispatcher: agent,
      headers: { accept: req.headers.accept ?? '*/*' },
    });
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'content-length', 'docker-content-digest']) {
      const value = up.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    res.writeHead(up.statusCode, headers);
    const store = mode === 'store' && req.url!.includes('/blobs/');
    const hash = store ? createHash('sha256') : undefined;
    const temp = join(dir, `part-${files++}`);
    const file = store ? createWriteStream(temp, { highWaterMark: 1 << 20 }) : undefined;
    for await (const chunk of up.body as AsyncIterable<Buffer>) {
      hash?.update(chunk);
      file?.write(chunk);
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    if (file) {
      await new Promise((r) => file.end(r));
      renameSync(temp, join(dir, hash!.digest('hex')));
    }
    res.end();
  })().catch((err: unknown) => res.destroy(err as Error));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the relay did not listen');
  process.send!({ url: `http://127.0.0.1:${address.port}` });
});
process.on('disconnect', () => process.exit(0));
