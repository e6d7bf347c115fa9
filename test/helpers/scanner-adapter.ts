import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const REPORT_MIME = 'application/vnd.security.vulnerability.report; version=1.1';
export const SBOM_REPORT_MIME = 'application/vnd.security.sbom.report+json; version=1.0';

/** What the adapter saw of one scan request, and what pulling the artifact with its token gave. */
export interface AdapterScan {
  id: string;
  request: {
    registry: { url: string; authorization: string };
    artifact: { repository: string; digest: string; tag: string; mime_type: string };
    enabled_capabilities: {
      type: string;
      produces_mime_types: string[];
      parameters?: Record<string, unknown>;
    }[];
  };
  /** The query of the report polls (Harbor adds `sbom_media_type` for an SBOM). */
  reportQuery?: string;
  /** Manifest and blob pulls: path → status, and whether each body matched its digest. */
  pulls: { path: string; status: number; verified: boolean }[];
  /** Status of pulling the same manifest from `otherRepository` with the same token. */
  otherRepositoryStatus?: number;
  /** Status of a push (upload start) into the scanned repository with the same token. */
  pushStatus?: number;
}

export interface TestAdapter {
  url: string;
  /** Headers of every request Berth sent (to check the adapter auth). */
  requests: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  scans: AdapterScan[];
  close(): Promise<void>;
}

export interface TestAdapterOptions {
  /** The API key Berth must send (X-ScannerAdapter-API-Key); none checked when absent. */
  apiKey?: string;
  /** Repository to try pulling from with the scan's token (it must be refused). */
  otherRepository?: string;
  /** 302s answered on the report before it is ready. */
  notReadyPolls?: number;
  /** Keep answering 302 (Refresh-After: 1) until this long after the scan was submitted: a slow scanner. */
  reportDelayMs?: number;
  /**
   * The registry authorization the adapter asks for in its metadata (Bearer when absent); null leaves
   * the property out (Harbor then gives Basic credentials).
   */
  authorizationType?: string | null;
  /** Offer the sbom capability too, answering Harbor's raw SBOM report with an SPDX document. */
  sbom?: boolean;
}

/**
 * A Pluggable Scanner API v1.1 adapter written for the tests, on 127.0.0.1: it answers metadata, and
 * for a scan pulls the artifact's manifest, config and layers from the registry with the authorization
 * it was given (checking every digest), tries what the token must not allow, and reports one
 * vulnerability per layer.
 */
