import { AppError } from '../lib/errors.js';
import type {
  AdapterPattern,
  RegistryInfo,
  RemoteOptions,
  RemoteRegistry,
  RemoteRegistryConfig,
  RemoteType,
} from './adapter.js';
import { AliAcrAdapter, aliPattern } from './ali-acr.js';
import { AwsEcrAdapter, ecrPattern } from './aws-ecr.js';
import { AzureAcrAdapter } from './azure-acr.js';
import { DockerHubAdapter } from './docker-hub.js';
import { DockerRegistryAdapter } from './docker-registry.js';
import { GithubGhcrAdapter } from './github-ghcr.js';
import { GitlabAdapter } from './gitlab.js';
import { GoogleGcrAdapter, gcrPattern } from './google-gcr.js';
import { HarborAdapter } from './harbor.js';
import { HuaweiSwrAdapter, swrPattern } from './huawei-swr.js';
import { JfrogArtifactoryAdapter } from './jfrog-artifactory.js';
import { QuayAdapter } from './quay.js';

/**
 * Harbor's registry type name → adapter. The only switch on a type name: the replication service lists
 * `remoteTypes` for `/replication/adapters`, renders `adapterInfos()` for `/replication/adapterinfos`,
 * and calls `createRemote()` for every endpoint it talks to.
 */
export const remoteTypes: Record<string, RemoteType> = {
  'docker-registry': {
    pattern: null,
    create: (config, options) => new DockerRegistryAdapter(config, options),
  },
  harbor: { pattern: null, create: (config, options) => new HarborAdapter(config, options) },
  'docker-hub': {
    pattern: fixed('hub.docker.com', 'https://hub.docker.com'),
    create: (config, options) => new DockerHubAdapter(config, options),
  },
  'aws-ecr': { pattern: ecrPattern, create: (config, options) => new AwsEcrAdapter(config, options) },
  'azure-acr': { pattern: null, create: (config, options) => new AzureAcrAdapter(config, options) },
  'google-gcr': { pattern: gcrPattern, create: (config, options) => new GoogleGcrAdapter(config, options) },
  'jfrog-artifactory': {
    pattern: null,
    create: (config, options) => new JfrogArtifactoryAdapter(config, options),
  },
  'huawei-SWR': { pattern: swrPattern, create: (config, options) => new HuaweiSwrAdapter(config, options) },
  'ali-acr': { pattern: aliPattern, create: (config, options) => new AliAcrAdapter(config, options) },
  quay: { pattern: null, create: (config, options) => new QuayAdapter(config, options) },
  gitlab: { pattern: null, create: (config, options) => new GitlabAdapter(config, options) },
  'github-ghcr': {
    pattern: fixed('ghcr.io', 'https://ghcr.io'),
    create: (config, options) => new GithubGhcrAdapter(config, options),
  },
};

function fixed(key: string, value: string): AdapterPattern {
  return {
    endpointPattern: { endpointType: 'EndpointPatternTypeFix', endpoints: [{ key, value }] },
    credentialPattern: null,
  };
}

/** Type names in Harbor's order (sorted), for `/replication/adapters`. */
export function adapterTypes(): string[] {
  return Object.keys(remoteTypes).sort();
}

/** `/replication/adapterinfos`: the types that suggest endpoints or credentials. */
export function adapterInfos(): Record<string, AdapterPattern> {
  const out: Record<string, AdapterPattern> = {};
  for (const type of adapterTypes()) {
    const pattern = remoteTypes[type]!.pattern;
    if (pattern) out[type] = pattern;
  }
  return out;
}

/** Builds the client for one endpoint; an unknown type is the caller's bad input. */
export function createRemote(config: RemoteRegistryConfig, options?: RemoteOptions): RemoteRegistry {
  const type = remoteTypes[config.type];
  if (!type) {
    throw new AppError(
      'BAD_REQUEST',
      `unknown registry type "${config.type}"; valid types: ${adapterTypes().join(', ')}`,
    );
  }
  return type.create(config, options);
}

/** A RegistryInfo as Harbor renders it for `/registries/{id}/info` (snake_case; resource types omitted). */
export function renderRegistryInfo(info: RegistryInfo): Record<string, unknown> {
  return {
    type: info.type,
    description: info.description,
    supported_resource_filters: info.supportedResourceFilters,
    supported_triggers: info.supportedTriggers,
    supported_repository_path_component_type: info.supportedRepositoryPathComponentType,
    ...(info.supportedCopyByChunk ? { supported_copy_by_chunk: true } : {}),
  };
}

/** `/replication/adapterinfos` exactly as Harbor renders it (snake_case). */
export function renderAdapterInfos(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [type, p] of Object.entries(adapterInfos())) {
    // Harbor omits a pattern an adapter has none of (its generated model's omitempty), never null.
    out[type] = {
      ...(p.endpointPattern && {
        endpoint_pattern: {
          endpoint_type: p.endpointPattern.endpointType,
          endpoints: p.endpointPattern.endpoints ?? null,
        },
      }),
      ...(p.credentialPattern && {
        credential_pattern: {
          access_key_type: p.credentialPattern.accessKeyType,
          access_key_data: p.credentialPattern.accessKeyData,
          access_secret_type: p.credentialPattern.accessSecretType,
          access_secret_data: p.credentialPattern.accessSecretData,
        },
      }),
    };
  }
  return out;
}
