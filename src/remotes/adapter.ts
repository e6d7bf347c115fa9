import type { Readable } from 'node:stream';
import { AppError } from '../lib/errors.js';

/**
 * The role every replication peer plays. One implementation per provider technology (docker-registry,
 * harbor, docker-hub, aws-ecr, ...); `remotes.ts` is the only map from Harbor's type name to a factory.
 *
 * Every method takes an optional AbortSignal and every remote call also has its own timeout, so nothing
 * hangs. Failures throw `RemoteError`, whose message names the registry, the operation, the remote's HTTP
 * status and the start of its error body ("authentication failed for <registry>: 401 ...").
 *
 * Berth itself is replicated to and from through the same interface, without HTTP: `LocalRegistry`
 * (services/replication/local-registry.ts) implements it over the registry services in this process, so a
 * local side takes part in the same streamed, blob-level copy (remotes/copy.ts) as a remote one.
 */

/** Harbor's credential types (`basic` user/password, `oauth` bearer token, `secret` internal). */
export type CredentialType = 'basic' | 'oauth' | 'secret';

export interface RemoteCredential {
  type: CredentialType;
  /** User name, access key id, `_json_key`, ...; empty for a bare OAuth token. */
  accessKey: string;
  /** Password, secret access key, API token, service-account JSON, ... Never logged. */
  accessSecret: string;
}

/** What the replication service stores for a registry endpoint (Harbor's `Registry` model). */
export interface RemoteRegistryConfig {
  type: string;
  /** Display name, used in error messages; defaults to the URL. */
  name?: string;
  url: string;
  credential?: RemoteCredential;
  /** Skip TLS certificate verification (Harbor's `insecure`). */
  insecure?: boolean;
  /** PEM CA bundle to trust instead of the system pool (Harbor's `ca_certificate`). */
  caCertificate?: string;
}

/** Per-instance technical options, not stored with the registry. */
export interface RemoteOptions {
  /** Timeout of one call without a streamed body, and of the wait for response headers (default 30 s). */
  timeoutMs?: number;
  /** Longest silence while a body streams before the call fails (default 60 s). */
  idleTimeoutMs?: number;
  /**
   * Blob downloads from a plain-HTTP remote read into reusable memory (remotes/pooled-get.ts) instead of
   * undici's fresh buffer per chunk: the proxy cache, whose consumers hand chunks back.
   */
  pooledBlobReads?: boolean;
}

// ---- Harbor's adapter metadata (`/replication/adapters`, `/replication/adapterinfos`, `/registries/{id}/info`)

export type ResourceType = 'image' | 'artifact' | 'chart';
export type TriggerType = 'manual' | 'scheduled' | 'event_based';

export interface FilterStyle {
  type: 'name' | 'tag' | 'label' | 'resource';
  style: 'input' | 'radio' | 'list';
  values?: string[];
}

/** Harbor's RegistryInfo, rendered as-is by `/registries/{id}/info` (`supportedResourceTypes` is not rendered). */
export interface RegistryInfo {
  type: string;
  description: string;
  supportedResourceTypes: ResourceType[];
  supportedResourceFilters: FilterStyle[];
  supportedTriggers: TriggerType[];
  /** Harbor's `supported_repository_path_component_type`: '' (any), 'ONLY_TWO', 'AT_LEAST_TWO'. */
  supportedRepositoryPathComponentType: '' | 'ONLY_TWO' | 'AT_LEAST_TWO';
  supportedCopyByChunk: boolean;
}

export interface EndpointPattern {
  endpointType: 'EndpointPatternTypeStandard' | 'EndpointPatternTypeFix' | 'EndpointPatternTypeList';
  endpoints?: { key: string; value: string }[];
}

export interface CredentialPattern {
  accessKeyType: 'AccessKeyTypeStandard' | 'AccessKeyTypeFix';
  accessKeyData: string;
  accessSecretType: 'AccessSecretTypePass' | 'AccessSecretTypeFile';
  accessSecretData: string;
}

/** Harbor's AdapterPattern (one value of `/replication/adapterinfos`); null parts render as null. */
export interface AdapterPattern {
  endpointPattern: EndpointPattern | null;
  credentialPattern: CredentialPattern | null;
}

// ---- Registry content

export interface ListOptions {
  signal?: AbortSignal;
}

export interface RepositoryListOptions extends ListOptions {
  /** Keep only names this predicate accepts (the rule's name filter); applied before per-repo calls. */
  match?: (repository: string) => boolean;
  /** Only repositories under this namespace, when the provider can narrow server-side. */
  namespace?: string;
}

/** An artifact (a manifest or index) in a repository, with every tag that points at it. */
export interface RemoteArtifact {
  digest: string;
  mediaType?: string;
  tags: string[];
  /** Label names, where the provider has labels (harbor). */
  labels?: string[];
}

export interface ManifestDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest extends ManifestDescriptor {
  bytes: Buffer;
}

export interface FetchedBlob {
  size: number;
  /** The bytes as they arrive; the caller must consume or destroy it. */
  stream: Readable;
}

export interface BlobUploadOptions {
  signal?: AbortSignal;
  /** Upload in PATCH chunks of this many bytes instead of one monolithic PUT (Harbor's copy_by_chunk). */
  chunkSize?: number;
}

