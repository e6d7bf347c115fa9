import { mediaTypes } from '../../oci/media-types.js';

/** Harbor's artifact `type` from the manifest and config media types. */
export function artifactTypeOf(manifestMediaType: string, configOrArtifactType: string | null): string {
  if (manifestMediaType === mediaTypes.ociIndex || manifestMediaType === mediaTypes.dockerManifestList)
    return 'IMAGE';
  const t = configOrArtifactType ?? '';
  if (t === mediaTypes.ociConfig || t === mediaTypes.dockerConfig) return 'IMAGE';
  if (t.startsWith('application/vnd.cncf.helm.')) return 'CHART';
  if (t.startsWith('application/vnd.cnab.')) return 'CNAB';
  if (t.startsWith('application/vnd.wasm.')) return 'WASM';
  if (t.startsWith('application/vnd.dev.cosign.') || t.startsWith('application/vnd.cncf.notary.'))
    return 'SIGNATURE';
  if (t.includes('sbom') || t.includes('spdx') || t.includes('cyclonedx')) return 'SBOM';
  if (t.startsWith('application/vnd.cncf.model.')) return 'MODEL';
  return 'UNKNOWN';
}

/** Harbor's accessory `type` for an artifact with a subject. */
export function accessoryTypeOf(artifactType: string | null): string {
  const t = artifactType ?? '';
  if (t.startsWith('application/vnd.dev.cosign.')) return 'signature.cosign';
  if (t.startsWith('application/vnd.cncf.notary.')) return 'signature.notation';
  if (t === 'application/vnd.goharbor.harbor.sbom.v1') return 'sbom.harbor';
  return 'subject.accessory';
}
