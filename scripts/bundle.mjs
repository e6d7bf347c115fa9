#!/usr/bin/env node
// Bundles the server (dist/src, tsc's output) into dist/server/main.js with esbuild. Node 20 keeps tens of
// KiB per loaded ES module (module records, source text, the loader's own objects): Berth loads ~640 of them
// at start (kysely alone 258, zod 95), so the bundle saves a fresh node ~25 MiB of RSS (issue 15's idle
// memory). Dynamic imports stay lazy as chunks beside it. Packages other than kysely and zod (the
// many-module ESM ones) stay external: CommonJS and native addons load as before, from node_modules.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = new Set(['kysely', 'zod']);
const outdir = join(root, 'dist/server');
rmSync(outdir, { recursive: true, force: true });
await build({
  // The worker threads (the built-in scanner's, the webhook deliveries', the hashing and checkpointing ones) are entries of their own.
  entryPoints: ['main', 'scan-worker', 'webhook-worker', 'hash-worker', 'checkpoint-worker'].map((f) =>
    join(root, `dist/src/${f}.js`),
  ),
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  plugins: [
    {
      name: 'external-packages',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          const name = args.path.startsWith('@')
            ? args.path.split('/').slice(0, 2).join('/')
            : args.path.split('/')[0];
          return bundled.has(name) ? undefined : { path: args.path, external: true };
        });
      },
    },
  ],
});
