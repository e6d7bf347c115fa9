import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';

export interface SelfSignedCert {
  /** PEM files, for servers that read paths (slapd). */
  certFile: string;
  keyFile: string;
  /** The same PEM text, for Node servers. */
  cert: string;
  key: string;
  dir: string;
}

/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost (openssl, from Debian's openssl
 * package). Clients that verify certificates reject it, which is what verify-cert tests need.
 */
export async function selfSignedCert(): Promise<SelfSignedCert> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), dir };
}
