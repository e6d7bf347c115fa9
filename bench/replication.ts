/**
 * Replication throughput, one workload of `npm run bench` (BENCH_ONLY=replication runs it alone): the
 * benched Berth replicates an image of 5 × 64 MiB layers (random bytes, gzip-stored) to Debian's docker-registry through its own
 * API (registry endpoint, push-based manual policy, execution), beside skopeo pushing the same image
 * from an OCI layout on disk to docker-registry. Each side gets a fresh registry in every round, so every
 * layer is uploaded (no HEAD hit, no mount). Berth's rate is the copy task's own start-to-end time (what
 * skopeo's figure is too); the execution's wall time, queueing included, is reported beside it.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { containerTools } from '../test/helpers/containers.js';
import { startDockerRegistry, type RunningDockerRegistry } from '../test/helpers/docker-registry.js';
import { OciLayout, sha256, tempDir, type Descriptor } from '../test/helpers/images.js';
import { benchAdmin, benchAuthorization } from './berth-process.js';
import { MB, MiB, timed } from './measure.js';
import type { WorkloadResult } from './report.js';

export interface ReplicationBenchResult {
  layers: number;
  layerMiB: number;
  bytes: number;
  rounds: number;
  /** Copy task start to end, per round. */
  berthMBps: number[];
  /** POST /replication/executions until the execution reads Succeed, per round. */
  executionSeconds: number[];
  skopeoMBps: number[];
}

/** The image: random (incompressible) gzip layers in an OCI layout, tagged v1. */
function writeImage(dir: string, layers: number, layerMiB: number): { layout: OciLayout; bytes: number } {
  const layout = new OciLayout(dir);
  const layerDescs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layers; i++) {
    // Gzip (stored, level 0) around random bytes: skopeo sniffs the stream and would gzip an uncompressed
    // layer on its way to a registry, which would measure its compressor, not its upload.
    const raw = randomBytes(layerMiB * MiB);
    diffIds.push(sha256(raw));
    layerDescs.push(
      layout.writeBlob(gzipSync(raw, { level: 0 }), 'application/vnd.oci.image.layer.v1.tar+gzip'),
    );
  }
  const config = layout.writeBlob(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = layout.writeBlob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: layerDescs,
    }),
    'application/vnd.oci.image.manifest.v1+json',
  );
  writeFileSync(
    join(layout.dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
    }),
  );
  return { layout, bytes: layerDescs.reduce((n, l) => n + l.size, 0) + config.size + manifest.size };
}