/** A page of a remote's referrers: the index's descriptors and the paging headers it came with. */
export interface RemoteReferrers {
  manifests: Array<Record<string, unknown>>;
  /** `link`, `oci-filters-applied`, `x-total-count` when the remote sent them. */
  headers: Record<string, string>;
}

export type Health = 'healthy' | 'unhealthy';

export interface RemoteRegistry {
  readonly type: string;
  /** Display name for messages. */
  readonly name: string;
  info(): RegistryInfo;
  /** Checks reachability and credentials; throws a RemoteError that says what is wrong. */
  ping(options?: ListOptions): Promise<void>;
  /** Harbor's HealthCheck: ping reduced to a status. */
  healthCheck(options?: ListOptions): Promise<Health>;
  /** Creates whatever the destination needs before a push (projects, namespaces, repositories). */
  prepareForPush(repositories: string[], options?: ListOptions): Promise<void>;

  listNamespaces(options?: ListOptions): Promise<string[]>;
  listRepositories(options?: RepositoryListOptions): Promise<string[]>;
  listTags(repository: string, options?: ListOptions): Promise<string[]>;
  /** Artifacts of a repository grouped by digest (tags resolved to digests). */
  listArtifacts(repository: string, options?: ListOptions): Promise<RemoteArtifact[]>;

  /** null when the manifest does not exist. */
  headManifest(
    repository: string,
    reference: string,
    options?: ListOptions,
  ): Promise<ManifestDescriptor | null>;
  getManifest(repository: string, reference: string, options?: ListOptions): Promise<FetchedManifest>;
  /** Pushes manifest bytes under a tag or digest; returns the digest the remote computed. */
  putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
    options?: ListOptions,
  ): Promise<string>;
  /** Deletes by digest, or a tag's manifest (providers that can delete only tags delete the tag). */
  deleteManifest(repository: string, reference: string, options?: ListOptions): Promise<void>;

  /**
   * One page of the OCI referrers API for a digest; null when the remote answers 404. (Remotes only: Berth's
   * own registry as a replication source has none.)
   */
  listReferrers?(
    repository: string,
    digest: string,
    query: string,
    options?: ListOptions,
  ): Promise<RemoteReferrers | null>;
  /** The blob's size, or null when the repository does not have it. */
  headBlob(repository: string, digest: string, options?: ListOptions): Promise<number | null>;
  getBlob(repository: string, digest: string, options?: ListOptions): Promise<FetchedBlob>;
  /** Streams a blob of known digest and size; monolithic unless options.chunkSize is set. */
  putBlob(
    repository: string,
    digest: string,
    size: number,
    stream: Readable,
    options?: BlobUploadOptions,
  ): Promise<void>;
  /** Cross-repository mount; false when the remote declined (the caller then uploads). */
  mountBlob(
    fromRepository: string,
    digest: string,
    toRepository: string,
    options?: ListOptions,
  ): Promise<boolean>;
  /** Releases connections; the instance is not used afterwards. */
  close(): Promise<void>;
}

/** A registry type: its Harbor metadata and how to build a client for one endpoint. */
export interface RemoteType {
  /** Shown by `/replication/adapterinfos`; null for types with nothing to suggest (Harbor omits them). */
  pattern: AdapterPattern | null;
  create(config: RemoteRegistryConfig, options?: RemoteOptions): RemoteRegistry;
}

// ---- Errors

export type RemoteErrorReason =
  | 'auth' // 401: credentials missing or wrong
  | 'denied' // 403
  | 'not-found'
  | 'rate-limited'
  | 'unreachable' // DNS, refused, reset, TLS
  | 'timeout'
  | 'aborted'
  | 'remote' // any other non-success answer
  | 'invalid'; // the remote answered something we could not use (bad digest, bad JSON)

export interface RemoteErrorDetail {
  registry: string;
  operation: string;
  reason: RemoteErrorReason;
  status?: number;
  /** Start of the remote's body, trimmed; never contains our credentials. */
  body?: string;
}

/**
 * A failed remote call. The message is written for the user who reads the task log: it names the
 * registry, what was being done and what the remote said.
 */
export class RemoteError extends AppError {
  readonly registry: string;
  readonly operation: string;
  readonly reason: RemoteErrorReason;
  readonly status: number | undefined;
  readonly body: string | undefined;

  constructor(detail: RemoteErrorDetail, message: string, options?: { cause?: unknown }) {
    super(codeFor(detail.reason), message, { reason: detail.reason, status: detail.status });
    this.name = 'RemoteError';
    if (options?.cause !== undefined) this.cause = options.cause;
    this.registry = detail.registry;
    this.operation = detail.operation;
    this.reason = detail.reason;
    this.status = detail.status;
    this.body = detail.body;
  }
}

function codeFor(reason: RemoteErrorReason): AppError['code'] {
  switch (reason) {
    case 'not-found':
      return 'NOT_FOUND';
    case 'invalid':
      return 'BAD_REQUEST';
    case 'rate-limited':
      return 'TOOMANYREQUESTS';
    default:
      // Authentication failures are the remote's, not the API caller's: not a 401 on our API.
      return 'UNAVAILABLE';
  }
}

export function isRemoteError(err: unknown): err is RemoteError {
  return err instanceof RemoteError;
}
