import { createHash } from 'node:crypto';
import type { FoundPackage, Inventory, OsInfo } from '../builtin/inventory/index.js';

/**
 * An SPDX 2.3 JSON document of an image, made from the built-in scanner's package inventory.
 *
 * SPDX rather than CycloneDX because it is what Harbor asks its scanners for (`sbom_media_types:
 * ["application/spdx+json"]`) and what its UI and accessory expect; Trivy answers that request the same way.
 *
 * Deterministic: the same inventory, subject and `created` give the same bytes (packages sorted, SPDX ids
 * and the document namespace derived from content), so a re-scan of an unchanged image pushes the same
 * accessory digest when the time is the same, and tests can compare whole documents.
 *
 * Shape: the image is the described package (`primaryPackagePurpose: CONTAINER`), its OS a package
 * (`OPERATING-SYSTEM`) that CONTAINS each OS package, and the image CONTAINS each language package. Every
 * package carries a purl external reference and where it was found (`sourceInfo`).
 */

export const SPDX_MEDIA_TYPE = 'application/spdx+json';

export interface SbomSubject {
  /** Full repository name, `project/repo`. */
  repository: string;
  digest: string;
  tag?: string | null;
}

export interface SpdxOptions {
  /** The document's creation time (SPDX's `created`, second precision). */
  created: Date;
  /** `Tool: <name>-<version>` in `creators`. */
  tool?: { name: string; version: string };
}

export interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: 'NOASSERTION';
  filesAnalyzed: false;
  licenseConcluded?: 'NOASSERTION';
  licenseDeclared?: 'NOASSERTION';
  copyrightText?: 'NOASSERTION';
  supplier?: string;
  sourceInfo?: string;
  primaryPackagePurpose?: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
  annotations?: { annotator: string; annotationDate: string; annotationType: 'OTHER'; comment: string }[];
}

export interface SpdxDocument {
  spdxVersion: 'SPDX-2.3';
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { creators: string[]; created: string };
  packages: SpdxPackage[];
  relationships: { spdxElementId: string; relatedSpdxElement: string; relationshipType: string }[];
}

const IMAGE_ID = 'SPDXRef-Image';
const OS_ID = 'SPDXRef-OperatingSystem';

export function spdxDocument(inventory: Inventory, subject: SbomSubject, options: SpdxOptions): SpdxDocument {
  const created = `${options.created.toISOString().slice(0, 19)}Z`;
  const tool = options.tool ?? { name: 'Berth', version: '1.0' };
  const imageName = subject.tag
    ? `${subject.repository}:${subject.tag}`
    : `${subject.repository}@${subject.digest}`;
  const [algorithm, hex] = subject.digest.split(':') as [string, string];
  const image: SpdxPackage = {
    SPDXID: IMAGE_ID,
    name: subject.repository,
    versionInfo: subject.digest,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    primaryPackagePurpose: 'CONTAINER',
    checksums: [{ algorithm: algorithm.toUpperCase(), checksumValue: hex }],
    externalRefs: [
      purlRef(
        `pkg:oci/${encodeURIComponent(lastSegment(subject.repository))}@${encodeURIComponent(subject.digest)}`,
      ),
    ],
  };
  const packages: SpdxPackage[] = [image];
  const relationships: SpdxDocument['relationships'] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: IMAGE_ID, relationshipType: 'DESCRIBES' },
  ];
  const os = inventory.os;
  if (os) {
    packages.push({
      SPDXID: OS_ID,
      name: os.id,
      versionInfo: os.versionId,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'OPERATING-SYSTEM',
    });
    relationships.push({ spdxElementId: IMAGE_ID, relatedSpdxElement: OS_ID, relationshipType: 'CONTAINS' });
  }
  const seen = new Set<string>();
  const found = [...inventory.packages].sort(byIdentity);
  for (const p of found) {
    const id = spdxId(p);
    if (seen.has(id)) continue;
    seen.add(id);
    const purl = purlOf(p, os);
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      sourceInfo: `${foundBy(p)}: /${p.path} (layer ${p.layer})${
        p.source && (p.source.name !== p.name || p.source.version !== p.version)
          ? `; source package ${p.source.name} ${p.source.version}`
          : ''
      }`,
      primaryPackagePurpose: 'LIBRARY',
      ...(purl ? { externalRefs: [purlRef(purl)] } : {}),
    });
    relationships.push({
      spdxElementId: p.kind === 'os' && os ? OS_ID : IMAGE_ID,
      relatedSpdxElement: id,
      relationshipType: 'CONTAINS',
    });
  }
  const namespaceSeed = createHash('sha256')
    .update(`${imageName}\n${subject.digest}\n${created}`)
    .digest('hex');
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: imageName,
    documentNamespace: `urn:uuid:${uuidFrom(namespaceSeed)}`,
    creationInfo: { creators: [`Organization: ${tool.name}`, `Tool: ${tool.name}-${tool.version}`], created },
    packages,
    relationships,
  };
}

