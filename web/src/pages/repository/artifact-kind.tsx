import type { Artifact } from '../../api/types';

export type ArtifactKind = 'image' | 'index' | 'chart' | 'signature' | 'sbom' | 'other';

/** What an artifact is, from its Harbor type and media types. */
export function artifactKind(a: Artifact): ArtifactKind {
  const media = `${a.manifest_media_type ?? ''} ${a.media_type ?? ''} ${a.artifact_type ?? ''}`.toLowerCase();
  const type = (a.type ?? '').toUpperCase();
  if (type.includes('SIGNATURE') || /cosign|notation|signature/.test(media)) return 'signature';
  if (type.includes('SBOM') || /sbom|spdx|cyclonedx/.test(media)) return 'sbom';
  if (type === 'CHART' || media.includes('helm')) return 'chart';
  if (media.includes('index') || media.includes('manifest.list')) return 'index';
  if (type === 'IMAGE' || media.includes('image') || media.includes('docker')) return 'image';
  return 'other';
}

const LABELS: Record<ArtifactKind, string> = {
  image: 'Image',
  index: 'Image index',
  chart: 'Helm chart',
  signature: 'Signature',
  sbom: 'SBOM',
  other: 'OCI artifact',
};

const PATHS: Record<ArtifactKind, string> = {
  image: 'M3 5h18v14H3z M3 9h18 M8 5v14',
  index: 'M4 4h10v10H4z M8 8h10v10H8z M12 12h8v8h-8z',
  chart: 'M12 3l8 5v8l-8 5-8-5V8z M12 3v18 M4 8l16 8 M20 8L4 16',
  signature: 'M4 18c4-8 6-8 7-4s3 4 5-2 M4 21h16',
  sbom: 'M6 3h9l4 4v14H6z M9 10h7 M9 14h7 M9 18h4',
  other: 'M5 5h14v14H5z',
};

export function ArtifactIcon({ artifact }: { artifact: Artifact }) {
  const kind = artifactKind(artifact);
  return (
    <span className={`kind kind-${kind}`} title={LABELS[kind]} data-kind={kind}>
      <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
        <path d={PATHS[kind]} fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinejoin="round" />
      </svg>
      <span className="sr-only">{LABELS[kind]}</span>
    </span>
  );
}