export async function startTestAdapter(options: TestAdapterOptions = {}): Promise<TestAdapter> {
  const requests: TestAdapter['requests'] = [];
  const scans: AdapterScan[] = [];
  const pending = new Map<string, { scan: AdapterScan; done: Promise<void>; polls: number; at: number }>();

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: Error) => send(res, 500, { error: { message: err.message } }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '').split('?')[0]!;
    requests.push({ method: req.method ?? '', path, headers: req.headers });
    if (options.apiKey && req.headers['x-scanneradapter-api-key'] !== options.apiKey)
      return send(res, 401, { error: { message: 'invalid API key' } });
    if (req.method === 'GET' && path === '/api/v1/metadata')
      return send(res, 200, {
        scanner: { name: 'TestScan', vendor: 'Berth tests', version: '0.1' },
        capabilities: [
          {
            type: 'vulnerability',
            consumes_mime_types: [
              'application/vnd.oci.image.manifest.v1+json',
              'application/vnd.docker.distribution.manifest.v2+json',
            ],
            produces_mime_types: [REPORT_MIME],
          },
          ...(options.sbom
            ? [
                {
                  type: 'sbom',
                  consumes_mime_types: [
                    'application/vnd.oci.image.manifest.v1+json',
                    'application/vnd.docker.distribution.manifest.v2+json',
                  ],
                  produces_mime_types: [SBOM_REPORT_MIME],
                },
              ]
            : []),
        ],
        properties:
          options.authorizationType === null
            ? {}
            : { 'harbor.scanner-adapter/registry-authorization-type': options.authorizationType ?? 'Bearer' },
      });
    if (req.method === 'POST' && path === '/api/v1/scan') {
      const request = JSON.parse(await readBody(req)) as AdapterScan['request'];
      const scan: AdapterScan = { id: randomUUID(), request, pulls: [] };
      scans.push(scan);
      // A pull still going when the test ends (a stopped scan) must not fail it afterwards.
      const done = pullArtifact(scan, options.otherRepository).catch((err: Error) => {
        scan.pulls.push({ path: `error: ${err.message}`, status: 0, verified: false });
      });
      pending.set(scan.id, { scan, done, polls: 0, at: Date.now() });
      return send(res, 202, { id: scan.id });
    }
    const m = /^\/api\/v1\/scan\/([^/]+)\/report$/.exec(path);
    if (req.method === 'GET' && m) {
      const job = pending.get(m[1]!);
      if (!job) return send(res, 404, { error: { message: 'no such scan' } });
      const sbom = job.scan.request.enabled_capabilities[0]?.type === 'sbom';
      if (req.headers.accept !== (sbom ? SBOM_REPORT_MIME : REPORT_MIME))
        return send(res, 400, { error: { message: `unsupported accept ${String(req.headers.accept)}` } });
      job.scan.reportQuery = (req.url ?? '').split('?')[1] ?? '';
      if (Date.now() - job.at < (options.reportDelayMs ?? 0)) {
        res.writeHead(302, { 'Refresh-After': '1' });
        return res.end();
      }
      if (job.polls++ < (options.notReadyPolls ?? 1)) {
        res.writeHead(302, { 'Refresh-After': '0' });
        return res.end();
      }
      await job.done;
      const { artifact } = job.scan.request;
      if (sbom)
        return send(res, 200, {
          generated_at: new Date().toISOString(),
          scanner: { name: 'TestScan', vendor: 'Berth tests', version: '0.1' },
          media_type: 'application/spdx+json',
          sbom: {
            spdxVersion: 'SPDX-2.3',
            SPDXID: 'SPDXRef-DOCUMENT',
            name: `${artifact.repository}@${artifact.digest}`,
            packages: job.scan.pulls
              .filter((p) => p.path.includes('/blobs/'))
              .map((p, i) => ({ SPDXID: `SPDXRef-pkg${i}`, name: `pkg${i}`, versionInfo: '1.0' })),
          },
        });
      return send(res, 200, {
        generated_at: new Date().toISOString(),
        artifact: { repository: artifact.repository, digest: artifact.digest, mime_type: artifact.mime_type },
        scanner: { name: 'TestScan', vendor: 'Berth tests', version: '0.1' },
        severity: 'High',
        vulnerabilities: job.scan.pulls
          .filter((p) => p.path.includes('/blobs/'))
          .map((p, i) => ({
            id: `CVE-2099-${1000 + i}`,
            package: `pkg${i}`,
            version: '1.0',
            fix_version: '1.1',
            severity: i === 0 ? 'High' : 'Low',
            description: `blob ${p.path.split('/').pop()} verified=${p.verified}`,
            links: [],
          })),
      });
    }
    send(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    scans,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Pulls the manifest and every blob it names with the scan's authorization, as a real adapter would. */
async function pullArtifact(scan: AdapterScan, otherRepository?: string): Promise<void> {
  const { registry, artifact } = scan.request;
  const headers = { authorization: registry.authorization };
  const get = async (path: string, digest: string, accept?: string) => {
    const res = await fetch(`${registry.url}${path}`, {
      headers: { ...headers, ...(accept ? { accept } : {}) },
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const verified = res.ok && `sha256:${createHash('sha256').update(bytes).digest('hex')}` === digest;
    scan.pulls.push({ path, status: res.status, verified });
    return verified ? bytes : undefined;
  };
  const manifest = await get(
    `/v2/${artifact.repository}/manifests/${artifact.digest}`,
    artifact.digest,
    artifact.mime_type,
  );
  if (!manifest) return;
  const doc = JSON.parse(manifest.toString('utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  for (const d of [doc.config, ...doc.layers])
    await get(`/v2/${artifact.repository}/blobs/${d.digest}`, d.digest);
  if (otherRepository) {
    const other = await fetch(`${registry.url}/v2/${otherRepository}/manifests/${artifact.digest}`, {
      headers,
    });
    await other.arrayBuffer();
    scan.otherRepositoryStatus = other.status;
  }
  const push = await fetch(`${registry.url}/v2/${artifact.repository}/blobs/uploads/`, {
    method: 'POST',
    headers,
  });
  await push.arrayBuffer();
  scan.pushStatus = push.status;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