/** The document as the bytes stored in the accessory (two-space indented JSON, as Trivy writes it). */
export function spdxBytes(doc: SpdxDocument): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
}

function byIdentity(a: FoundPackage, b: FoundPackage): number {
  const osFirst = Number(a.kind !== 'os') - Number(b.kind !== 'os');
  return (
    osFirst || cmp(a.kind, b.kind) || cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.path, b.path)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `SPDXRef-Package-<16 hex>` from what identifies the package in the image (SPDX ids allow [A-Za-z0-9.-]). */
function spdxId(p: FoundPackage): string {
  const h = createHash('sha256').update(`${p.kind}\n${p.name}\n${p.version}\n${p.path}`).digest('hex');
  return `SPDXRef-Package-${h.slice(0, 16)}`;
}

function uuidFrom(hex: string): string {
  const v = `${hex.slice(0, 12)}5${hex.slice(13, 16)}${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 32)}`;
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20, 32)}`;
}

function purlRef(locator: string) {
  return { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: locator };
}

function lastSegment(repository: string): string {
  return repository.slice(repository.lastIndexOf('/') + 1);
}

type OsManager = 'deb' | 'apk' | 'rpm';

function osManager(p: FoundPackage): OsManager | undefined {
  if (p.path.includes('dpkg')) return 'deb';
  if (p.path.includes('apk')) return 'apk';
  if (p.path.includes('rpm')) return 'rpm';
  return undefined;
}

function foundBy(p: FoundPackage): string {
  if (p.kind === 'os') {
    const m = osManager(p);
    return m === 'deb' ? 'dpkg' : m === 'apk' ? 'apk' : m === 'rpm' ? 'rpm' : 'os';
  }
  return p.kind;
}

/** The package URL (github.com/package-url/purl-spec) of a found package; undefined when unknown. */
export function purlOf(p: FoundPackage, os: OsInfo | undefined): string | undefined {
  const version = `@${encodeURIComponent(p.version)}`;
  switch (p.kind) {
    case 'os': {
      const manager = osManager(p);
      if (!manager || !os?.id) return undefined;
      const qualifiers: string[] = [];
      if (os.versionId) qualifiers.push(`distro=${encodeURIComponent(`${os.id}-${os.versionId}`)}`);
      if (p.source && p.source.name !== p.name)
        qualifiers.push(`upstream=${encodeURIComponent(p.source.name)}`);
      const q = qualifiers.length ? `?${qualifiers.join('&')}` : '';
      return `pkg:${manager}/${encodeURIComponent(os.id)}/${encodeURIComponent(p.name)}${version}${q}`;
    }
    case 'npm': {
      if (p.name.startsWith('@') && p.name.includes('/')) {
        const [scope, name] = p.name.split('/') as [string, string];
        return `pkg:npm/${encodeURIComponent(scope)}/${encodeURIComponent(name)}${version}`;
      }
      return `pkg:npm/${encodeURIComponent(p.name)}${version}`;
    }
    case 'PyPI':
      return `pkg:pypi/${encodeURIComponent(p.name.toLowerCase().replace(/[-_.]+/g, '-'))}${version}`;
    case 'Go':
      return `pkg:golang/${p.name.split('/').map(encodeURIComponent).join('/')}${version}`;
    case 'Maven': {
      const [group, artifact] = p.name.split(':');
      if (!group || !artifact) return undefined;
      return `pkg:maven/${encodeURIComponent(group)}/${encodeURIComponent(artifact)}${version}`;
    }
  }
}
