import assert from 'node:assert/strict';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';

// The test admin's credentials and the project every Berth starts with; sent before /v2 asks for them too.
const authorization = `Basic ${Buffer.from('admin:Berth-Test-12345').toString('base64')}`;
let counter = 0;

async function startUpload(berth: RunningBerth): Promise<string> {
  const res = await fetch(`${berth.url}/v2/library/shutdown-${process.pid}-${++counter}/blobs/uploads/`, {
    method: 'POST',
    headers: { authorization },
  });
  await res.body?.cancel();
  assert.equal(res.status, 202);
  return res.headers.get('location')!;
}

interface Answer {
  status: number;
  connection: string | undefined;
}

/** Sends a request on a keep-alive agent; `body` is written only when `send` is called. */
function open(berth: RunningBerth, agent: Agent, method: string, path: string) {
  const { port } = new URL(berth.url);
  let req!: ClientRequest;
  const answer = new Promise<Answer>((resolve, reject) => {
    req = request(
      { host: '127.0.0.1', port, method, path, agent, headers: { authorization } },
      (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
  return { req, answer };
}

async function timeClose(berth: RunningBerth): Promise<number> {
  const t0 = Date.now();
  await berth.close();
  return Date.now() - t0;
}

for (const backend of backends()) {
  describe(`shutdown is prompt [${backend}]`, () => {
    test('an idle keep-alive connection does not delay close', async () => {
      const berth = await startBerth({ backend });
      const agent = new Agent({ keepAlive: true });
      const { req, answer } = open(berth, agent, 'GET', '/health');
      req.end();
      assert.equal((await answer).status, 200);
      assert.equal((await answer).connection, 'keep-alive');
      const ms = await timeClose(berth);
      assert.ok(ms < 3000, `close took ${ms} ms with one idle keep-alive connection`);
      agent.destroy();
    });

    test('a request in flight when close begins completes, ends its connection, and close follows', async () => {
      const berth = await startBerth({ backend });
      const location = await startUpload(berth);
      const agent = new Agent({ keepAlive: true });
      const { req, answer } = open(berth, agent, 'PATCH', location);
      req.setHeader('content-type', 'application/octet-stream');
      req.write(Buffer.alloc(1000, 1));
      await new Promise((r) => setTimeout(r, 200));
      const closing = timeClose(berth);
      await new Promise((r) => setTimeout(r, 300));
      req.end(Buffer.alloc(1000, 2));
      const got = await answer;
      assert.equal(got.status, 202, 'the in-flight upload chunk is accepted');
      assert.equal(got.connection, 'close', 'an answer sent while closing ends its connection');
      const ms = await closing;
      assert.ok(ms < 3000, `close took ${ms} ms after the in-flight request finished`);
      agent.destroy();
    });

    test('a request that never finishes is cut off at server.shutdownTimeoutSeconds', async () => {
      const berth = await startBerth({ backend, overrides: { server: { shutdownTimeoutSeconds: 1 } } });
      const location = await startUpload(berth);
      const agent = new Agent({ keepAlive: true });
      const { req, answer } = open(berth, agent, 'PATCH', location);
      req.setHeader('content-type', 'application/octet-stream');
      req.write(Buffer.alloc(1000, 1));
      const failed = answer.then(
        () => 'answered',
        (err: NodeJS.ErrnoException) => err.code ?? err.message,
      );
      await new Promise((r) => setTimeout(r, 200));
      const ms = await timeClose(berth);
      assert.ok(ms >= 900 && ms < 4000, `close took ${ms} ms with a 1 s deadline`);
      assert.equal(await failed, 'ECONNRESET', 'the stalled request was cut off');
      agent.destroy();
    });
  });
}
