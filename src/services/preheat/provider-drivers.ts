import { randomBytes } from 'node:crypto';
import { RemoteHttp } from '../../remotes/http.js';
import { mediaTypes } from '../../oci/media-types.js';
import { authHeaders, type Vendor } from './providers.js';

/** What a provider is asked to preheat (Harbor's PreheatImage): the manifest URL and the headers to pull it. */
export interface PreheatImage {
  type: string;
  /** `<registry>/v2/<repository>/manifests/<tag>`. */
  url: string;
  headers: Record<string, string>;
  /** The repository, project included. */
  image: string;
  tag: string;
  digest: string;
  extraAttrs: Record<string, unknown>;
}

/** Where a provider's preheating stands (Harbor's PreheatingStatus words). */
export interface PreheatingStatus {
  taskId: string;
  status: 'PENDING' | 'RUNNING' | 'SUCCESS' | 'FAIL';
  message?: string;
  error?: string;
}

/** An instance as its driver needs it: endpoint, credentials (unsealed), TLS. */
export interface DriverInstance {
  vendor: Vendor;
  endpoint: string;
  authMode: string;
  authInfo: Record<string, string>;
  insecure: boolean;
}

/** One provider's preheat API (Harbor's provider.Driver, less health and metadata: see providers.ts). */
export interface PreheatDriver {
  preheat(image: PreheatImage, signal: AbortSignal): Promise<PreheatingStatus>;
  checkProgress(taskId: string, signal: AbortSignal): Promise<PreheatingStatus>;
  close(): Promise<void>;
}

/** Harbor's provider HTTP client: JSON in and out, the instance's credentials, any 2xx is success. */
class ProviderClient {
  private readonly http: RemoteHttp;
  private readonly base: string;

  constructor(private readonly instance: DriverInstance) {
    this.base = instance.endpoint.replace(/\/+$/, '');
    this.http = new RemoteHttp(this.base, { insecure: instance.insecure }, { timeoutMs: 30_000 });
  }

  async call<T>(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<T> {
    const url = `${this.base}${path}`;
    const res = await this.http.send({
      operation: `${method} ${path}`,
      method,
      url,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...authHeaders(this.instance.authMode, this.instance.authInfo),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal,
    });
    const text = await res.body.text();
    if (res.status < 200 || res.status >= 300)
      throw new Error(`${method} "${url}" error: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

interface DragonflyJob {
  id: number;
  state: string;
  result?: {
    job_states?: {
      error?: string;
      results?: {
        success_tasks?: { url: string; hostname: string; ip: string }[] | null;
        failure_tasks?: { url: string; hostname: string; ip: string; description: string }[] | null;
        scheduler_cluster_id?: number;
      }[];
    }[];
  };
}

const dragonflyScopes = new Set(['single_seed_peer', 'all_seed_peers', 'all_peers']);

/** Dragonfly's open API: a `preheat` job posted to /oapi/v1/jobs, then polled by id. */
class DragonflyDriver implements PreheatDriver {
  private readonly client: ProviderClient;
  constructor(instance: DriverInstance) {
    this.client = new ProviderClient(instance);
  }

  async preheat(image: PreheatImage, signal: AbortSignal): Promise<PreheatingStatus> {
    const scope = image.extraAttrs.scope;
    if (scope !== undefined && scope !== '' && !dragonflyScopes.has(String(scope)))
      throw new Error(`specify the invalid scope: invalid scope: ${String(scope)}`);
    const clusters = image.extraAttrs.cluster_ids;
    const job = await this.client.call<DragonflyJob>(
      'POST',
      '/oapi/v1/jobs',
      {
        type: 'preheat',
        args: {
          type: 'image',
          url: image.url,
          tag: '',
          filtered_query_params: '',
          headers: image.headers,
          scope: scope ? String(scope) : '',
          concurrent_count: 0,
          timeout: 0,
        },
        scheduler_cluster_ids: Array.isArray(clusters) && clusters.length > 0 ? clusters : null,
      },
      signal,
    );
    return { taskId: String(job.id), status: 'PENDING' };
  }

  async checkProgress(taskId: string, signal: AbortSignal): Promise<PreheatingStatus> {
    const job = await this.client.call<DragonflyJob>('GET', `/oapi/v1/jobs/${taskId}`, undefined, signal);
    const states = job.result?.job_states ?? [];
    if (job.state === 'PENDING') return { taskId, status: 'RUNNING' };
    if (job.state === 'SUCCESS') {
      const lines: string[] = [];
      for (const s of states)
        for (const r of s.results ?? []) {
          for (const t of r.success_tasks ?? [])
            lines.push(`${t.url} ${t.hostname} ${t.ip} cluster ${r.scheduler_cluster_id ?? 0} SUCCESS`);
          for (const t of r.failure_tasks ?? [])
            lines.push(
              `${t.url} ${t.hostname} ${t.ip} cluster ${r.scheduler_cluster_id ?? 0} FAILURE ${t.description}`,
            );
        }
      return { taskId, status: 'SUCCESS', message: lines.join('\n') };
    }
    if (job.state === 'FAILURE')
      return { taskId, status: 'FAIL', error: states.map((s) => s.error ?? '').join('; ') };
    return { taskId, status: 'FAIL', error: `unknown state: ${job.state}` };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Kraken: a registry notification (one `push` event of the manifest) to /registry/notifications; done at once. */
class KrakenDriver implements PreheatDriver {
  private readonly client: ProviderClient;
  constructor(instance: DriverInstance) {
    this.client = new ProviderClient(instance);
  }

  async preheat(image: PreheatImage, signal: AbortSignal): Promise<PreheatingStatus> {
    const id = randomBytes(16).toString('hex');
    await this.client.call(
      'POST',
      '/registry/notifications',
      {
        Events: [
          {
            Id: id,
            TimeStamp: new Date().toISOString(),
            Action: 'push',
            Target: {
              MediaType: mediaTypes.dockerManifest,
              Digest: image.digest,
              Repository: image.image,
              Url: image.url,
              Tag: image.tag,
            },
            Request: null,
            Actor: null,
          },
        ],
      },
      signal,
    );
    return { taskId: id, status: 'SUCCESS' };
  }

  checkProgress(taskId: string): Promise<PreheatingStatus> {
    return Promise.resolve({ taskId, status: 'SUCCESS' });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The driver of an instance's vendor. */
export function preheatDriver(instance: DriverInstance): PreheatDriver {
  return instance.vendor === 'dragonfly' ? new DragonflyDriver(instance) : new KrakenDriver(instance);
}
