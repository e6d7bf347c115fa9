import { z } from 'zod';
import { defineJob } from '../kind.js';

export interface FetchedManifestCompleter {
  /**
   * Fetches from the upstream the blobs of a fetched manifest that no client asked for, and records the
   * artifact; returns what it did, for the job's log.
   */
  fillIn(repository: string, digest: string): Promise<string>;
}

export const proxyCompletePayload = z.object({ repository: z.string(), digest: z.string() }).strict();

/**
 * `proxy.complete`: a manifest a client fetched through a proxy-cache project, whose blobs were not all
 * pulled a while later (the client had the other layers already, or only wanted the manifest), is made
 * whole and listed, as Harbor does after its wait (docs/proxy-cache.md).
 */
export function proxyCompleteJob(completer: FetchedManifestCompleter) {
  return defineJob({
    kind: 'proxy.complete',
    payload: proxyCompletePayload,
    retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 600_000 },
    async run(payload, ctx) {
      await ctx.log(await completer.fillIn(payload.repository, payload.digest));
    },
  });
}
