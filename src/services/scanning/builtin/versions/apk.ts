import { compareDigits } from './dpkg.js';

/**
 * Alpine apk version ordering (apk-tools `apk_version_compare`): `digits{.digits}[letter]{_suffix[N]}[-rN]`.
 * Numeric components compare as numbers, except that a component after the first with a leading zero
 * compares as a string (apk's "fractional" rule); one letter may follow the numbers; suffixes order
 * `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`; `-rN` is the package release.
 * A version that does not follow the grammar compares by what parses and then by the rest as text.
 */
export function compareApk(a: string, b: string): number {
  const x = tokenizeApk(a);
  const y = tokenizeApk(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (!p || !q) return tailOrder(p ?? q!) * (p ? 1 : -1);
    if (p.kind !== q.kind) return rank(p) < rank(q) ? -1 : 1;
    const d = compareToken(p, q);
    if (d !== 0) return d;
  }
  return 0;
}

type Token =
  | { kind: 'num'; text: string; first: boolean }
  | { kind: 'letter'; text: string }
  | { kind: 'suffix'; order: number; num: string }
  | { kind: 'rev'; num: string }
  | { kind: 'rest'; text: string };

const SUFFIXES: Record<string, number> = {
  alpha: -4,
  beta: -3,
  pre: -2,
  rc: -1,
  cvs: 1,
  svn: 2,
  git: 3,
  hg: 4,
  p: 5,
};

function tokenizeApk(v: string): Token[] {
  const tokens: Token[] = [];
  const m = /^(\d+(?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:-r(\d+))?$/.exec(v.trim());
  if (!m) {
    const lead = /^\d+(?:\.\d+)*/.exec(v)?.[0] ?? '';
    lead
      .split('.')
      .filter(Boolean)
      .forEach((n, i) => tokens.push({ kind: 'num', text: n, first: i === 0 }));
    tokens.push({ kind: 'rest', text: v.slice(lead.length) });
    return tokens;
  }
  m[1]!.split('.').forEach((n, i) => tokens.push({ kind: 'num', text: n, first: i === 0 }));
  if (m[2]) tokens.push({ kind: 'letter', text: m[2] });
  for (const s of m[3]!.split('_').filter(Boolean)) {
    const sm = /^([a-z]+)(\d*)$/.exec(s)!;
    tokens.push({ kind: 'suffix', order: SUFFIXES[sm[1]!] ?? 0, num: sm[2]! });
  }
  if (m[4] !== undefined) tokens.push({ kind: 'rev', num: m[4] });
  return tokens;
}

/** Which kind of token wins where two versions differ in shape; a pre-release suffix loses to all. */
function rank(t: Token): number {
  if (t.kind === 'suffix' && t.order < 0) return -1;
  return { num: 4, letter: 3, suffix: 2, rev: 1, rest: 0 }[t.kind];
}

function compareToken(p: Token, q: Token): number {
  if (p.kind === 'num' && q.kind === 'num') {
    const fractional = !p.first && (p.text.startsWith('0') || q.text.startsWith('0'));
    if (fractional) return p.text < q.text ? -1 : p.text > q.text ? 1 : 0;
    return compareDigits(p.text, q.text);
  }
  if (p.kind === 'letter' && q.kind === 'letter') return p.text < q.text ? -1 : p.text > q.text ? 1 : 0;
  if (p.kind === 'suffix' && q.kind === 'suffix')
    return p.order !== q.order ? (p.order < q.order ? -1 : 1) : compareDigits(p.num, q.num);
  if (p.kind === 'rev' && q.kind === 'rev') return compareDigits(p.num, q.num);
  if (p.kind === 'rest' && q.kind === 'rest') return p.text < q.text ? -1 : p.text > q.text ? 1 : 0;
  return 0;
}

/**
 * The longer version wins when the shorter ran out, unless what remains is a pre-release suffix:
 * 1.0_rc1 < 1.0, 1.0 < 1.0.1, 1.0 < 1.0a, 1.0 < 1.0_p1, 1.0 < 1.0-r1.
 */
function tailOrder(extra: Token): number {
  if (extra.kind === 'suffix' && extra.order < 0) return -1;
  return 1;
}
