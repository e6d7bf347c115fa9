import { randomUUID } from 'node:crypto';
import type { MetaStore } from '../../../db/store.js';
import type { ScannerRegistrationRow } from '../../../db/tables.js';
import type { Clock } from '../../../lib/clock.js';
import { AppError } from '../../../lib/errors.js';
import type { ListQuery, Page } from '../../../lib/query.js';
import type { SecretSealer } from '../../replication/registry-endpoints.js';
import {
  BUILTIN_SCANNER_UUID,
  type Scanner,
  type ScannerMetadata,
  type ScannerResolver,
} from '../scanner.js';
import type { AdapterSettings } from './adapter-client.js';

export interface RegistrationInput {
  name: string;
  url: string;
  description?: string;
  auth?: string;
  accessCredential?: string;
  skipCertVerify?: boolean;
  useInternalAddr?: boolean;
  disabled?: boolean;
}

/** Harbor's ScannerRegistration model (the credential is never returned, as in Harbor 2.13+). */
export interface RegistrationView {
  uuid: string;
  name: string;
  description: string;
  url: string;
  disabled: boolean;
  is_default: boolean;
  auth: string;
  skip_certVerify: boolean;
  use_internal_addr: boolean;
  create_time: string;
  update_time: string;
  adapter?: string;
  vendor?: string;
  version?: string;
  health?: string;
  capabilities?: Record<string, boolean>;
}

/** A scanner for one registration: the built-in one, or a Pluggable Scanner API client. */
export interface ScannerFactory {
  builtin: Scanner & { close(): Promise<void> };
  adapter(settings: AdapterSettings): Scanner & { close(): Promise<void> };
}

const authTypes = ['Basic', 'Bearer', 'X-ScannerAdapter-API-Key'];
/** Harbor reserves its built-in scanner's name; Berth reserves its own. */
const reservedNames = ['Berth'];
/** Harbor keeps an adapter's metadata 30 s (failures too), so lists do not ping on every call. */
const metadataTtlMs = 30_000;

type Store = Pick<MetaStore, 'scanners' | 'transaction'>;

/**
 * Scanner registrations (Harbor's controller/scanner): the built-in scanner, registered by the
 * migration and immutable, and external adapters; the system default; each project's choice. It is
 * also the ScannerResolver the scan jobs ask which scanner a project uses.
 */
export class ScannerRegistrations implements ScannerResolver {
  private readonly metadataCache = new Map<string, { at: number; result: Promise<ScannerMetadata> }>();
  private readonly clients = new Map<
    string,
    { key: string; scanner: Scanner & { close(): Promise<void> } }
  >();

  constructor(
    private readonly d: { store: Store; clock: Clock; secrets: SecretSealer; scanners: ScannerFactory },
  ) {}

  async list(query: ListQuery): Promise<Page<RegistrationView>> {
    const page = await this.d.store.scanners.list(query);
    const items = await Promise.all(page.items.map((r) => this.viewWithCapabilities(r)));
    return { items, total: page.total };
  }

  async get(uuid: string): Promise<RegistrationView> {
    return this.viewWithCapabilities(await this.row(uuid));
  }

  /** Registers an adapter after a successful ping; the first registration ever becomes the default. */
  async create(input: RegistrationInput): Promise<string> {
    const url = validate(input);
    if (reservedNames.includes(input.name))
      throw new AppError('BAD_REQUEST', `name "${input.name}" is reserved, please try a different name`);
    await this.pingSettings(this.settingsOf(input, url));
    if (await this.d.store.scanners.findClash(input.name, url))
      throw new AppError('CONFLICT', 'registration name or url already exists');
    const now = this.d.clock.now().toISOString();
    const uuid = randomUUID();
    const first =
      (await this.d.store.scanners.list({ keywords: {}, sorts: [], page: 1, pageSize: 1 })).total === 0;
    await this.d.store.scanners.create({
      uuid,
      name: input.name,
      description: input.description ?? '',
      url,
      auth: input.auth ?? '',
      access_credential: input.accessCredential ? this.d.secrets.seal(input.accessCredential) : '',
      skip_cert_verify: input.skipCertVerify ? 1 : 0,
      use_internal_addr: input.useInternalAddr ? 1 : 0,
      disabled: input.disabled ? 1 : 0,
      is_default: first ? 1 : 0,
      immutable: 0,
      create_time: now,
      update_time: now,
    });
    return uuid;
  }

