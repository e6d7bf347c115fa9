import { z } from 'zod';
import type { MetaStore } from '../../db/store.js';
import type { RegistryRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery } from '../../lib/query.js';
import type { RemoteOptions, RemoteRegistry, RemoteRegistryConfig } from '../../remotes/adapter.js';

/** The adapters load on first use: they are many modules, and most processes never replicate. */
const remotes = () => import('../../remotes/remotes.js');

/** Seals secrets Berth must read back (AES-256-GCM with the database-held data key). */
export interface SecretSealer {
  seal(plain: string): string;
  open(sealed: string): string | undefined;
}

export const credentialType = z.enum(['basic', 'oauth', 'secret']);

export interface RegistryInput {
  name: string;
  type: string;
  url: string;
  description?: string;
  credentialType?: z.infer<typeof credentialType>;
  accessKey?: string;
  accessSecret?: string;
  insecure?: boolean;
}

/** Harbor's Registry model; the secret is masked, as Harbor does. */
export interface RegistryView {
  id: number;
  name: string;
  type: string;
  url: string;
  description: string;
  credential: { type: string; access_key: string; access_secret: string };
  insecure: boolean;
  status: string;
  creation_time: string;
  update_time: string;
}

/** Registry endpoints: the peers replication policies pull from and push to. */
export class RegistryEndpoints {
  constructor(
    private readonly d: { store: Pick<MetaStore, 'registries'>; clock: Clock; secrets: SecretSealer },
  ) {}

  async adapters(): Promise<string[]> {
    return (await remotes()).adapterTypes();
  }

  /** Harbor's `/replication/adapterinfos` body. */
  async adapterInfos(): Promise<Record<string, unknown>> {
    return (await remotes()).renderAdapterInfos();
  }

  async create(input: RegistryInput): Promise<RegistryRow> {
    await this.validate(input);
    if (await this.d.store.registries.findByName(input.name)) {
      throw new AppError('CONFLICT', `a registry named ${input.name} already exists`);
    }
    const now = this.d.clock.now().toISOString();
    return this.d.store.registries.create({
      name: input.name,
      type: input.type,
      url: input.url.replace(/\/+$/, ''),
      description: input.description ?? '',
      credential_type: input.credentialType ?? 'basic',
      access_key: input.accessKey ?? '',
      access_secret: input.accessSecret ? this.d.secrets.seal(input.accessSecret) : '',
      insecure: input.insecure ? 1 : 0,
      status: 'unknown',
      creation_time: now,
      update_time: now,
    });
  }

  async get(id: number): Promise<RegistryRow> {
    const row = await this.d.store.registries.find(id);
    if (!row) throw new AppError('NOT_FOUND', `registry ${id} not found`);
    return row;
  }

  list(query: ListQuery) {
    return this.d.store.registries.list(query);
  }

