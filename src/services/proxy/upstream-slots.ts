import { AppError } from '../../lib/errors.js';

/**
 * Harbor's `max_upstream_conn`: how many downloads (manifest or blob GETs) a proxy-cache project may have
 * open at its upstream at once. Harbor counts them in Redis and answers 429 TOO_MANY_REQUEST to the pull
 * that would exceed the limit; Berth counts them in this process (so the limit is per node) and answers
 * the same. Clients joining a download already under way share its connection and take no slot.
 */
export class UpstreamSlots {
  private readonly open = new Map<number, number>();
  private readonly waiters = new Map<number, (() => void)[]>();

  /**
   * Takes a slot of the project, or refuses with 429 when `limit` are taken (`wait`: queue for one
   * instead, for jobs that have no client to answer). A limit of 0 or less is no limit. The returned
   * function gives the slot back; calling it again does nothing.
   */
  async take(projectId: number, limit: number, wait = false): Promise<() => void> {
    if (limit <= 0) return () => undefined;
    while ((this.open.get(projectId) ?? 0) >= limit) {
      if (!wait) throw new AppError('TOOMANYREQUESTS', 'too many requests to upstream registry');
      await new Promise<void>((resolve) => {
        const queue = this.waiters.get(projectId) ?? [];
        queue.push(resolve);
        this.waiters.set(projectId, queue);
      });
    }
    this.open.set(projectId, (this.open.get(projectId) ?? 0) + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.open.get(projectId) ?? 1) - 1;
      if (left > 0) this.open.set(projectId, left);
      else this.open.delete(projectId);
      const queue = this.waiters.get(projectId);
      const next = queue?.shift();
      if (queue?.length === 0) this.waiters.delete(projectId);
      next?.();
    };
  }

  /** Downloads the project has open now (for tests and metrics). */
  inUse(projectId: number): number {
    return this.open.get(projectId) ?? 0;
  }
}
