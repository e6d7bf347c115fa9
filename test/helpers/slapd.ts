import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';
import { freePort } from './ports.js';

/** Debian's OpenLDAP server (package `slapd`); entries are loaded with `ldapadd` (package `ldap-utils`). */
export const slapdBinary = process.env.BERTH_SLAPD_BIN ?? '/usr/sbin/slapd';
const schemaDir = process.env.BERTH_SLAPD_SCHEMA_DIR ?? '/etc/ldap/schema';
const moduleDir = process.env.BERTH_SLAPD_MODULE_DIR ?? '/usr/lib/ldap';

export interface LdapUserSpec {
  uid: string;
  password: string;
  cn?: string;
  mail?: string;
}

export interface LdapGroupSpec {
  cn: string;
  /** uids of the members. */
  members: string[];
  /** groupOfNames with `member: <user DN>` (default), or posixGroup with `memberUid: <uid>`. */
  kind?: 'groupOfNames' | 'posixGroup';
}

export interface SlapdOptions {
  /** Default dc=berth,dc=test. */
  baseDn?: string;
  users?: LdapUserSpec[];
  groups?: LdapGroupSpec[];
  /** Load the memberof overlay so user entries carry `memberOf` for groupOfNames groups (default true). */
  memberOf?: boolean;
  /** Also listen on ldaps:// with this certificate (see selfSignedCert in tls.ts). */
  tls?: { certFile: string; keyFile: string };
  startTimeoutMs?: number;
}