  /** Changes what is given; an omitted secret keeps the stored one. */
  async update(id: number, input: Partial<RegistryInput>): Promise<void> {
    const row = await this.get(id);
    const merged: RegistryInput = {
      name: input.name ?? row.name,
      type: row.type,
      url: input.url ?? row.url,
      insecure: input.insecure ?? row.insecure === 1,
    };
    await this.validate(merged);
    if (input.name && input.name !== row.name && (await this.d.store.registries.findByName(input.name))) {
      throw new AppError('CONFLICT', `a registry named ${input.name} already exists`);
    }
    await this.d.store.registries.update(id, {
      name: merged.name,
      url: merged.url.replace(/\/+$/, ''),
      insecure: merged.insecure ? 1 : 0,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.credentialType !== undefined ? { credential_type: input.credentialType } : {}),
      ...(input.accessKey !== undefined ? { access_key: input.accessKey } : {}),
      ...(input.accessSecret !== undefined
        ? { access_secret: input.accessSecret ? this.d.secrets.seal(input.accessSecret) : '' }
        : {}),
      update_time: this.d.clock.now().toISOString(),
    });
  }

  async delete(id: number): Promise<void> {
    await this.get(id);
    const proxies = await this.d.store.registries.proxyProjectsUsing(id);
    if (proxies.length > 0)
      throw new AppError(
        'PRECONDITION',
        `the registry ${id} is referenced by proxy cache project, cannot delete it (${proxies.join(', ')})`,
      );
    const users = await this.d.store.registries.policiesUsing(id);
    if (users.length > 0) {
      throw new AppError(
        'PRECONDITION',
        `registry ${id} is used by replication policies (${users.join(', ')}); delete or change them first`,
      );
    }
    await this.d.store.registries.delete(id);
  }

  /**
   * Tests a connection: an unsaved endpoint, or a saved one (`id`) with any given fields overriding the
   * stored ones. Throws what the remote said (authentication failed, unreachable, ...).
   */
  async ping(input: Partial<RegistryInput> & { id?: number }): Promise<void> {
    let config: RemoteRegistryConfig;
    if (input.id !== undefined) {
      const row = await this.get(input.id);
      const stored = this.configOf(row);
      config = {
        ...stored,
        url: input.url ?? stored.url,
        insecure: input.insecure ?? stored.insecure,
        credential: {
          type: input.credentialType ?? stored.credential!.type,
          accessKey: input.accessKey ?? stored.credential!.accessKey,
          accessSecret: input.accessSecret ?? stored.credential!.accessSecret,
        },
      };
    } else {
      if (!input.type || !input.url) throw new AppError('BAD_REQUEST', 'type and url are required to ping');
      await this.validate({ name: 'ping', type: input.type, url: input.url });
      config = {
        type: input.type,
        url: input.url,
        insecure: input.insecure,
        credential: {
          type: input.credentialType ?? 'basic',
          accessKey: input.accessKey ?? '',
          accessSecret: input.accessSecret ?? '',
        },
      };
    }
    const remote = (await remotes()).createRemote(config);
    try {
      await remote.ping({ signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      // The endpoint is what failed, not Berth: a client error naming the cause (as Harbor answers 400).
      throw new AppError('BAD_REQUEST', `ping failed: ${(err as Error).message}`);
    } finally {
      await remote.close();
    }
  }

  /**
   * A proxy-cache project's upstream must exist and answer, as Harbor checks at project creation; the
   * endpoint's status is refreshed with the outcome.
   */
  async assertProxyUpstream(id: number): Promise<void> {
    const row = await this.d.store.registries.find(id);
    if (!row) throw new AppError('BAD_REQUEST', `failed to get the registry ${id}: registry ${id} not found`);
    const remote = await this.remote(row);
    let health: string;
    try {
      health = await remote.healthCheck({ signal: AbortSignal.timeout(15_000) }).catch(() => 'unhealthy');
    } finally {
      await remote.close();
    }
    await this.d.store.registries.update(id, { status: health });
    if (health !== 'healthy') throw new AppError('BAD_REQUEST', 'the registry is unhealthy');
  }

  /** Harbor's RegistryInfo body for a saved endpoint. */
  async info(id: number): Promise<Record<string, unknown>> {
    const remote = await this.remote(await this.get(id));
    try {
      return (await remotes()).renderRegistryInfo(remote.info());
    } finally {
      await remote.close();
    }
  }

  /** A client for a saved endpoint (the caller closes it). */
  async remote(row: RegistryRow, options?: RemoteOptions): Promise<RemoteRegistry> {
    return (await remotes()).createRemote(this.configOf(row), options);
  }

  view(row: RegistryRow): RegistryView {
    return {
      id: row.id,
      name: row.name,
      type: row.type,
      url: row.url,
      description: row.description,
      credential: {
        type: row.credential_type,
        access_key: row.access_key,
        access_secret: row.access_secret ? '*****' : '',
      },
      insecure: row.insecure === 1,
      status: row.status,
      creation_time: row.creation_time,
      update_time: row.update_time,
    };
  }

  private configOf(row: RegistryRow): RemoteRegistryConfig {
    let secret = '';
    if (row.access_secret) {
      const opened = this.d.secrets.open(row.access_secret);
      if (opened === undefined) {
        throw new AppError(
          'PRECONDITION',
          `the stored secret of registry ${row.name} cannot be decrypted (the data key changed); enter it again`,
        );
      }
      secret = opened;
    }
    return {
      type: row.type,
      name: row.name,
      url: row.url,
      insecure: row.insecure === 1,
      credential: {
        type: credentialType.parse(row.credential_type),
        accessKey: row.access_key,
        accessSecret: secret,
      },
    };
  }

  private async validate(input: RegistryInput): Promise<void> {
    const adapterTypes = (await remotes()).adapterTypes;
    if (!input.name.trim()) throw new AppError('BAD_REQUEST', 'the registry name is required');
    if (!adapterTypes().includes(input.type)) {
      throw new AppError(
        'BAD_REQUEST',
        `unknown registry type "${input.type}"; valid types: ${adapterTypes().join(', ')}`,
      );
    }
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new AppError('BAD_REQUEST', `invalid registry url "${input.url}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AppError('BAD_REQUEST', `registry url must be http:// or https://, got "${input.url}"`);
    }
  }
}
