import { randomBytes, randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/**
 * Each argon2 run takes 19 MiB for its duration, on libuv's pool (4 threads). When the authenticator's
 * cache of checked credentials expired (60 s), the next burst of requests carrying the same Basic
 * credentials (16 clients at once in the manifest-put row, 200 in the load run) ran one check per request,
 * four at a time: +60 MiB resident for a second, the row's whole-life peak (issue 15). So checks of the same
 * secret against the same hash share one run, and at most `maxRuns` run at once, which also leaves libuv's
 * other threads to file reads and writes. Process-wide on purpose: the memory is the process's.
 */
const maxRuns = 2;
let running = 0;
let mostAtOnce = 0;
let runs = 0;
const queued: (() => void)[] = [];
const checking = new Map<string, Promise<boolean>>();

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running < maxRuns) running++;
  else await new Promise<void>((r) => queued.push(r)); // the finishing run hands its slot over
  mostAtOnce = Math.max(mostAtOnce, running);
  runs++;
  try {
    return await fn();
  } finally {
    const next = queued.shift();
    if (next) next();
    else running--;
  }
}

/** argon2 runs so far, and the most that ran at once. */
export function argon2Runs(): { runs: number; mostAtOnce: number } {
  return { runs, mostAtOnce };
}

/** argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum). */
export function hashSecret(secret: string): Promise<string> {
  return limited(() => hash(secret));
}

/** Constant-time check of a secret against its stored argon2 hash; false for a malformed hash. */
export function verifySecret(stored: string, secret: string): Promise<boolean> {
  const key = `${stored}\0${secret}`;
  let check = checking.get(key);
  if (!check) {
    check = limited(() => verify(stored, secret)).then(
      (ok) => ok,
      () => false,
    );
    check.finally(() => checking.delete(key)).catch(() => {});
    checking.set(key, check);
  }
  return check;
}

let dummy: Promise<string> | undefined;

/** Spends the time of one verification, so an unknown user answers as slowly as a wrong password. */
export async function verifyNothing(secret: string): Promise<false> {
  dummy ??= hashSecret(randomBytes(16).toString('hex'));
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