export interface RunningSlapd {
  /** ldap://127.0.0.1:<port> */
  url: string;
  /** ldaps://127.0.0.1:<port> when started with `tls`. */
  ldapsUrl?: string;
  baseDn: string;
  /** ou=people,<base>: where users live. */
  peopleDn: string;
  /** ou=groups,<base>: where groups live. */
  groupsDn: string;
  /** A read-only account for search-then-bind (not the rootdn). */
  searchDn: string;
  searchPassword: string;
  /** The rootdn, for tests that change the directory. */
  adminDn: string;
  adminPassword: string;
  userDn(uid: string): string;
  groupDn(cn: string): string;
  /** Adds entries (LDIF text) with ldapadd as the rootdn. */
  add(ldif: string): Promise<void>;
  /** Applies an LDIF change (ldapmodify) as the rootdn. */
  modify(ldif: string): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

/** {SSHA} as OpenLDAP checks it: base64(sha1(password + salt) + salt). */
function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/**
 * Starts a real OpenLDAP slapd in a temp dir on 127.0.0.1 and a free port, with an mdb database under
 * `baseDn`, ou=people and ou=groups, a read-only search account, and the given users and groups loaded
 * through ldapadd. The config is a generated slapd.conf (no cn=config needed for a throwaway server).
 */
export async function startSlapd(options: SlapdOptions = {}): Promise<RunningSlapd> {
  const baseDn = options.baseDn ?? 'dc=berth,dc=test';
  const dc = /^dc=([^,]+)/.exec(baseDn)?.[1] ?? 'berth';
  const dir = mkdtempSync(join(tmpdir(), 'berth-slapd-'));
  mkdirSync(join(dir, 'db'));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = options.tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  const adminDn = `cn=admin,${baseDn}`;
  const adminPassword = randomBytes(12).toString('hex');
  const searchDn = `cn=reader,${baseDn}`;
  const searchPassword = randomBytes(12).toString('hex');
  const peopleDn = `ou=people,${baseDn}`;
  const groupsDn = `ou=groups,${baseDn}`;
  const memberOf = options.memberOf ?? true;

  const conf = [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include ${join(schemaDir, `${s}.schema`)}`),
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    `modulepath ${moduleDir}`,
    ...(options.tls
      ? [`TLSCertificateFile ${options.tls.certFile}`, `TLSCertificateKeyFile ${options.tls.keyFile}`]
      : []),
    'moduleload back_mdb',
    ...(memberOf ? ['moduleload memberof'] : []),
    'database mdb',
    'maxsize 104857600',
    `suffix "${baseDn}"`,
    `rootdn "${adminDn}"`,
    `rootpw ${ssha(adminPassword)}`,
    `directory ${join(dir, 'db')}`,
    ...(memberOf ? ['overlay memberof'] : []),
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by users read by * none',
  ];
  const confFile = join(dir, 'slapd.conf');
  writeFileSync(confFile, conf.join('\n') + '\n', { mode: 0o600 });

  const logFile = join(dir, 'slapd.log');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // -d keeps slapd in the foreground (even at level 0), so the test owns the process.
    child = spawn(
      slapdBinary,
      [
        '-f',
        confFile,
        '-h',
        [url, ldapsUrl]
          .filter(Boolean)
          .map((u) => `${u}/`)
          .join(' '),
        '-d',
        '256',
      ],
      {
        stdio: ['ignore', fd, fd],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      },
    );
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const ldapTool = async (tool: 'ldapadd' | 'ldapmodify', ldif: string) => {
    const file = join(dir, `change-${randomBytes(4).toString('hex')}.ldif`);
    writeFileSync(file, ldif);
    try {
      await run(tool, ['-x', '-H', url, '-D', adminDn, '-w', adminPassword, '-f', file], {
        timeout: 15_000,
      });
    } finally {
      rmSync(file, { force: true });
    }
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = readLog();
      await stop();
      throw new Error(`slapd exited during start-up:\n${log.slice(-2000)}`);
    }
    try {
      await run('ldapwhoami', ['-x', '-H', url, '-D', adminDn, '-w', adminPassword], { timeout: 2000 });
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const log = readLog();
      await stop();
      throw new Error(`slapd did not answer on ${url} in time:\n${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const userDn = (uid: string) => `uid=${uid},${peopleDn}`;
  const groupDn = (cn: string) => `cn=${cn},${groupsDn}`;
  const entries: string[] = [
    `dn: ${baseDn}\nobjectClass: dcObject\nobjectClass: organization\ndc: ${dc}\no: Berth tests`,
    `dn: ${searchDn}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: ${ssha(searchPassword)}`,
    `dn: ${peopleDn}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ${groupsDn}\nobjectClass: organizationalUnit\nou: groups`,
  ];
  let uidNumber = 10_000;
  for (const u of options.users ?? []) {
    const cn = u.cn ?? u.uid;
    entries.push(
      [
        `dn: ${userDn(u.uid)}`,
        'objectClass: inetOrgPerson',
        'objectClass: posixAccount',
        `uid: ${u.uid}`,
        `cn: ${cn}`,
        `sn: ${cn}`,
        `uidNumber: ${uidNumber++}`,
        'gidNumber: 10000',
        `homeDirectory: /home/${u.uid}`,
        ...(u.mail ? [`mail: ${u.mail}`] : []),
        `userPassword: ${ssha(u.password)}`,
      ].join('\n'),
    );
  }
  let gidNumber = 20_000;
  for (const g of options.groups ?? []) {
    const lines =
      g.kind === 'posixGroup'
        ? ['objectClass: posixGroup', `gidNumber: ${gidNumber++}`, ...g.members.map((m) => `memberUid: ${m}`)]
        : // groupOfNames needs at least one member; an empty group names the base DN as a placeholder.
          [
            'objectClass: groupOfNames',
            ...(g.members.length ? g.members.map((m) => `member: ${userDn(m)}`) : [`member: ${baseDn}`]),
          ];
    entries.push([`dn: ${groupDn(g.cn)}`, `cn: ${g.cn}`, ...lines].join('\n'));
  }
  try {
    await ldapTool('ldapadd', entries.join('\n\n') + '\n');
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    ldapsUrl,
    baseDn,
    peopleDn,
    groupsDn,
    searchDn,
    searchPassword,
    adminDn,
    adminPassword,
    userDn,
    groupDn,
    add: (ldif) => ldapTool('ldapadd', ldif),
    modify: (ldif) => ldapTool('ldapmodify', ldif),
    log: readLog,
    stop,
  };
}
