/**
 * Replication throughput: the copy engine replicating an image of 5 × 64 MiB layers from Berth to
 * Debian's docker-registry, beside skopeo pushing the same image (from an OCI layout) to the same
 * registry. Rounds alternate; each round uses a fresh registry, so every layer is uploaded by both.
 * Run: `npm run build && node --import tsx bench/replication.ts` (BENCH_QUICK=1: 1 round, 2 layers).
 * When Berth's /v2 requires auth, set BENCH_BERTH_USER and BENCH_BERTH_PASSWORD.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyArtifact } from '../src/remotes/copy.js';
import { createRemote } from '../src/remotes/remotes.js';
import { startDockerRegistry } from '../test/helpers/docker-registry.js';
import { OciLayout, tempDir } from '../test/helpers/images.js';
import { benchAdmin, startBerthProcess } from './berth-process.js';
import { median, MiB, timed } from './measure.js';

const quick = process.env.BENCH_QUICK === '1';
const layers = quick ? 2 : 5;
const rounds = quick ? 1 : 3;
const log = (s: string) => process.stdout.write(`${s}\n`);

function skopeo(args: string[]): void {
  const r = spawnSync('skopeo', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
}

const layout = new OciLayout(tempDir('bench-replication'));
const layerDescs = Array.from({ length: layers }, () =>
  layout.writeBlob(randomBytes(64 * MiB), 'application/vnd.oci.image.layer.v1.tar'),
);
const config = layout.writeBlob(
  JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layerDescs.map((l) => l.digest) },
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
const totalMiB = (layers * 64 * MiB + config.size) / MiB;

const berth = await startBerthProcess();
const user = process.env.BENCH_BERTH_USER ?? benchAdmin.username;
const credential = user
  ? {
      type: 'basic' as const,
      accessKey: user,
      accessSecret: process.env.BENCH_BERTH_PASSWORD ?? benchAdmin.password,
    }
  : undefined;
const creds = user
  ? ['--dest-creds', `${user}:${process.env.BENCH_BERTH_PASSWORD ?? benchAdmin.password}`]
  : [];
try {
  const berthHost = new URL(berth.url).host;
  skopeo([
    'copy',
    '-q',
    '--dest-tls-verify=false',
    ...creds,
    layout.ref('v1'),
    `docker://${berthHost}/library/bench:v1`,
  ]);
  const source = createRemote({ type: 'docker-registry', name: 'berth', url: berth.url, credential });
  const copyRates: number[] = [];
  const skopeoRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // A fresh registry per round: neither client may mount or skip what an earlier round left there
    // (skopeo would mount from its blob-info cache).
    const registry = await startDockerRegistry({ logLevel: 'error' });
    const destination = createRemote({ type: 'docker-registry', name: 'distribution', url: registry.url });
    try {
      const copySeconds = await timed(async () => {
        const r = await copyArtifact({
          source,
          sourceRepository: 'library/bench',
          reference: 'v1',
          destination,
          destinationRepository: 'copy/app',
        });
        if (r.blobsCopied !== layers + 1) throw new Error(`copied ${r.blobsCopied} blobs`);
      });
      copyRates.push(totalMiB / copySeconds);
      const skopeoSeconds = await timed(async () =>
        skopeo([
          'copy',
          '-q',
          '--dest-tls-verify=false',
          layout.ref('v1'),
          `docker://${registry.host}/skopeo/app:v1`,
        ]),
      );
      skopeoRates.push(totalMiB / skopeoSeconds);
    } finally {
      await destination.close();
      await registry.stop();
    }
    log(
      `round ${round + 1}: copy engine ${copyRates.at(-1)!.toFixed(1)} MiB/s, skopeo push ${skopeoRates.at(-1)!.toFixed(1)} MiB/s`,
    );
  }
  log(
    `replication Berth → docker-registry, ${layers} × 64 MiB: ${median(copyRates).toFixed(1)} MiB/s (median of ${rounds}); skopeo push to the same registry: ${median(skopeoRates).toFixed(1)} MiB/s; ratio ${(median(copyRates) / median(skopeoRates)).toFixed(2)}`,
  );
  await source.close();
} finally {
  await berth.stop();
  rmSync(layout.dir, { recursive: true, force: true });
}
