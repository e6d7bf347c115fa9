import { Agent, request, type Dispatcher } from 'undici';
import { REPORT_MIME_TYPE, type VulnerabilityReport } from '../builtin/report.js';
import type { ScanResult, ScanTarget, ScanType, Scanner, ScannerMetadata } from '../scanner.js';

/**
 * A scanner adapter spoken to through Harbor's Pluggable Scanner API v1.1 (Harbor's
 * pkg/scan/rest/v1): `GET /api/v1/metadata`, `POST /api/v1/scan` with the registry to pull from and a
 * token for it, then `GET /api/v1/scan/{id}/report` until the report is ready (302 with Refresh-After
 * while it is not). Harbor's Trivy adapter works against it unchanged.
 */

export const MIME = {
  metadata: 'application/vnd.scanner.adapter.metadata+json; version=1.0',
  scanRequest: 'application/vnd.scanner.adapter.scan.request+json; version=1.0',
  scanResponse: 'application/vnd.scanner.adapter.scan.response+json; version=1.0',
  report: REPORT_MIME_TYPE,
  nativeReport: 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0',
  sbomReport: 'application/vnd.security.sbom.report+json; version=1.0',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
} as const;

const SPDX_JSON = 'application/spdx+json';

/** How Berth authenticates to the adapter (the registration's auth and credential). */
export type AdapterAuth = '' | 'Basic' | 'Bearer' | 'X-ScannerAdapter-API-Key';

export interface AdapterSettings {
  /** The registration's name (the scan robots are named after it). */
  name?: string;
  url: string;
  auth: string;
  accessCredential: string;
  skipCertVerify: boolean;
  /** Give the adapter the registry's internal (listen) address rather than the external URL. */
  useInternalAddr?: boolean;
}

/** What the adapter is told to pull with: the registry's base URL and an Authorization header value. */
export interface RegistryAccess {
  url: string;
  authorization: string;
  /** Revokes the authorization once the scan has ended (Harbor deletes the scan's robot account). */
  release?(): Promise<void>;
}

export interface AdapterOptions {
  /** The registry URL and pull authorization for one scan (scoped to the target's repository). */
  registryAccess(target: ScanTarget, properties: Record<string, string>): Promise<RegistryAccess>;
  /** Per request; Harbor's client gives 5 s. */
  requestTimeoutMs?: number;
  /** How long to wait for a report in all, whatever Refresh-After says. */
  reportTimeoutMs?: number;
  /** Longest Refresh-After honoured (seconds), so a bad adapter cannot stall a worker. */
  maxRefreshSeconds?: number;
  /** Waits between polls (tests pass a quick one). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const maxBodyBytes = 64 * 1024 * 1024;

/** The Authorization header (or API key header) for a registration's auth type, as Harbor's authorizers. */
export function adapterAuthHeaders(auth: string, credential: string): Record<string, string> {
  if (!auth) return {};
  if (!credential) throw new Error(`${auth}: missing data to authorize request`);
  if (auth === 'Basic') return { authorization: `Basic ${Buffer.from(credential).toString('base64')}` };
  if (auth === 'Bearer') return { authorization: `Bearer ${credential}` };
  if (auth === 'X-ScannerAdapter-API-Key') return { 'x-scanneradapter-api-key': credential };
  throw new Error(`auth type ${auth} is not supported`);
}

/** Harbor's ScannerAdapterMetadata.Validate: what Berth needs of an adapter's metadata. */
export function validateMetadata(md: unknown): ScannerMetadata {
  const m = md as Partial<ScannerMetadata> | null;
  const s = m?.scanner;
  if (!s || !s.name || !s.vendor || !s.version) throw new Error('invalid scanner in metadata');
  if (!Array.isArray(m.capabilities) || m.capabilities.length === 0)
    throw new Error('invalid capabilities in metadata');
  for (const c of m.capabilities) {
    if (!c?.consumes_mime_types?.includes(MIME.dockerManifest))
      throw new Error(`missing ${MIME.dockerManifest} in consumes_mime_types`);
    const produces = c.produces_mime_types ?? [];
    if (!produces.some((p) => p === MIME.report || p === MIME.nativeReport || p === MIME.sbomReport))
      throw new Error(`missing ${MIME.nativeReport} or ${MIME.report} in produces_mime_types`);
  }
  return { scanner: s, capabilities: m.capabilities, properties: m.properties ?? {} };
}

export class AdapterClient implements Scanner {
  private readonly base: string;
  private readonly dispatcher: Dispatcher;

