import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket shared by every stream of one copy: `bytesPerSecond` tokens accrue continuously, up to
 * one second's worth (the allowed burst). Streams piped through `throttle()` pass a chunk on only when
 * the bucket holds enough tokens for it, so the average rate stays at or under the limit.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) throw new RangeError('bytesPerSecond must be positive');
    this.tokens = 0;
  }

  /** Resolves once `n` bytes may pass; callers are served in order. */
  take(n: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(n, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(n: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(
      this.bytesPerSecond,
      this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond,
    );
    this.last = now;
    this.tokens -= n;
    if (this.tokens < 0) await sleep((-this.tokens / this.bytesPerSecond) * 1000, undefined, { signal });
  }

  /** A pass-through stream that spends this bucket's tokens. */
  throttle(signal?: AbortSignal): Transform {
    // Large chunks are split so the rate is smooth rather than bursty.
    const piece = Math.max(1024, Math.floor(this.bytesPerSecond / 10));
    const stream: Transform = new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        const run = async () => {
          for (let at = 0; at < chunk.length; at += piece) {
            const part = chunk.subarray(at, at + piece);
            await this.take(part.length, signal);
            stream.push(part);
          }
        };
        run().then(
          () => done(),
          (err: unknown) => done(err as Error),
        );
      },
    });
    return stream;
  }
}
