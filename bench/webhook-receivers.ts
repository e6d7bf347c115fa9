/**
 * The webhooks row's receivers, in a process of their own (bench/webhooks.ts forks it), so receiving
 * thousands of POSTs does not take CPU from the client that pushes, neither for Berth's targets nor for
 * distribution's. Each receiver notes when each manifest digest first arrived, on the wall clock that
 * both processes share (`performance.timeOrigin + performance.now()`).
 *
 * Protocol over the IPC channel: the parent sends `{ start: ('harbor' | 'distribution')[] }` and gets
 * `{ urls }`; `{ count: true }` answers `{ counts }` (distinct digests per receiver since the last take);
 * `{ take: true }` answers `{ arrivals }` ([digest, ms][] per receiver) and forgets them.
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

export type PayloadShape = 'harbor' | 'distribution';

/** Harbor's Default payload: `event_data.resources[].digest`. */
function harborDigests(body: unknown): string[] {
  const resources = (body as { event_data?: { resources?: { digest?: string }[] } }).event_data?.resources;
  return (resources ?? []).flatMap((r) => (r.digest ? [r.digest] : []));
}

/** distribution's envelope: `events[]` of action push whose target is a manifest. */
function distributionDigests(body: unknown): string[] {
  const events = (
    body as { events?: { action?: string; target?: { mediaType?: string; digest?: string } }[] }
  ).events;
  return (events ?? []).flatMap((e) =>
    e.action === 'push' && e.target?.digest && /manifest/.test(e.target.mediaType ?? '')
      ? [e.target.digest]
      : [],
  );
}

async function startReceiver(shape: PayloadShape): Promise<{ url: string; arrivals: Map<string, number> }> {
  const digestsOf = shape === 'harbor' ? harborDigests : distributionDigests;
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      try {
        for (const d of digestsOf(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
          if (!arrivals.has(d)) arrivals.set(d, at);
      } catch {
        // not JSON: ignored
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('receiver did not listen');
  return { url: `http://127.0.0.1:${address.port}`, arrivals };
}

type Message = { start: PayloadShape[] } | { count: true } | { take: true };

let receivers: { url: string; arrivals: Map<string, number> }[] = [];
process.on('message', (m: Message) => {
  if ('start' in m)
    void Promise.all(m.start.map(startReceiver)).then((rs) => {
      receivers = rs;
      process.send!({ urls: rs.map((r) => r.url) });
    });
  else if ('count' in m) process.send!({ counts: receivers.map((r) => r.arrivals.size) });
  else {
    process.send!({ arrivals: receivers.map((r) => [...r.arrivals]) });
    for (const r of receivers) r.arrivals.clear();
  }
});
process.on('disconnect', () => process.exit(0));
