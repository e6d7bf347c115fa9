import { z } from 'zod';
import { parseDigest } from '../../oci/digest.js';

/**
 * The layout of a project export (docs/export.md), a folder or the same tree in a tar file:
 *
 *   berth-export.json                     the export manifest below; written last, so its presence
 *                                         marks a complete export
 *   blobs/<algorithm>/<hex>               every blob of the project once: layers, configs, manifests
 *   repositories/<name>/oci-layout        one OCI image layout per repository (name without the project)
 *   repositories/<name>/index.json        every artifact not inside an index; tags as
 *                                         org.opencontainers.image.ref.name annotations
 *   repositories/<name>/blobs             a symlink to the shared blobs/ folder
 */
export const manifestPath = 'berth-export.json';
export const exportFormat = 'berth.project-export';
export const exportVersion = 1;

export const blobPath = (digest: string): string => {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
};
export const repositoryDir = (name: string): string => `repositories/${name}`;
/** The relative target of a repository's `blobs` symlink. */
export const blobsLink = (name: string): string => `${'../'.repeat(name.split('/').length + 1)}blobs`;

const labelRef = z.object({ name: z.string(), scope: z.enum(['g', 'p']) });

const artifact = z.object({
  digest: z.string(),
  mediaType: z.string(),
  size: z.number().int().nonnegative(),
  tags: z.array(z.string()),
  labels: z.array(labelRef),
});

export const exportManifestSchema = z.object({
  format: z.literal(exportFormat),
  version: z.literal(exportVersion),
  berthVersion: z.string(),
  exportedAt: z.string(),
  project: z.object({
    name: z.string(),
    public: z.boolean(),
    owner: z.string().nullable(),
    /** project_metadata, except what the policies below carry (retention_id). */
    metadata: z.record(z.string(), z.string()),
    /** -1 is unlimited. */
    storageLimit: z.number().int(),
  }),
  members: z.array(
    z.object({
      kind: z.enum(['user', 'group']),
      name: z.string(),
      /** Harbor's role id: 1 project admin, 2 developer, 3 guest, 4 maintainer, 5 limited guest. */
      role: z.number().int(),
      groupType: z.number().int().optional(),
      ldapGroupDn: z.string().optional(),
    }),
  ),
  robots: z.array(
    z.object({
      /** Without the `robot$<project>+` prefix. */
      name: z.string(),
      description: z.string(),
      duration: z.number().int(),
      disabled: z.boolean(),
      permissions: z.array(z.object({ resource: z.string(), action: z.string() })),
    }),
  ),
  labels: z.array(
    z.object({ name: z.string(), description: z.string(), color: z.string(), scope: z.enum(['g', 'p']) }),
  ),
  immutabilityRules: z.array(
    z.object({
      priority: z.number().int(),
      disabled: z.boolean(),
      action: z.string(),
      template: z.string(),
      scopeSelectors: z.string(),
      tagSelectors: z.string(),
    }),
  ),
  retention: z.object({ algorithm: z.string(), rules: z.unknown(), trigger: z.unknown() }).nullable(),
  webhooks: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      /** Targets without their auth_header (a secret). */
      targets: z.unknown(),
      eventTypes: z.unknown(),
      enabled: z.boolean(),
    }),
  ),
  cveAllowlist: z.object({ expiresAt: z.number().nullable(), items: z.unknown() }).nullable(),
  /** The scanner registration's name the project uses, when it chose one. */
  scanner: z.string().nullable(),
  repositories: z.array(
    z.object({
      /** Without the project: `lib/nginx` of `library/lib/nginx`. */
      name: z.string(),
      description: z.string(),
      artifacts: z.array(artifact),
    }),
  ),
  /** Every blob of the archive (manifests included), each once. */
  blobs: z.array(z.object({ digest: z.string(), size: z.number().int().nonnegative() })),
});

export type ExportManifest = z.infer<typeof exportManifestSchema>;
export type ExportedArtifact = z.infer<typeof artifact>;
