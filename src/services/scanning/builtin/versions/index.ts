import semver from 'semver';
import { compareApk } from './apk.js';
import { compareDigits, compareDpkg } from './dpkg.js';
import { compareMaven } from './maven.js';
import { comparePep440 } from './pep440.js';

export type VersionCompare = (a: string, b: string) => number;

/**
 * Semantic Versioning 2.0 (npm, Go, crates): pre-releases below their release, build metadata ignored
 * (Go's `+incompatible` included); Go's `v` prefix is dropped. A string semver cannot parse sorts below
 * every valid one and by text among its kind.
 */
export function compareSemver(a: string, b: string): number {
  const x = semver.parse(a.replace(/^v(?=\d)/, ''), { loose: true });
  const y = semver.parse(b.replace(/^v(?=\d)/, ''), { loose: true });
  if (!x || !y) return x ? 1 : y ? -1 : a < b ? -1 : a > b ? 1 : 0;
  return x.compare(y);
}

/** The ordering an OSV ecosystem name implies (`Debian:12` → dpkg), or undefined for one we don't know. */
export function versionOrder(ecosystem: string): VersionCompare | undefined {
  const base = ecosystem.split(':')[0]!;
  switch (base) {
    case 'Debian':
    case 'Ubuntu':
      return compareDpkg;
    case 'Alpine':
    case 'Wolfi':
    case 'Chainguard':
      return compareApk;
    case 'npm':
    case 'Go':
    case 'crates.io':
    case 'NuGet':
    case 'Hex':
    case 'Pub':
      return compareSemver;
    case 'PyPI':
      return comparePep440;
    case 'Maven':
      return compareMaven;
    case 'Rocky Linux':
    case 'AlmaLinux':
    case 'Red Hat':
    case 'openSUSE':
    case 'SUSE':
    case 'Mariner':
      return compareRpm;
    default:
      return undefined;
  }
}

/**
 * rpm's `rpmvercmp` over `[epoch:]version-release`: alphanumeric runs compare (numbers numerically and
 * above letters), separators only split, `~` sorts before everything and `^` after the end.
 */
export function compareRpm(a: string, b: string): number {
  const [ea, va, ra] = splitEvr(a);
  const [eb, vb, rb] = splitEvr(b);
  return ea !== eb ? (ea < eb ? -1 : 1) : rpmvercmp(va, vb) || rpmvercmp(ra, rb);
}

function splitEvr(s: string): [number, string, string] {
  const m = /^(?:(\d+):)?([^-]*)(?:-(.*))?$/.exec(s.trim());
  return [Number(m?.[1] ?? 0), m?.[2] ?? s, m?.[3] ?? ''];
}

function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  const ta = a.match(/~|\^|\d+|[A-Za-z]+/g) ?? [];
  const tb = b.match(/~|\^|\d+|[A-Za-z]+/g) ?? [];
  for (let i = 0; ; i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === '~' || y === '~') {
      if (x !== y) return x === '~' ? -1 : 1;
      continue;
    }
    if (x === '^' || y === '^') {
      if (x === undefined) return -1;
      if (y === undefined) return 1;
      if (x !== y) return x === '^' ? -1 : 1;
      continue;
    }
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx !== ny) return nx ? 1 : -1;
    const d = nx ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return d;
  }
}
