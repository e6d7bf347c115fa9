/**
 * The built-in offline scanner's entry point.
 *
 *   scanImage({ layers, artifact? }, vulnDb, options?) → Promise<VulnerabilityReport>
 *
 * `layers` are the image's layers lowest first, each `{ digest, mediaType, open() }` where `open()`
 * streams the blob from the StorageDriver (gzip or plain tar; zstd layers are noted and skipped).
 * `vulnDb` is a VulnDbReader over the imported OSV database (db/repos/vuln-db.ts is the one over the
 * metadata database). Nothing here touches HTTP, the network or the disk (but a temporary copy of an
 * rpm sqlite database).
 *
 * The result is Harbor's vulnerability report (report.ts): `generated_at`, `scanner`, `severity` (the
 * highest found; None when nothing is), and `vulnerabilities[]` with `id` (a CVE id where the advisory
 * names one, else the OSV id), `package`, `version` (as installed), `fix_version` (lowest fixed version
 * above it, '' when none), `severity`, `description`, `links`, `layer`, `preferred_cvss`, `cwe_ids` and
 * `vendor_attributes.CVSS.osv`. Items are unique per (id, package, version) and sorted by severity
 * (highest first), then id and package.
 *
 * How: inventory/ reads the packages (dpkg, apk, rpm sqlite, npm, PyPI, Go binaries, Maven jars) with
 * whiteouts applied; OS packages match under the OSV ecosystem os-release implies (`Debian:12`), by
 * their source package where the package manager records one; versions compare by the ecosystem's
 * ordering (versions/); ranges are evaluated as the OSV schema says (osv.ts); severities come from
 * CVSS or the vendor's word (severity.ts), computed once at import.
 */
import {
  inventoryImage,
  type FoundPackage,
  type ImageLayer,
  type Inventory,
  type InventoryLimits,
} from './inventory/index.js';
import { affects } from './osv.js';
import type { VulnerabilityItem, VulnerabilityReport } from './report.js';
import { maxSeverity, severityCode, type Severity } from './severity.js';
import { versionOrder } from './versions/index.js';
import type { AffectedEntry, VulnDbReader } from './vuln-db.js';
import { compareCodeUnits } from '../../../lib/code-unit-order.js';

export interface ScanRequest {
  layers: ImageLayer[];
  artifact?: VulnerabilityReport['artifact'];
}

export interface ScanOptions {
  limits?: InventoryLimits;
  scanner?: VulnerabilityReport['scanner'];
  now?: () => Date;
}

export const BUILTIN_SCANNER = { name: 'Berth', vendor: 'Berth', version: '1.0' };

export async function scanImage(
  request: ScanRequest,
  vulnDb: VulnDbReader,
  options: ScanOptions = {},
): Promise<VulnerabilityReport> {
  const inventory = await inventoryImage(request.layers, options.limits);
  return matchInventory(inventory, vulnDb, { ...options, artifact: request.artifact });
}

/** Matches an inventory against the database (exported apart so an SBOM and a scan can share one read). */
export async function matchInventory(
  inventory: Inventory,
  vulnDb: VulnDbReader,
  options: Omit<ScanOptions, 'limits'> & { artifact?: VulnerabilityReport['artifact'] } = {},
): Promise<VulnerabilityReport> {
  const hits: Array<{ pkg: FoundPackage; entry: AffectedEntry; fixVersion: string }> = [];
  for (const [ecosystem, pkgs] of groupByEcosystem(inventory)) {
    const compare = versionOrder(ecosystem);
    if (!compare) continue;
    const entries = await vulnDb.affected(ecosystem, [...new Set(pkgs.map((p) => matchName(p)))]);
    const byName = groupBy(entries, (e) => e.name);
    for (const pkg of pkgs) {
      const version = matchVersion(pkg);
      for (const entry of byName.get(matchName(pkg)) ?? []) {
        const hit = affects(entry, version, compare);
        if (hit) hits.push({ pkg, entry, fixVersion: hit.fixVersion });
      }
    }
  }
  const advisories = new Map(
    (await vulnDb.advisories([...new Set(hits.map((h) => h.entry.vulnId))])).map((a) => [a.id, a]),
  );
  const items = new Map<string, VulnerabilityItem>();
  let overall: Severity = 'None';
  for (const { pkg, entry, fixVersion } of hits) {
    const adv = advisories.get(entry.vulnId);
    if (!adv) continue;
    for (const id of reportIds(adv.id, adv.aliases)) {
      const key = `${id}\0${pkg.name}\0${pkg.version}`;
      const known = items.get(key);
      if (known && severityCode(known.severity) >= severityCode(entry.severity)) continue;
      items.set(key, itemOf(id, pkg, entry, fixVersion, adv));
      overall = maxSeverity(overall, entry.severity);
    }
  }
  const vulnerabilities = [...items.values()].sort(
    (a, b) =>
      severityCode(b.severity) - severityCode(a.severity) ||
      compareCodeUnits(a.id, b.id) ||
      compareCodeUnits(a.package, b.package),
  );
  return {
    generated_at: (options.now?.() ?? new Date()).toISOString(),
    ...(options.artifact ? { artifact: options.artifact } : {}),
    scanner: options.scanner ?? BUILTIN_SCANNER,
    severity: overall,
    vulnerabilities,
  };
}

function groupByEcosystem(inventory: Inventory): Map<string, FoundPackage[]> {
  return groupBy(inventory.packages, (pkg) => (pkg.kind === 'os' ? inventory.os?.ecosystem : pkg.kind));
}

function groupBy<T>(xs: T[], key: (x: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    if (!k) continue;
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

function matchName(p: FoundPackage): string {
  return p.source?.name ?? p.name;
}

function matchVersion(p: FoundPackage): string {
  const v = p.source?.version ?? p.version;
  return p.kind === 'Go' ? v.replace(/^v(?=\d)/, '') : v;
}

/** A CVE-named advisory reports under its id; a DSA/DLA/GHSA/... under each CVE it aliases, if any. */
function reportIds(id: string, aliases: string[]): string[] {
  if (id.startsWith('CVE-')) return [id];
  const cves = aliases.filter((a) => a.startsWith('CVE-'));
  return cves.length ? cves : [id];
}

function itemOf(
  id: string,
  pkg: FoundPackage,
  entry: AffectedEntry,
  fixVersion: string,
  adv: { id: string; summary: string; details: string; links: string[]; cweIds: string[] },
): VulnerabilityItem {
  const { v2, v3, v4 } = entry.cvss;
  const cvss: Record<string, unknown> = {};
  if (v2) Object.assign(cvss, { V2Score: v2.score, V2Vector: v2.vector });
  if (v3) Object.assign(cvss, { V3Score: v3.score, V3Vector: v3.vector });
  if (v4) Object.assign(cvss, { V40Score: v4.score, V40Vector: v4.vector });
  const osvLink = `https://osv.dev/vulnerability/${adv.id}`;
  return {
    id,
    package: pkg.name,
    version: pkg.version,
    fix_version: fixVersion,
    severity: entry.severity,
    description: adv.details || adv.summary,
    links: [osvLink, ...adv.links.filter((l) => l !== osvLink)],
    layer: { digest: pkg.layer },
    preferred_cvss: {
      ...(v3 ? { score_v3: v3.score, vector_v3: v3.vector } : {}),
      ...(v2 ? { score_v2: v2.score, vector_v2: v2.vector } : {}),
    },
    cwe_ids: adv.cweIds,
    vendor_attributes: Object.keys(cvss).length ? { CVSS: { osv: cvss } } : {},
  };
}
