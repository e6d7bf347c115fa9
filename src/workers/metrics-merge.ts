import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { WorkerMessage } from './role.js';

/** A scrape waits this long for the workers' figures, then merges what came. */
const gatherTimeoutMs = 2_000;

interface Gather {
  waiting: Set<number>;
  got: object[];
  done(): void;
}

/**
 * GET /metrics under `serve --workers N` reaches one worker; Prometheus must see the machine. The worker
 * asks the primary, which collects every live worker's registry (prom-client's JSON form) and merges
 * them with prom-client's AggregatorRegistry: counters and histograms add up, each gauge as declared.
 */
export class MetricsMerge {
  private readonly gathers = new Map<number, Gather>();
  private nextId = 0;

  constructor(private readonly send: (worker: Worker, m: WorkerMessage) => void) {}

  /** `from` asked (its request `requestId`); `live` are the workers to ask. */
  gather(from: Worker, requestId: number, live: Worker[]): void {
    const id = this.nextId++;
    const g: Gather = { waiting: new Set(live.map((w) => w.id)), got: [], done: () => undefined };
    const timer = setTimeout(() => g.done(), gatherTimeoutMs);
    g.done = () => {
      if (!this.gathers.delete(id)) return;
      clearTimeout(timer);
      void AggregatorRegistry.aggregate(g.got)
        .metrics()
        .then((text) => this.send(from, { berth: 'gathered', id: requestId, text }));
    };
    this.gathers.set(id, g);
    for (const w of live) this.send(w, { berth: 'collect', id });
    if (live.length === 0) g.done();
  }

  collected(from: Worker, id: number, metrics: unknown): void {
    const g = this.gathers.get(id);
    if (!g) return;
    g.got.push(metrics as object);
    g.waiting.delete(from.id);
    if (g.waiting.size === 0) g.done();
  }
}
