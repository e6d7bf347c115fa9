import { readZipEntries } from '../../../../lib/zip-reader.js';
import { parsePomProperties } from './language-packages.js';
import type { FoundPackage } from './package.js';

const BOUNDS = { maxEntries: 100_000, maxEntryBytes: 64 * 1024 * 1024 };
const POM = /(?:^|\/)META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
const ARCHIVE = /\.(?:jar|war|ear)$/i;

/**
 * A jar/war/ear (a zip, held in memory up to the scanner's bound, never written to disk): every
 * `META-INF/maven/<group>/<artifact>/pom.properties` inside it, and inside the archives it nests one
 * level down (Spring Boot's `BOOT-INF/lib/*.jar`, a war's `WEB-INF/lib/*.jar`).
 */
export async function readJavaArchive(
  archive: Buffer,
  where: Pick<FoundPackage, 'path' | 'layer'>,
  depth = 0,
): Promise<FoundPackage[]> {
  const out: FoundPackage[] = [];
  for await (const entry of readZipEntries(archive, BOUNDS)) {
    if (POM.test(entry.name) && entry.size < 64 * 1024)
      out.push(...parsePomProperties((await entry.read()).toString('utf8'), where));
    else if (depth === 0 && ARCHIVE.test(entry.name))
      out.push(
        ...(await readJavaArchive(await entry.read(), { ...where, path: `${where.path}!/${entry.name}` }, 1)),
      );
  }
  return out;
}
