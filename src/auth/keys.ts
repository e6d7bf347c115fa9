import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
// jose's subpaths: the package root would load its JWE and JWKS modules too, which Berth never uses.
import type { CryptoKey, JWK } from 'jose';
import { exportJWK } from 'jose/key/export';
import { generateKeyPair } from 'jose/key/generate/keypair';
import { importJWK } from 'jose/key/import';
import type { AuthStateRepo } from '../db/repos/auth-state.js';

/** Keys generated on first start and kept in the database, so every node signs and decrypts alike. */
export interface Keys {
  /** ES256 pair for /service/token JWTs. */
  signing: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string };
  /** Encrypts secrets Berth must read back (CLI secrets, remote registry credentials). */
  box: SecretBox;
}

export async function loadKeys(repo: AuthStateRepo, now: string): Promise<Keys> {
  const jwkText = await repo.key(
    'token_signing',
    async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(privateKey);
      return JSON.stringify({ ...jwk, kid: randomBytes(8).toString('hex') });
    },
    now,
  );
  const jwk = JSON.parse(jwkText) as JWK & { kid: string };
  const privateKey = (await importJWK(jwk, 'ES256')) as CryptoKey;
  const { d: _private, ...pub } = jwk;
  const publicKey = (await importJWK(pub, 'ES256')) as CryptoKey;
  const dataKey = await repo.key('data_encryption', () => randomBytes(32).toString('base64'), now);
  return {
    signing: { privateKey, publicKey, kid: jwk.kid },
    box: new SecretBox(Buffer.from(dataKey, 'base64')),
  };
}

/** AES-256-GCM with a random nonce per value; output is `v1:<base64 nonce|tag|ciphertext>`. */
export class SecretBox {
  constructor(private readonly key: Buffer) {}

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** The plain text, or undefined when the value was not sealed with this key or was altered. */
  open(sealed: string): string | undefined {
    if (!sealed.startsWith('v1:')) return undefined;
    const raw = Buffer.from(sealed.slice(3), 'base64');
    if (raw.length < 28) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
