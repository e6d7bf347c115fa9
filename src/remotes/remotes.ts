import { AppError } from '../lib/errors.js';
import type {
  AdapterPattern,
  RemoteOptions,
  RemoteRegistry,
  RemoteRegistryConfig,
  RemoteType,
} from './adapter.js';
import { DockerRegistryAdapter } from './docker-registry.js';

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
};

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