  /**
   * Replaces a registration's settings (Harbor's PUT: omitted booleans become false). An empty
   * credential keeps the stored one while the auth type still needs one.
   */
  async update(uuid: string, input: RegistrationInput): Promise<void> {
    const row = await this.row(uuid);
    if (row.immutable)
      throw new AppError(
        'FORBIDDEN',
        `registration ${row.name} is not allowed to update as it is immutable: scanner API: update`,
      );
    const keepCredential = !input.accessCredential && authTypes.includes(input.auth ?? '');
    const credential = keepCredential ? this.credentialOf(row) : (input.accessCredential ?? '');
    const url = validate({ ...input, accessCredential: credential });
    if (reservedNames.includes(input.name))
      throw new AppError('BAD_REQUEST', `name "${input.name}" is reserved, please try a different name`);
    if (row.is_default && input.disabled)
      throw new AppError('BAD_REQUEST', `default registration ${uuid} can not be marked to deactivated`);
    if (await this.d.store.scanners.findClash(input.name, url, uuid))
      throw new AppError('CONFLICT', 'registration name or url already exists');
    await this.d.store.scanners.update(uuid, {
      name: input.name,
      description: input.description ?? '',
      url,
      auth: input.auth ?? '',
      access_credential: credential ? this.d.secrets.seal(credential) : '',
      skip_cert_verify: input.skipCertVerify ? 1 : 0,
      use_internal_addr: input.useInternalAddr ? 1 : 0,
      disabled: input.disabled ? 1 : 0,
      update_time: this.d.clock.now().toISOString(),
    });
    this.metadataCache.delete(uuid);
  }

  /** Deletes an adapter's registration and answers it; projects that used it fall back to the default. */
  async delete(uuid: string): Promise<RegistrationView> {
    const row = await this.row(uuid);
    if (row.immutable)
      throw new AppError(
        'FORBIDDEN',
        `registration ${row.name} is not allowed to delete as it is immutable: scanner API: delete`,
      );
    await this.d.store.scanners.delete(uuid);
    this.metadataCache.delete(uuid);
    await this.clients.get(uuid)?.scanner.close();
    this.clients.delete(uuid);
    return view(row);
  }

  async setDefault(uuid: string): Promise<void> {
    const done = await this.d.store.transaction((tx) => tx.scanners.markDefault(uuid));
    if (!done) throw new AppError('NOT_FOUND', `registration ${uuid} not found`);
  }

  /** Checks unsaved settings: the adapter must answer its metadata, and the metadata be valid. */
  async ping(input: RegistrationInput): Promise<void> {
    await this.pingSettings(this.settingsOf(input, validate(input)));
  }

  /** The registration's adapter metadata (the built-in scanner's names the vulnerability database). */
  async metadata(uuid: string): Promise<ScannerMetadata> {
    const row = await this.d.store.scanners.find(uuid);
    if (!row) throw new AppError('NOT_FOUND', `registration ${uuid} not found`);
    try {
      return await this.cachedMetadata(row);
    } catch (err) {
      throw new AppError('BAD_REQUEST', `scanner controller: ping: ${(err as Error).message}`);
    }
  }

  /** Harbor's project scanner: its own registration, else the default, with health and capabilities. */
  async projectScanner(projectId: number): Promise<RegistrationView | null> {
    const row = await this.registrationOf(projectId);
    if (!row) return null;
    const out = view(row);
    try {
      const meta = await this.cachedMetadata(row);
      Object.assign(out, {
        health: 'healthy',
        adapter: meta.scanner.name,
        vendor: meta.scanner.vendor,
        version: meta.scanner.version,
        capabilities: capabilitiesOf(meta),
      });
    } catch {
      out.health = 'unhealthy';
    }
    return out;
  }

  async setProjectScanner(projectId: number, uuid: string): Promise<void> {
    if (!uuid) throw new AppError('BAD_REQUEST', 'missing scanner UUID');
    if (!(await this.d.store.scanners.find(uuid)))
      throw new AppError('NOT_FOUND', `scanner ${uuid} not found`);
    await this.d.store.scanners.setProjectScanner(projectId, uuid);
  }

  async forProject(projectId: number): Promise<{ uuid: string; name: string; scanner: Scanner } | undefined> {
    const row = await this.registrationOf(projectId);
    if (!row || row.disabled) return undefined;
    return { uuid: row.uuid, name: row.name, scanner: this.scannerOf(row) };
  }

