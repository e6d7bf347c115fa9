import { randomBytes, randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum). */
export function hashSecret(secret: string): Promise<string> {
  return hash(secret);
}

/** Constant-time check of a secret against its stored argon2 hash; false for a malformed hash. */
export async function verifySecret(stored: string, secret: string): Promise<boolean> {
  try {
    return await verify(stored, secret);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;

/** Spends the time of one verification, so an unknown user answers as slowly as a wrong password. */
export async function verifyNothing(secret: string): Promise<false> {
  dummy ??= hash(randomBytes(16).toString('hex'));
  await verifySecret(await dummy, secret);
  return false;
}

/** Harbor's rule: 8–128 characters with at least one upper-case letter, one lower-case letter and one digit. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 8 || password.length > 128) return 'the password must be 8 to 128 characters long';
  if (!/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password))
    return 'the password must contain at least one upper-case letter, one lower-case letter and one digit';
  return undefined;
}

/** A random password that satisfies Harbor's rule (for the first admin and robot/CLI secrets). */
export function randomPassword(length = 24): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  for (;;) {
    const pw = Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
    if (!passwordProblem(pw)) return pw;
  }
}
