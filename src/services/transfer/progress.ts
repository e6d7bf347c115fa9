/** Where an export, verify or import stands, as the CLI shows it (a bar on a terminal, JSON lines else). */
export interface TransferProgress {
  phase: 'export' | 'verify' | 'import';
  /** Blobs handled so far, of `totalBlobs`. */
  blobs: number;
  totalBlobs: number;
  bytes: number;
  totalBytes: number;
  /** Blobs found already written (a resumed export) or already held (an import's deduplication). */
  skipped: number;
  /** The blob just handled. */
  digest?: string;
}

export type ProgressSink = (p: TransferProgress) => void;

/** Counts blobs and bytes for one phase and reports each step. */
export class ProgressCounter {
  private readonly state: TransferProgress;

  constructor(
    phase: TransferProgress['phase'],
    blobs: readonly { size: number }[],
    private readonly sink: ProgressSink,
  ) {
    this.state = {
      phase,
      blobs: 0,
      totalBlobs: blobs.length,
      bytes: 0,
      totalBytes: blobs.reduce((n, b) => n + b.size, 0),
      skipped: 0,
    };
    sink({ ...this.state });
  }

  step(digest: string, size: number, skipped = false): void {
    this.state.blobs++;
    this.state.bytes += size;
    if (skipped) this.state.skipped++;
    this.sink({ ...this.state, digest });
  }
}
