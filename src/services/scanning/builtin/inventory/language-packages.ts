import { parseStanzas, type FoundPackage } from './package.js';

type Where = Pick<FoundPackage, 'path' | 'layer'>;

/**
 * npm's `package-lock.json` (and `npm-shrinkwrap.json`, `node_modules/.package-lock.json`):
 * lockfile v2/v3 list `packages` keyed by `node_modules/...` paths; v1 nests `dependencies`.
 */
export function parsePackageLock(text: string, where: Where): FoundPackage[] {
  const lock = JSON.parse(text) as {
    packages?: Record<string, { version?: string; name?: string; link?: boolean }>;
    dependencies?: Record<string, V1Dep>;
  };
  const out: FoundPackage[] = [];
  if (lock.packages) {
    for (const [key, p] of Object.entries(lock.packages)) {
      if (!key || p.link || !p.version) continue;
      const name = p.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      if (key.includes('node_modules/')) out.push({ kind: 'npm', name, version: p.version, ...where });
    }
    return out;
  }
  const walk = (deps: Record<string, V1Dep> | undefined) => {
    for (const [name, d] of Object.entries(deps ?? {})) {
      if (d.version && !/^(file|link|git|https?):/.test(d.version))
        out.push({ kind: 'npm', name, version: d.version, ...where });
      walk(d.dependencies);
    }
  };
  walk(lock.dependencies);
  return out;
}

interface V1Dep {
  version?: string;
  dependencies?: Record<string, V1Dep>;
}

/** An installed package's `node_modules/<name>/package.json` (or `node_modules/@scope/name/...`). */
export function parseNodeModulesPackage(text: string, where: Where): FoundPackage[] {
  const p = JSON.parse(text) as { name?: unknown; version?: unknown };
  if (typeof p.name !== 'string' || typeof p.version !== 'string') return [];
  return [{ kind: 'npm', name: p.name, version: p.version, ...where }];
}

/**
 * Python distributions: `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` (`Name:`, `Version:`), the name
 * normalised as PEP 503 and OSV's PyPI records have it (lower case, runs of `-_.` as one `-`).
 */
export function parsePythonMetadata(text: string, where: Where): FoundPackage[] {
  const head = text.split(/\r?\n\r?\n/, 1)[0]!;
  const f = parseStanzas(head)[0];
  const name = f?.get('name');
  const version = f?.get('version');
  if (!name || !version) return [];
  return [{ kind: 'PyPI', name: name.toLowerCase().replace(/[-_.]+/g, '-'), version, ...where }];
}

/** `META-INF/maven/<group>/<artifact>/pom.properties` (in a jar): `groupId:artifactId` at `version`. */
export function parsePomProperties(text: string, where: Where): FoundPackage[] {
  const props = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([\w.-]+)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m && !line.trimStart().startsWith('#')) props.set(m[1]!, m[2]!);
  }
  const g = props.get('groupId');
  const a = props.get('artifactId');
  const v = props.get('version');
  if (!g || !a || !v) return [];
  return [{ kind: 'Maven', name: `${g}:${a}`, version: v, ...where }];
}
