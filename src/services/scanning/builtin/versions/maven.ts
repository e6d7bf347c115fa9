import { compareDigits } from './dpkg.js';

/**
 * Maven version ordering, as Maven's ComparableVersion: the version splits at `.`, `-` and at every
 * change between digits and letters into numbers, qualifiers and (after `-` or such a change) nested
 * lists. Qualifiers order `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release <
 * sp < any other (alphabetically)`; a number beats a qualifier; trailing zeros and release qualifiers
 * drop out (1.0 = 1 = 1.0.0 = 1-ga).
 */
export function compareMaven(a: string, b: string): number {
  return compareItems(parseMaven(a), parseMaven(b));
}

type Item = { int: string } | { str: string } | Item[];

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE = String(QUALIFIERS.indexOf(''));

function parseMaven(version: string): Item[] {
  const v = version.trim().toLowerCase();
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  let digit = false;
  let start = 0;
  const nest = () => {
    const next: Item[] = [];
    list.push(next);
    list = next;
    stack.push(next);
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '.' || c === '-') {
      list.push(i === start ? { int: '0' } : item(digit, v.slice(start, i), false));
      start = i + 1;
      if (c === '-') nest();
    } else if (c >= '0' && c <= '9') {
      if (!digit && i > start) {
        list.push(item(false, v.slice(start, i), true));
        start = i;
        nest();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        list.push(item(true, v.slice(start, i), false));
        start = i;
        nest();
      }
      digit = false;
    }
  }
  if (v.length > start) list.push(item(digit, v.slice(start), false));
  while (stack.length) normalize(stack.pop()!);
  return root;
}

function item(digit: boolean, text: string, followedByDigit: boolean): Item {
  if (digit) return { int: text.replace(/^0+(?=\d)/, '') };
  let s = text;
  if (followedByDigit && s.length === 1) s = { a: 'alpha', b: 'beta', m: 'milestone' }[s] ?? s;
  return { str: ALIASES[s] ?? s };
}

function isNull(i: Item): boolean {
  if (Array.isArray(i)) return i.length === 0;
  return 'int' in i ? /^0*$/.test(i.int) : i.str === '';
}

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const last = list[i]!;
    if (isNull(last)) list.splice(i, 1);
    else if (!Array.isArray(last)) break;
  }
}

function qualifier(s: string): string {
  const i = QUALIFIERS.indexOf(s);
  return i < 0 ? `${QUALIFIERS.length}-${s}` : String(i);
}

function strCmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** a compared with b; b undefined means "nothing there" (Maven's null item). */
function compareItem(a: Item, b: Item | undefined): number {
  if (Array.isArray(a)) {
    if (b === undefined) return a.length === 0 ? 0 : compareItem(a[0]!, undefined);
    if (Array.isArray(b)) return compareItems(a, b);
    return 'int' in b ? -1 : 1;
  }
  if ('int' in a) {
    if (b === undefined) return /^0*$/.test(a.int) ? 0 : 1;
    if (Array.isArray(b) || 'str' in b) return 1;
    return compareDigits(a.int, b.int);
  }
  if (b === undefined) return strCmp(qualifier(a.str), RELEASE);
  if (Array.isArray(b) || 'int' in b) return -1;
  return strCmp(qualifier(a.str), qualifier(b.str));
}

function compareItems(a: Item[], b: Item[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const l = a[i];
    const r = b[i];
    const d = l === undefined ? (r === undefined ? 0 : -compareItem(r, undefined)) : compareItem(l, r);
    if (d !== 0) return d;
  }
  return 0;
}
