/**
 * The built-in scanner's rows (issue 17): `berth vulndb import` of a generated database of 100 000 OSV
 * records (a realistic mix of ecosystems and range shapes) on SQLite, then a scan of a Debian bookworm
 * image (this machine's dpkg database, ~800 packages) against it. Berth only. Scanning is not yet wired
 * into the server (no scan API), so its effect on concurrent pulls is not measured here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect } from '../src/db/connect.js';
import { MetaStore } from '../src/db/store.js';
import { inventoryImage } from '../src/services/scanning/builtin/inventory/index.js';
import { matchInventory, scanImage } from '../src/services/scanning/builtin/scan-image.js';
import { openVulnDb } from '../src/services/scanning/builtin/stored-vuln-db.js';
import { bookwormImageLayers, debian12Records } from '../test/helpers/vulndb.js';
import { zipArchive } from '../test/helpers/zip.js';
import { median } from './measure.js';

export interface ScanBenchResult {
  records: number;
  zipBytes: number;
  importSeconds: number;
  packages: number;
  /** Whole scans (read the layer, inventory, match), median of 5. */
  scanSeconds: number;
  /** Matching alone (the inventory read once), median of 5. */
  matchSeconds: number;
  findings: number;
  pullImpact: string;
}

const root = resolve(import.meta.dirname, '..');

export async function scanBench(opts: {
  records: number;
  log: (s: string) => void;
}): Promise<ScanBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-vulndb-'));
  try {
    const zip = join(dir, 'all.zip');
    writeFileSync(zip, generatedDatabase(opts.records));
    const zipBytes = statSync(zip).size;
    opts.log(`  generated ${opts.records} records (${(zipBytes / 2 ** 20).toFixed(1)} MiB zip); importing …`);
    const t0 = performance.now();
    execFileSync(
      process.execPath,
      [join(root, 'dist/server/main.js'), 'vulndb', 'import', zip, '--data', join(dir, 'data')],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const importSeconds = (performance.now() - t0) / 1000;
    const handle = connect({
      url: `sqlite:${join(dir, 'data', 'berth.db')}`,
      poolMax: 1,
      acquireTimeoutMs: 5000,
    });
    try {
      const store = new MetaStore(handle.db);
      const scans: number[] = [];
      const matches: number[] = [];
      let findings = 0;
      const inventory = await inventoryImage(bookwormImageLayers());
      for (let i = 0; i < 5; i++) {
        let t = performance.now();
        const report = await scanImage({ layers: bookwormImageLayers() }, (await openVulnDb(store))!);
        scans.push((performance.now() - t) / 1000);
        findings = report.vulnerabilities.length;
        t = performance.now();
        await matchInventory(inventory, (await openVulnDb(store))!);
        matches.push((performance.now() - t) / 1000);
      }
      return {
        records: opts.records,
        zipBytes,
        importSeconds,
        packages: inventory.packages.length,
        scanSeconds: median(scans),
        matchSeconds: median(matches),
        findings,
        pullImpact: 'not measured: scanning is not wired into the server yet (no scan API or job)',
      };
    } finally {
      await handle.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A deterministic pseudo-random generator, so every run imports the same database. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * `count` OSV records: the committed Debian:12 fixture plus generated ones. Debian:12 records (40 %) name
 * this machine's source packages and made-up ones, with dpkg versions; npm, PyPI, Go, Maven and Alpine
 * records use their own version shapes; ranges are introduced/fixed, several ranges, last_affected,
 * unfixed, or a versions list; most carry a CVSS v3.1 vector, some a v4 one or only a vendor word.
 */
export function generatedDatabase(count: number): Buffer {
  const random = rng(17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const status = readFileSync('/var/lib/dpkg/status', 'utf8');
  const sources = [...new Set([...status.matchAll(/^(?:Source|Package): (\S+)/gm)].map((m) => m[1]!))];
  const files = debian12Records().map((r) => ({ path: r.file, content: JSON.stringify(r.record) }));
  const ecosystems = [
    {
      name: 'Debian:12',
      share: 0.4,
      version: () => `${int(1, 9)}.${int(0, 40)}.${int(0, 20)}-${int(1, 5)}+deb12u${int(1, 9)}`,
      pkg: () => (random() < 0.5 ? pick(sources) : `src-${int(0, 5000)}`),
    },
    {
      name: 'npm',
      share: 0.2,
      version: () => `${int(0, 9)}.${int(0, 30)}.${int(0, 30)}`,
      pkg: () => `pkg-${int(0, 20000)}`,
    },
    {
      name: 'PyPI',
      share: 0.12,
      version: () => `${int(0, 5)}.${int(0, 30)}${random() < 0.2 ? `rc${int(1, 3)}` : ''}`,
      pkg: () => `py-${int(0, 8000)}`,
    },
    {
      name: 'Go',
      share: 0.1,
      version: () => `${int(0, 2)}.${int(0, 40)}.${int(0, 20)}`,
      pkg: () => `github.com/org${int(0, 500)}/mod${int(0, 20)}`,
    },
    {
      name: 'Maven',
      share: 0.1,
      version: () => `${int(1, 6)}.${int(0, 20)}.${int(0, 10)}${random() < 0.1 ? '.RELEASE' : ''}`,
      pkg: () => `org.example${int(0, 300)}:lib-${int(0, 30)}`,
    },
    {
      name: 'Alpine:v3.19',
      share: 0.08,
      version: () => `${int(1, 4)}.${int(0, 20)}.${int(0, 9)}-r${int(0, 9)}`,
      pkg: () => `apk-${int(0, 2000)}`,
    },
  ] as const;
  function int(lo: number, hi: number): number {
    return lo + Math.floor(random() * (hi - lo + 1));
  }
  const vectors = [
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N',
    'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N',
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
  ];
  for (let i = files.length; i < count; i++) {
    let r = random();
    const eco = ecosystems.find((e) => (r -= e.share) < 0) ?? ecosystems[0];
    const shape = random();
    const v1 = eco.version();
    const v2 = eco.version();
    const ranges =
      shape < 0.6
        ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: v1 }] }]
        : shape < 0.75
          ? [
              {
                type: 'ECOSYSTEM',
                events: [
                  { introduced: v1 },
                  { fixed: v2 },
                  { introduced: eco.version() },
                  { fixed: eco.version() },
                ],
              },
            ]
          : shape < 0.85
            ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: v1 }] }]
            : shape < 0.93
              ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }]
              : [];
    const id = `BENCH-${eco.name.split(':')[0]!.toUpperCase()}-${i}`;
    const sev = random();
    const record = {
      schema_version: '1.6.0',
      id,
      modified: '2025-06-01T00:00:00Z',
      aliases: [`CVE-2025-${10000 + i}`],
      summary: `generated advisory ${i}`,
      details: `A generated advisory for the bench, ${eco.name} record ${i}. `.repeat(3),
      ...(sev < 0.7
        ? { severity: [{ type: 'CVSS_V3', score: pick(vectors) }] }
        : sev < 0.75
          ? {
              severity: [
                { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
              ],
            }
          : { database_specific: { severity: pick(['LOW', 'MODERATE', 'HIGH', 'CRITICAL']) } }),
      affected: [
        {
          package: { ecosystem: eco.name, name: eco.pkg() },
          ranges,
          ...(ranges.length ? {} : { versions: [v1, v2] }),
        },
      ],
      references: [{ type: 'ADVISORY', url: `https://example.org/advisories/${id}` }],
    };
    files.push({ path: `${id}.json`, content: JSON.stringify(record) });
  }
  return zipArchive(files);
}
