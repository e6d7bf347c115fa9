import type { AccessControl } from '../../services/access/access-control.js';
import type { Authenticator } from '../../services/access/authenticator.js';
import type { BlobService } from '../../services/registry/blob-service.js';
import type { ManifestService } from '../../services/registry/manifest-service.js';
import type { ProxyCache } from '../../services/proxy/proxy-cache.js';
import type { RequestContext } from '../../services/context.js';
import type { UploadSessions } from '../../services/registry/upload-sessions.js';

export interface RegistryDeps {
  blobs: BlobService;
  uploads: UploadSessions;
  manifests: ManifestService;
  /** Pulls from proxy-cache projects; absent in set-ups without one. */
  proxy?: ProxyCache;
  /** The vulnerability policy on manifest GETs (scanning); absent = none. */
  pullPolicy?: { check(ctx: RequestContext, repository: string, reference: string): Promise<void> };
  auth: {
    access: AccessControl;
    authenticator: Authenticator;
    /** Token service name (`service=` in the challenge, `aud` of tokens). */
    service: string;
    externalUrl?: string;
  };
}
