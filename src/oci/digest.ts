import { createHash, type Hash } from 'node:crypto';
import { AppError } from '../lib/errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** `algorithm:hex`, the canonical string form. */
  value: string;
}

const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const grammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigestString(value: string): boolean {
  return grammar.test(value);
}

/** Parses a digest; throws DIGEST_INVALID for bad grammar, an unsupported algorithm or a wrong length. */
export function parseDigest(value: string): Digest {
  if (!grammar.test(value)) throw new AppError('DIGEST_INVALID', `invalid digest "${truncate(value)}"`);
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new AppError('DIGEST_INVALID', `unsupported digest algorithm "${truncate(algorithm)}"`);
  }
  if (hex.length !== hexLength[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new AppError('DIGEST_INVALID', `invalid ${algorithm} digest "${truncate(value)}"`);
  }
  return { algorithm, hex, value };
}

export function createDigester(algorithm: DigestAlgorithm = 'sha256'): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}…` : value;
}
