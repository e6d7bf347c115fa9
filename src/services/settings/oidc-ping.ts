import type { Logger } from 'pino';
import { AppError } from '../../lib/errors.js';
import { RemoteHttp } from '../../remotes/http.js';

/**
 * Harbor's pingOIDC: the endpoint answers its discovery document, and that document names the endpoint
 * as issuer (what an OIDC client checks before trusting it). Any failure is the one BAD_REQUEST Harbor
 * answers; the reason goes to the log.
 */
export async function pingOidcEndpoint(
  log: Pick<Logger, 'warn'>,
  endpoint: { url: string; verifyCert: boolean },
): Promise<void> {
  const http = new RemoteHttp(endpoint.url, { insecure: !endpoint.verifyCert }, { timeoutMs: 10_000 });
  const operation = 'read the OIDC discovery document';
  try {
    const url = `${endpoint.url.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await http.send({ operation, method: 'GET', url });
    if (res.status !== 200) throw await http.failure(operation, res);
    const doc = await http.json<{ issuer?: unknown }>(operation, res);
    if (doc.issuer !== endpoint.url)
      throw new Error(`the document names issuer ${String(doc.issuer)}, not ${endpoint.url}`);
  } catch (err) {
    log.warn({ endpoint: endpoint.url, err: (err as Error).message }, 'OIDC endpoint ping failed');
    throw new AppError('BAD_REQUEST', 'failed to verify connection');
  } finally {
    await http.close();
  }
}
