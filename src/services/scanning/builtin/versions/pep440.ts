/**
 * PEP 440 ordering (Python packages, OSV ecosystem PyPI): `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`,
 * with the spec's normalisations (alpha/beta/c/pre/preview spellings, `-N` as a post release, implicit
 * numbers, `_`/`-`/`.` separators, a leading `v`). The sort key follows the spec: a dev release of a
 * final sorts before its pre-releases, a post release after the final, a local version after its public
 * version. A string that is not PEP 440 sorts below every valid version and by text among its kind.
 */
export function comparePep440(a: string, b: string): number {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x || !y) {
    if (x || y) return x ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return compareKeys(x, y);
}

const NEG = -Infinity;
const POS = Infinity;

interface Pep440 {
  epoch: number;
  release: number[];
  pre: [number, number]; // [phase (a=0,b=1,rc=2; ±Infinity when absent), number]
  post: number;
  dev: number;
  local: Array<number | string> | null;
}

const PATTERN =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/;

export function parsePep440(v: string): Pep440 | null {
  const m = PATTERN.exec(v.trim().toLowerCase());
  if (!m) return null;
  const release = m[2]!.split('.').map(Number);
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  const phase = m[3] === undefined ? undefined : ({ a: 0, alpha: 0, b: 1, beta: 1 }[m[3]] ?? 2);
  const hasPost = m[5] !== undefined || m[6] !== undefined;
  const hasDev = m[8] !== undefined;
  return {
    epoch: m[1] ? Number(m[1]) : 0,
    release,
    // A dev release with neither pre nor post sorts before all pre-releases of that release.
    pre: phase !== undefined ? [phase, Number(m[4] ?? 0)] : !hasPost && hasDev ? [NEG, 0] : [POS, 0],
    post: hasPost ? Number(m[5] ?? m[7] ?? 0) : NEG,
    dev: hasDev ? Number(m[9] ?? 0) : POS,
    local: m[10] ? m[10].split(/[-_.]/).map((s) => (/^\d+$/.test(s) ? Number(s) : s)) : null,
  };
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(x: Pep440, y: Pep440): number {
  let d = cmp(x.epoch, y.epoch);
  if (d) return d;
  for (let i = 0; i < Math.max(x.release.length, y.release.length); i++) {
    d = cmp(x.release[i] ?? 0, y.release[i] ?? 0);
    if (d) return d;
  }
  d = cmp(x.pre[0], y.pre[0]) || cmp(x.pre[1], y.pre[1]) || cmp(x.post, y.post) || cmp(x.dev, y.dev);
  if (d) return d;
  return compareLocal(x.local, y.local);
}

/** No local part sorts first; segments compare numbers above strings, then a longer one wins. */
function compareLocal(a: Array<number | string> | null, b: Array<number | string> | null): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const p = a[i];
    const q = b[i];
    if (p === undefined || q === undefined) return p === undefined ? -1 : 1;
    if (typeof p !== typeof q) return typeof p === 'number' ? 1 : -1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}
