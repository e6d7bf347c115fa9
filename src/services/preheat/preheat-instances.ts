import type { MetaStore } from '../../db/store.js';
import type { P2pPreheatInstanceRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { RemoteHttp } from '../../remotes/http.js';
import type { SecretSealer } from '../replication/registry-endpoints.js';
import { authHeaders, isVendor, providers, type ProviderMetadata } from './providers.js';

/** An instance as Harbor's API takes it. */
export interface InstanceInput {
  name: string;
  description?: string | undefined;
  vendor: string;
  endpoint: string;
  authMode?: string | undefined;
  authInfo?: Record<string, string> | undefined;
  enabled?: boolean | undefined;
  isDefault?: boolean | undefined;
  insecure?: boolean | undefined;
}

/** Harbor's instance name rule. */
const nameRule = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const authModes = new Set(['NONE', 'BASIC', 'OAUTH']);

type Store = Pick<MetaStore, 'preheatInstances' | 'preheatPolicies' | 'transaction'>;

/** P2P preheat provider instances (Harbor's preheat controller, instance half). */
export class PreheatInstances {
  constructor(private readonly d: { store: Store; clock: Clock; secrets: SecretSealer }) {}

  providers(): ProviderMetadata[] {
    return Object.values(providers).map((p) => p.metadata);
  }

  list(query: ListQuery): Promise<Page<P2pPreheatInstanceRow>> {
    return this.d.store.preheatInstances.list(query);
  }

  all(): Promise<P2pPreheatInstanceRow[]> {
    return this.d.store.preheatInstances.all();
  }

  async get(name: string): Promise<P2pPreheatInstanceRow> {
    const row = await this.d.store.preheatInstances.byName(name);
    if (!row) throw new AppError('NOT_FOUND', `instance ${name} not found`);
    return row;
  }

  async create(input: InstanceInput): Promise<P2pPreheatInstanceRow> {
    const values = this.validate(input);
    const setup = Math.floor(this.d.clock.now().getTime() / 1000);
    return this.d.store.transaction(async (tx) => {
      if (await tx.preheatInstances.findClash(values.name, values.endpoint))
        throw new AppError('CONFLICT', `an instance named ${values.name} or at ${values.endpoint} exists`);
      const row = await tx.preheatInstances.create({ ...values, setup_timestamp: setup });
      if (row.is_default) await tx.preheatInstances.clearDefaultExcept(row.id);
      return row;
    });
  }

  /** Harbor keeps the stored credentials when an update omits auth_info (unless the mode becomes NONE). */
  async update(name: string, input: InstanceInput): Promise<void> {
    await this.d.store.transaction(async (tx) => {
      const old = await tx.preheatInstances.byName(name);
      if (!old) throw new AppError('NOT_FOUND', `instance ${name} not found`);
      if (!input.enabled && (await tx.preheatPolicies.namesUsing(old.id)).length > 0)
        throw new AppError(
          'PRECONDITION',
          `Provider [${old.name}] cannot be disabled as some preheat policies are using it`,
        );
      if (old.vendor !== input.vendor)
        throw new AppError('BAD_REQUEST', `provider [${old.name}] vendor cannot be changed`);
      const keep = (input.authMode ?? 'NONE') !== 'NONE' && Object.keys(input.authInfo ?? {}).length === 0;
      const values = this.validate(input);
      if (await tx.preheatInstances.findClash(values.name, values.endpoint, old.id))
        throw new AppError('CONFLICT', `an instance named ${values.name} or at ${values.endpoint} exists`);
      await tx.preheatInstances.update(old.id, { ...values, ...(keep ? { auth_data: old.auth_data } : {}) });
      if (values.is_default) await tx.preheatInstances.clearDefaultExcept(old.id);
    });
  }

  async delete(name: string): Promise<void> {
    const row = await this.get(name);
    if ((await this.d.store.preheatPolicies.namesUsing(row.id)).length > 0)
      throw new AppError(
        'PRECONDITION',
        `Provider [${row.name}] cannot be deleted as some preheat policies are using it`,
      );
    await this.d.store.preheatInstances.delete(row.id);
  }

  /**
   * Harbor's PingInstances: the stored instance `id`, or the one described; healthy when its health
   * path answers 2xx with the instance's credentials. BAD_REQUEST names what failed.
   */
  async ping(target: { id: number } | InstanceInput): Promise<void> {
    let row: Pick<
      P2pPreheatInstanceRow,
      'vendor' | 'name' | 'endpoint' | 'auth_mode' | 'auth_data' | 'insecure'
    >;
    if ('id' in target) {
      const found = await this.d.store.preheatInstances.byId(target.id);
      if (!found) throw new AppError('NOT_FOUND', `instance ${target.id} not found`);
      row = found;
    } else row = this.validate(target);
    if (!isVendor(row.vendor))
      throw new AppError('BAD_REQUEST', `no driver registered for provider ${row.vendor}`);
    const url = `${row.endpoint.replace(/\/+$/, '')}${providers[row.vendor].healthPath}`;
    const http = new RemoteHttp(row.endpoint, { insecure: row.insecure === 1 }, { timeoutMs: 10_000 });
    const failed = `preheat provider instance ${row.vendor}-${row.name}:${row.endpoint} is not healthy`;
    try {
      const res = await http.send({
        operation: 'health check',
        method: 'GET',
        url,
        headers: authHeaders(row.auth_mode, this.authInfo(row.auth_data)),
      });
      await res.body.dump();
      if (res.status < 200 || res.status >= 300)
        throw new AppError('BAD_REQUEST', `${failed}: ${res.status}`);
    } catch (err) {
      if (err instanceof AppError && err.code === 'BAD_REQUEST') throw err;
      throw new AppError('BAD_REQUEST', `${failed}: ${(err as Error).message}`);
    } finally {
      await http.close();
    }
  }

  /** The instance's credentials, unsealed. */
  authInfo(sealed: string): Record<string, string> {
    if (!sealed) return {};
    const plain = this.d.secrets.open(sealed);
    return plain ? (JSON.parse(plain) as Record<string, string>) : {};
  }

  private validate(input: InstanceInput) {
    if (!nameRule.test(input.name)) throw new AppError('BAD_REQUEST', `name ${input.name} is invalid`);
    if (!isVendor(input.vendor))
      throw new AppError('BAD_REQUEST', `no driver registered for provider ${input.vendor}`);
    let endpoint: URL;
    try {
      endpoint = new URL(input.endpoint);
    } catch {
      throw new AppError('BAD_REQUEST', `invalid endpoint ${input.endpoint}`);
    }
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:')
      throw new AppError('BAD_REQUEST', `invalid endpoint ${input.endpoint}: http or https only`);
    const authMode = input.authMode ?? 'NONE';
    if (!authModes.has(authMode)) throw new AppError('BAD_REQUEST', `unsupported auth_mode ${authMode}`);
    const info = authMode === 'NONE' ? {} : (input.authInfo ?? {});
    return {
      name: input.name,
      description: input.description ?? '',
      vendor: input.vendor,
      endpoint: input.endpoint,
      auth_mode: authMode,
      auth_data: Object.keys(info).length > 0 ? this.d.secrets.seal(JSON.stringify(info)) : '',
      // As Harbor: an instance sent without `enabled` is stored disabled.
      enabled: input.enabled ? 1 : 0,
      is_default: input.isDefault ? 1 : 0,
      insecure: input.insecure ? 1 : 0,
    };
  }
}
