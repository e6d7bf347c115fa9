import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose/jwt/sign';
import { jwtVerify } from 'jose/jwt/verify';
import { LRUCache } from 'lru-cache';
import type { Keys } from './keys.js';

/** One granted scope, as in the Docker token spec's `access` claim. */
export interface Access {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

/** Who the token was issued to, carried in our own claims so /v2 needs no lookup. */
export interface TokenPrincipal {
  kind: 'user' | 'robot' | 'anonymous';
  id: number;
  name: string;
}

export interface VerifiedToken {
  principal: TokenPrincipal;
  access: Access[];
  expiresAt: number;
}

export const tokenIssuer = 'berth-token-issuer';

/** Issues and verifies the JWTs of /service/token (ES256, key shared by every node through the database). */
export class BearerTokens {
  /** Verified tokens, so a pull of many layers checks one signature once. */
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: 10_000 });

  constructor(
    private readonly deps: { keys: Keys; service: string; expirySeconds: number; now: () => Date },
  ) {}

  async issue(
    principal: TokenPrincipal,
    access: Access[],
  ): Promise<{ token: string; expiresIn: number; issuedAt: Date }> {
    const issuedAt = this.deps.now();
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const token = await new SignJWT({ access, berth: principal })
      .setProtectedHeader({ alg: 'ES256', kid: this.deps.keys.signing.kid, typ: 'JWT' })
      .setIssuer(tokenIssuer)
      .setSubject(principal.name)
      .setAudience(this.deps.service)
      .setIssuedAt(iat)
      .setNotBefore(iat - 1)
      .setExpirationTime(iat + this.deps.expirySeconds)
      .setJti(randomUUID())
      .sign(this.deps.keys.signing.privateKey);
    return { token, expiresIn: this.deps.expirySeconds, issuedAt };
  }

  /** The token's principal and grants, or undefined when the signature, issuer, audience or time is wrong. */
  async verify(token: string): Promise<VerifiedToken | undefined> {
    const nowSeconds = Math.floor(this.deps.now().getTime() / 1000);
    const cached = this.verified.get(token);
    if (cached) return cached.expiresAt > nowSeconds ? cached : undefined;
    try {
      const { payload } = await jwtVerify(token, this.deps.keys.signing.publicKey, {
        issuer: tokenIssuer,
        audience: this.deps.service,
        algorithms: ['ES256'],
        currentDate: this.deps.now(),
        requiredClaims: ['exp', 'sub'],
      });
      const principal = payload.berth as TokenPrincipal | undefined;
      if (!principal || !Array.isArray(payload.access)) return undefined;
      const result: VerifiedToken = {
        principal,
        access: payload.access as Access[],
        expiresAt: payload.exp!,
      };
      this.verified.set(token, result);
      return result;
    } catch {
      return undefined;
    }
  }
}

/** True when the grants include every action on the repository (`*` covers all). */
export function accessCovers(
  access: readonly Access[],
  type: Access['type'],
  name: string,
  actions: readonly string[],
) {
  const held = new Set(access.filter((a) => a.type === type && a.name === name).flatMap((a) => a.actions));
  return held.has('*') || actions.every((a) => held.has(a));
}
