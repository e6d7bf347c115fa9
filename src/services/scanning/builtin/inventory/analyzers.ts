import type { TarEntry } from '../../../../lib/tar-reader.js';
import { goPackages, readGoBuildInfo } from './go-buildinfo.js';
import { readJavaArchive } from './java-archive.js';
import { parseNodeModulesPackage, parsePackageLock, parsePythonMetadata } from './language-packages.js';
import { parseApkInstalled, parseDpkgStatus } from './os-packages.js';
import { parseOsRelease } from './os-release.js';
import { TooLarge, type FoundPackage, type OsInfo } from './package.js';
import { readRpmFile } from './rpm-file.js';

/** What one file of a layer contributed: packages, or (for os-release) the OS. */
export type Finding = { packages: FoundPackage[] } | { os: OsInfo; priority: number };

type Where = Pick<FoundPackage, 'path' | 'layer'>;

export interface AnalyzerLimits {
  /** Largest file held in memory to parse (a dpkg status, a lock file, a jar). */
  maxFileBytes: number;
  /** Largest rpm database copied to a temporary file. */
  maxRpmDbBytes: number;
}

/**
 * The analyzer for a path in an image (no leading `/`), or undefined when nothing there is read.
 * Each returns the file's findings; files are read whole only up to the bound, executables stream.
 */
export function analyzerFor(
  path: string,
  entry: Pick<TarEntry, 'size' | 'mode'>,
  limits: AnalyzerLimits,
): ((entry: TarEntry, where: Where) => Promise<Finding>) | undefined {
  const text = (parse: (t: string, w: Where) => FoundPackage[]) => async (e: TarEntry, w: Where) => {
    if (e.size > limits.maxFileBytes) throw new TooLarge(path, e.size);
    return { packages: parse((await e.read()).toString('utf8'), w) };
  };
  if (path === 'etc/os-release' || path === 'usr/lib/os-release')
    return async (e) => ({
      os: parseOsRelease((await e.read()).toString('utf8')),
      priority: path.startsWith('etc') ? 2 : 1,
    });
  if (
    path === 'var/lib/dpkg/status' ||
    (path.startsWith('var/lib/dpkg/status.d/') && !path.endsWith('.md5sums'))
  )
    return text(parseDpkgStatus);
  if (path === 'lib/apk/db/installed') return text(parseApkInstalled);
  if (path === 'var/lib/rpm/rpmdb.sqlite' || path === 'usr/lib/sysimage/rpm/rpmdb.sqlite')
    return async (e, w) => ({ packages: await readRpmFile(e, w, limits.maxRpmDbBytes) });
  const base = path.slice(path.lastIndexOf('/') + 1);
  if ((base === 'package-lock.json' || base === 'npm-shrinkwrap.json') && !path.includes('node_modules/'))
    return text(parsePackageLock);
  if (base === 'package.json' && /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path))
    return text(parseNodeModulesPackage);
  if (/\.dist-info\/METADATA$/.test(path) || /\.egg-info\/PKG-INFO$/.test(path))
    return text(parsePythonMetadata);
  if (/\.(?:jar|war|ear)$/i.test(base))
    return async (e, w) => {
      if (e.size > limits.maxFileBytes) throw new TooLarge(path, e.size);
      return { packages: await readJavaArchive(await e.read(), w) };
    };
  if ((entry.mode & 0o111) !== 0 && entry.size >= 1024)
    return async (e, w) => {
      const info = await readGoBuildInfo(elfOnly(e.body()));
      return { packages: info ? goPackages(info, w) : [] };
    };
  return undefined;
}

/** Passes an ELF file's chunks on; anything else (scripts, other formats) ends after the first chunk. */
async function* elfOnly(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let first = true;
  for await (const c of chunks) {
    if (first && !(c[0] === 0x7f && c[1] === 0x45 && c[2] === 0x4c && c[3] === 0x46)) return;
    first = false;
    yield c;
  }
}
