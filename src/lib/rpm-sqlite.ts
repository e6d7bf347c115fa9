import Database from 'better-sqlite3';

/**
 * The header blobs of an rpm sqlite database (RHEL 9, Fedora 33+: `rpmdb.sqlite`, table `Packages`),
 * opened read-only from a file. Reading the headers is the caller's business.
 */
export function readRpmSqliteHeaders(file: string): Buffer[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT blob FROM Packages').all() as Array<{ blob: Buffer }>).map((r) => r.blob);
  } finally {
    db.close();
  }
}
