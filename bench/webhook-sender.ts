/**
 * The webhooks row's floor (bench/webhooks.ts): the least any webhook delivery must cost the machine, with
 * nothing of Berth in it. The bench forks this process and hands it the digests its pushes into a project
 * without webhooks got, batched every 25 ms; for each, it POSTs a body shaped like Harbor's Default payload
 * to each of its targets, on kept-alive connections, at most 8 in flight per target (Berth's
 * `webhooks.concurrencyPerTarget`). No database, no retries, no records: what a sender in a process of its
 * own and the receivers add to the pushes on the same cores is the floor under Berth's figure.
 *
 * Protocol over the IPC channel: `{ targets: string[] }` answers `{ ready: true }`; `{ events: Event[] }`
 * sends them (no answer).
 */
import { Pool } from 'undici';

/** One pushed artifact: its repository (`project/name`), tag and digest. */
export type SentEvent = [repository: string, tag: string, digest: string];

const perTarget = 8;

interface Target {
  pool: Pool;
  path: string;
  inFlight: number;
  queue: Buffer[];
}

let targets: Target[] = [];

function body([repository, tag, digest]: SentEvent): Buffer {
  const [namespace, ...rest] = repository.split('/');
  return Buffer.from(
    JSON.stringify({
      type: 'PUSH_ARTIFACT',
      occur_at: Math.floor(Date.now() / 1000),
      operator: 'admin',
      event_data: {
        resources: [
          {
            digest,
            tag,
            resource_url: `127.0.0.1/${repository}:${tag}`,
          },
        ],
        repository: {
          date_created: Math.floor(Date.now() / 1000),
          name: rest.join('/'),
          namespace,
          repo_full_name: repository,
          repo_type: 'private',
        },
      },
    }),
  );
}

function pump(t: Target): void {
  while (t.inFlight < perTarget && t.queue.length > 0) {
    const payload = t.queue.shift()!;
    t.inFlight++;
    t.pool
      .request({
        method: 'POST',
        path: t.path,
        headers: { 'content-type': 'application/json' },
        body: payload,
      })
      .then((res) => res.body.dump())
      .catch(() => undefined)
      .finally(() => {
        t.inFlight--;
        pump(t);
      });
  }
}

type Message = { targets: string[] } | { events: SentEvent[] };

process.on('message', (m: Message) => {
  if ('targets' in m) {
    targets = m.targets.map((url) => {
      const u = new URL(url);
      return {
        pool: new Pool(u.origin, { connections: perTarget }),
        path: u.pathname,
        inFlight: 0,
        queue: [],
      };
    });
    process.send!({ ready: true });
    return;
  }
  for (const event of m.events) {
    const payload = body(event);
    for (const t of targets) t.queue.push(payload);
  }
  for (const t of targets) pump(t);
});
process.on('disconnect', () => process.exit(0));