  /** Releases the adapter clients' connections and the built-in scanner's threads. */
  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.scanner.close()));
    await this.d.scanners.builtin.close();
    this.clients.clear();
  }

  private async registrationOf(projectId: number): Promise<ScannerRegistrationRow | undefined> {
    const own = await this.d.store.scanners.projectScanner(projectId);
    const row = own ? await this.d.store.scanners.find(own) : undefined;
    return row ?? (await this.d.store.scanners.findDefault());
  }

  private scannerOf(row: ScannerRegistrationRow): Scanner {
    if (row.uuid === BUILTIN_SCANNER_UUID) return this.d.scanners.builtin;
    // One client (one connection pool) per registration, renewed when the registration changes.
    const key = row.update_time;
    const known = this.clients.get(row.uuid);
    if (known?.key === key) return known.scanner;
    void known?.scanner.close();
    const scanner = this.d.scanners.adapter({
      name: row.name,
      url: row.url,
      auth: row.auth,
      accessCredential: this.credentialOf(row),
      skipCertVerify: row.skip_cert_verify === 1,
      useInternalAddr: row.use_internal_addr === 1,
    });
    this.clients.set(row.uuid, { key, scanner });
    return scanner;
  }

  private cachedMetadata(row: ScannerRegistrationRow): Promise<ScannerMetadata> {
    const now = Date.now();
    const known = this.metadataCache.get(row.uuid);
    if (known && now - known.at < metadataTtlMs && row.uuid !== BUILTIN_SCANNER_UUID) return known.result;
    // The built-in scanner's metadata is a database read: always current (a new import shows at once).
    const result = this.scannerOf(row).metadata(AbortSignal.timeout(5000));
    this.metadataCache.set(row.uuid, { at: now, result });
    result.catch(() => undefined);
    return result;
  }

  private async viewWithCapabilities(row: ScannerRegistrationRow): Promise<RegistrationView> {
    const out = view(row);
    try {
      out.capabilities = capabilitiesOf(await this.cachedMetadata(row));
    } catch {
      // Harbor lists a registration whose adapter does not answer, without capabilities.
    }
    return out;
  }

  private async pingSettings(settings: AdapterSettings): Promise<ScannerMetadata> {
    const client = this.d.scanners.adapter(settings);
    try {
      return await client.metadata(AbortSignal.timeout(5000));
    } catch (err) {
      // The adapter is what failed: a client error naming the cause (Harbor answers 500).
      throw new AppError('BAD_REQUEST', `scanner controller: ping: ${(err as Error).message}`);
    } finally {
      await client.close();
    }
  }

  private settingsOf(input: RegistrationInput, url: string): AdapterSettings {
    return {
      url,
      auth: input.auth ?? '',
      accessCredential: input.accessCredential ?? '',
      skipCertVerify: input.skipCertVerify ?? false,
      useInternalAddr: input.useInternalAddr ?? false,
    };
  }

  private credentialOf(row: ScannerRegistrationRow): string {
    if (!row.access_credential) return '';
    const plain = this.d.secrets.open(row.access_credential);
    if (plain === undefined)
      throw new AppError(
        'PRECONDITION',
        `the stored credential of scanner ${row.name} cannot be decrypted (the data key changed); enter it again`,
      );
    return plain;
  }

  private async row(uuid: string): Promise<ScannerRegistrationRow> {
    const row = await this.d.store.scanners.find(uuid);
    if (!row) throw new AppError('NOT_FOUND', `scanner ${uuid} not found`);
    return row;
  }
}

/** Harbor's Registration.Validate; answers the URL as Harbor keeps it (`scheme://host[:port]/path`). */
function validate(input: RegistrationInput): string {
  if (!input.name) throw new AppError('BAD_REQUEST', 'missing registration name');
  const url = validateHttpUrl(input.url);
  const auth = input.auth ?? '';
  if (auth && !authTypes.includes(auth))
    throw new AppError('BAD_REQUEST', `auth type ${auth} is not supported`);
  if (auth && !input.accessCredential)
    throw new AppError('BAD_REQUEST', `access_credential is required for auth type ${auth}`);
  return url;
}

function validateHttpUrl(raw: string): string {
  let s = raw.trim().replace(/\/+$/, '');
  if (!s) throw new AppError('BAD_REQUEST', 'scanner registration validate: empty string');
  if (!s.includes('://')) s = `http://${s}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch (err) {
    throw new AppError(
      'BAD_REQUEST',
      `scanner registration validate: invalid URL: ${(err as Error).message}`,
    );
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https')
    throw new AppError('BAD_REQUEST', `scanner registration validate: invalid HTTP scheme: ${scheme}`);
  // Query and fragment dropped, as Harbor does against SSRF tricks.
  return `${scheme}://${url.host}${url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '')}`;
}

/** Harbor's ConvertCapability: `support_vulnerability` / `support_sbom` from the capability types. */
export function capabilitiesOf(meta: ScannerMetadata): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const typed = meta.capabilities.some((c) => c.type);
  for (const c of meta.capabilities) {
    if (c.type === 'vulnerability') out.support_vulnerability = true;
    else if (c.type === 'sbom') out.support_sbom = true;
  }
  if (!typed && Object.keys(out).length === 0)
    Object.assign(out, { support_vulnerability: true, support_sbom: false });
  return out;
}

function view(row: ScannerRegistrationRow): RegistrationView {
  return {
    uuid: row.uuid,
    name: row.name,
    description: row.description,
    url: row.url,
    disabled: row.disabled === 1,
    is_default: row.is_default === 1,
    auth: row.auth,
    skip_certVerify: row.skip_cert_verify === 1,
    use_internal_addr: row.use_internal_addr === 1,
    create_time: row.create_time,
    update_time: row.update_time,
  };
}