/** The Harbor API of the benched Berth, as its admin. */
function apiOf(berthUrl: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<{ res: Response; json: T }> => {
    const res = await fetch(`${berthUrl}/api/v2.0${path}`, {
      method,
      headers: {
        authorization: benchAuthorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return { res, json: (text ? JSON.parse(text) : undefined) as T };
  };
}

const idOf = (res: Response) => Number(res.headers.get('location')!.split('/').pop());

async function manifestDigest(registry: RunningDockerRegistry, repo: string): Promise<string | null> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/v1`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

export async function replicationBench(
  berthUrl: string,
  options: { quick: boolean; log: (s: string) => void },
): Promise<{ workload: WorkloadResult; details: ReplicationBenchResult }> {
  const layers = options.quick ? 2 : 5;
  const layerMiB = options.quick ? 16 : 64;
  const rounds = options.quick ? 1 : 3;
  const api = apiOf(berthUrl);
  const work = tempDir('bench-replication');
  const tools = containerTools();
  const details: ReplicationBenchResult = {
    layers,
    layerMiB,
    bytes: 0,
    rounds,
    berthMBps: [],
    executionSeconds: [],
    skopeoMBps: [],
  };
  try {
    const { layout, bytes } = writeImage(work, layers, layerMiB);
    details.bytes = bytes;
    const berthHost = new URL(berthUrl).host;
    tools.login(berthHost, benchAdmin);
    const pushSeconds = await timed(() =>
      tools.skopeo([
        'copy',
        '-q',
        '--dest-tls-verify=false',
        layout.ref('v1'),
        `docker://${berthHost}/bench/replication:v1`,
      ]),
    );
    // A line of its own, so that an RSS trace of Berth can tell this push from the replication rounds.
    options.log(`  the image pushed to Berth by skopeo: ${(bytes / MB / pushSeconds).toFixed(1)} MB/s`);
    const source = (
      await api<{ digest: string }>('GET', '/projects/bench/repositories/replication/artifacts/v1')
    ).json.digest;

    const viaBerth = async (round: number) => {
      const registry = await startDockerRegistry({ logLevel: 'error' });
      try {
        const registryId = idOf(
          (
            await api('POST', '/registries', {
              name: `bench-${round}`,
              type: 'docker-registry',
              url: registry.url,
            })
          ).res,
        );
        const policyId = idOf(
          (
            await api('POST', '/replication/policies', {
              name: `bench-${round}`,
              dest_registry: { id: registryId },
              filters: [{ type: 'name', value: 'bench/replication' }],
              trigger: { type: 'manual' },
            })
          ).res,
        );
        let status = '';
        const wall = await timed(async () => {
          const id = idOf((await api('POST', '/replication/executions', { policy_id: policyId })).res);
          for (;;) {
            const e = await api<{ status: string; status_text: string }>(
              'GET',
              `/replication/executions/${id}`,
            );
            if (e.json.status !== 'InProgress') {
              status = `${e.json.status} ${e.json.status_text}`;
              const tasks = await api<{ start_time: string; end_time: string }[]>(
                'GET',
                `/replication/executions/${id}/tasks`,
              );
              const t = tasks.json[0]!;
              const seconds = (Date.parse(t.end_time) - Date.parse(t.start_time)) / 1000;
              details.berthMBps.push(bytes / MB / seconds);
              return;
            }
            await new Promise((r) => setTimeout(r, 50));
          }
        });
        if (!status.startsWith('Succeed')) throw new Error(`replication execution ended ${status}`);
        const copied = await manifestDigest(registry, 'bench/replication');
        if (copied !== source) throw new Error(`replicated manifest ${copied}, expected ${source}`);
        details.executionSeconds.push(wall);
        await api('DELETE', `/replication/policies/${policyId}`);
        await api('DELETE', `/registries/${registryId}`);
      } finally {
        await registry.stop();
      }
    };
    const viaSkopeo = async () => {
      const registry = await startDockerRegistry({ logLevel: 'error' });
      try {
        const seconds = await timed(() =>
          tools.skopeo([
            'copy',
            '-q',
            '--dest-tls-verify=false',
            layout.ref('v1'),
            `docker://${registry.host}/skopeo/app:v1`,
          ]),
        );
        // Same manifest digest: skopeo sent the layers as they are (no recompression on the way).
        const pushed = await manifestDigest(registry, 'skopeo/app');
        if (pushed !== source) throw new Error(`skopeo pushed manifest ${pushed}, expected ${source}`);
        details.skopeoMBps.push(bytes / MB / seconds);
      } finally {
        await registry.stop();
      }
    };
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, as the other workloads do.
      if (round % 2 === 0) {
        await viaBerth(round);
        await viaSkopeo();
      } else {
        await viaSkopeo();
        await viaBerth(round);
      }
      options.log(
        `  round ${round + 1}: Berth replication ${details.berthMBps.at(-1)!.toFixed(1)} MB/s (execution ${details.executionSeconds.at(-1)!.toFixed(1)} s), skopeo push ${details.skopeoMBps.at(-1)!.toFixed(1)} MB/s`,
      );
    }
  } finally {
    tools.close();
    rmSync(work, { recursive: true, force: true });
  }
  return {
    details,
    workload: {
      id: 'replication',
      title: `replicate ${layers} × ${layerMiB} MiB image to distribution (skopeo push beside)`,
      main: 'MB/s',
      berth: details.berthMBps.map((x) => ({ 'MB/s': x })),
      distribution: details.skopeoMBps.map((x) => ({ 'MB/s': x })),
    },
  };
}
