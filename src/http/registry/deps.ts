import type { BlobService } from '../../services/registry/blob-service.js';
import type { ManifestService } from '../../services/registry/manifest-service.js';
import type { UploadSessions } from '../../services/registry/upload-sessions.js';

export interface RegistryDeps {
  blobs: BlobService;
  uploads: UploadSessions;
  manifests: ManifestService;
}
