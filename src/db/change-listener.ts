import { createRequire } from 'node:module';
import type pg from 'pg';
import type { Logger } from '../lib/logger.js';
import type { ReadCache } from './read-cache.js';

/** The channel migration 0025's triggers notify on a committed write to a watched table. */
export const changeChannel = 'berth_cache';

/**
 * Keeps one PostgreSQL connection (outside the pool) listening on `changeChannel`, and drops the read
 * cache on every notification: a policy changed on any node is obeyed by this one from its next request
 * after the notification arrives. While the connection is down (PostgreSQL restarting, a network cut) the
 * cache keeps nothing, and it is tried again every `retryMs`.
 */
export function listenForChanges(
  url: string,
  cache: ReadCache,
  log: Logger,
  retryMs = 1000,
): { close(): Promise<void> } {
  const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');
  let current: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const lost = (client: pg.Client, err?: unknown) => {
    if (current === client) {
      current = undefined;
      cache.setHeard(false);
      if (err) log.warn({ err }, 'database change listener lost; caching paused until it is back');
    }
    client.removeAllListeners('notification');
    void client.end().catch(() => {});
    if (!closed && !retry)
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, retryMs).unref();
  };

  const connect = async () => {
    const client = new Client({ connectionString: url });
    client.on('notification', () => cache.drop());
    client.on('error', (err) => lost(client, err));
    client.on('end', () => lost(client));
    try {
      await client.connect();
      await client.query(`listen ${changeChannel}`);
    } catch (err) {
      lost(client, err);
      return;
    }
    if (closed) return void client.end().catch(() => {});
    current = client;
    cache.setHeard(true);
  };

  const first = connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await first;
      const client = current;
      current = undefined;
      cache.setHeard(false);
      await client?.end().catch(() => {});
    },
  };
}