  constructor(
    private readonly settings: AdapterSettings,
    private readonly options: AdapterOptions,
  ) {
    this.base = `${settings.url.replace(/\/+$/, '')}/api/v1`;
    // undici's request follows no redirect: a 302 on the report means "not ready", as in Harbor's client.
    this.dispatcher = new Agent({ connect: { rejectUnauthorized: !settings.skipCertVerify } });
  }

  async metadata(signal?: AbortSignal): Promise<ScannerMetadata> {
    const res = await this.send('GET', '/metadata', { accept: MIME.metadata }, undefined, signal);
    return validateMetadata(await expectStatus(res, 200));
  }

  async scan(
    target: ScanTarget,
    type: ScanType,
    log: (line: string) => void,
    signal: AbortSignal,
  ): Promise<ScanResult> {
    const meta = await this.metadata(signal);
    const capability = meta.capabilities.find(
      (c) => (c.type ?? 'vulnerability') === type && c.consumes_mime_types.includes(target.mediaType),
    );
    if (!capability)
      throw new Error(`the scanner ${meta.scanner.name} cannot make a ${type} report of ${target.mediaType}`);
    const wanted =
      type === 'sbom'
        ? MIME.sbomReport
        : capability.produces_mime_types.includes(MIME.report)
          ? MIME.report
          : MIME.nativeReport;
    const registry = await this.options.registryAccess(target, meta.properties);
    try {
      return await this.submit({ target, type, registry, meta, wanted }, log, signal);
    } finally {
      await registry
        .release?.()
        .catch((err: Error) => log(`could not revoke the scan's registry access: ${err.message}`));
    }
  }

  /** Submits the scan request and polls for its report. */
  private async submit(
    s: {
      target: ScanTarget;
      type: ScanType;
      registry: RegistryAccess;
      meta: ScannerMetadata;
      wanted: string;
    },
    log: (line: string) => void,
    signal: AbortSignal,
  ): Promise<ScanResult> {
    const { target, type, registry, meta, wanted } = s;
    const body = {
      registry: { url: registry.url, authorization: registry.authorization, insecure: false },
      artifact: {
        repository: target.repository,
        digest: target.digest,
        tag: target.tag ?? '',
        mime_type: target.mediaType,
      },
      // Harbor asks for SPDX JSON (sbom_media_types), the one SBOM format its UI and accessory expect.
      enabled_capabilities: [
        {
          type,
          produces_mime_types: [wanted],
          parameters: type === 'sbom' ? { sbom_media_types: [SPDX_JSON] } : {},
        },
      ],
    };
    const submitted = await this.send(
      'POST',
      '/scan',
      { 'content-type': MIME.scanRequest, accept: MIME.scanResponse },
      JSON.stringify(body),
      signal,
    );
    const { id } = (await expectStatus(submitted, 202)) as { id?: unknown };
    if (typeof id !== 'string' || id === '') throw new Error('the adapter accepted the scan without an id');
    log(`submitted to ${meta.scanner.name} ${meta.scanner.version} (${this.settings.url}) as scan ${id}`);
    const query = type === 'sbom' ? `?sbom_media_type=${encodeURIComponent(SPDX_JSON)}` : '';
    const report = await this.pollReport(id, query, wanted, log, signal);
    if (type === 'sbom') {
      // Harbor's raw SBOM report: {generated_at, scanner, media_type, sbom}; the accessory holds `sbom`.
      const raw = report as { media_type?: unknown; sbom?: unknown } | null;
      if (!raw?.sbom || typeof raw.sbom !== 'object')
        throw new Error('the adapter returned an SBOM report without an sbom document');
      const mediaType = typeof raw.media_type === 'string' && raw.media_type ? raw.media_type : SPDX_JSON;
      return { type: 'sbom', mediaType, document: Buffer.from(JSON.stringify(raw.sbom)) };
    }
    return { type: 'vulnerability', report: normalizeReport(report, target) };
  }

  /** `query`: the report URL's query (Harbor's `sbom_media_type` for an SBOM). */
  private async pollReport(
    id: string,
    query: string,
    mime: string,
    log: (line: string) => void,
    signal: AbortSignal,
  ): Promise<unknown> {
    const deadline = Date.now() + (this.options.reportTimeoutMs ?? 60 * 60_000);
    const maxRefresh = this.options.maxRefreshSeconds ?? 60;
    const sleep = this.options.sleep ?? abortableSleep;
    for (let polls = 1; ; polls++) {
      const res = await this.send(
        'GET',
        `/scan/${encodeURIComponent(id)}/report${query}`,
        { accept: mime },
        undefined,
        signal,
      );
      if (res.statusCode !== 302) return expectStatus(res, 200);
      await res.body.dump();
      const header = res.headers['refresh-after'];
      const asked = Number.parseInt(String(Array.isArray(header) ? header[0] : (header ?? '')), 10);
      // Harbor's client waits 5 s when the adapter names no interval.
      const seconds = Math.min(Number.isFinite(asked) && asked >= 0 ? asked : 5, maxRefresh);
      if (Date.now() + seconds * 1000 > deadline)
        throw new Error(`the adapter had no report for scan ${id} after ${polls} polls`);
      if (polls === 1) log(`report not ready; polling every ${seconds} s as the adapter asks`);
      await sleep(seconds * 1000, signal);
    }
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 5000);
    try {
      return await request(`${this.base}${path}`, {
        method,
        headers: { ...headers, ...adapterAuthHeaders(this.settings.auth, this.settings.accessCredential) },
        body,
        dispatcher: this.dispatcher,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      if (signal?.aborted) throw new Error('the scan was stopped', { cause: err });
      if (timeout.aborted) throw new Error(`${method} ${this.base}${path}: no answer within the time limit`);
      throw new Error(`${method} ${this.base}${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/**
 * The answer's JSON when its status is `expected`; otherwise an Error carrying the adapter's
 * `{"error":{"message"}}` and the statuses, as Harbor's general response handler words it.
 */
async function expectStatus(res: Dispatcher.ResponseData, expected: number): Promise<unknown> {
  const text = await readBounded(res.body);
  if (res.statusCode !== expected) {
    let message = '';
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? '';
    } catch {
      message = text.slice(0, 200);
    }
    throw new Error(
      `${message ? `${message}: ` : ''}unexpected status code: ${res.statusCode}, expected: ${expected}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('the adapter answered with a body that is not JSON');
  }
}

async function readBounded(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) {
      body.destroy();
      throw new Error(`the adapter's answer is larger than ${maxBodyBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An adapter's report in Harbor's shape: the fields Berth reads are checked, the rest kept as given. */
function normalizeReport(raw: unknown, target: ScanTarget): VulnerabilityReport {
  const r = raw as Partial<VulnerabilityReport> | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.vulnerabilities ?? []))
    throw new Error('the adapter returned a report without a vulnerabilities list');
  return {
    generated_at: r.generated_at ?? new Date().toISOString(),
    artifact: r.artifact ?? {
      repository: target.repository,
      digest: target.digest,
      mime_type: target.mediaType,
    },
    scanner: r.scanner ?? { name: '', vendor: '', version: '' },
    severity: r.severity ?? 'Unknown',
    vulnerabilities: (r.vulnerabilities ?? []).map((v) => ({
      ...v,
      fix_version: v.fix_version ?? '',
      description: v.description ?? '',
      links: v.links ?? [],
      cwe_ids: v.cwe_ids ?? [],
      vendor_attributes: v.vendor_attributes ?? {},
    })),
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('the scan was stopped'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('the scan was stopped'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
