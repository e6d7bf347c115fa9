/**
 * LDAP filter and DN text helpers. User input (a login name, a DN read back from the directory) only ever
 * enters a filter through escapeFilterValue, so `*`, `(`, `)`, `\` and NUL cannot change the filter's
 * meaning (RFC 4515 section 3).
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '*' || ch === '(' || ch === ')' || code === 0) {
      out += `\\${code.toString(16).padStart(2, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** An admin-configured filter with or without its outer parentheses, as Harbor accepts both. */
export function wrapFilter(filter: string | undefined): string | undefined {
  const f = filter?.trim();
  if (!f) return undefined;
  return f.startsWith('(') ? f : `(${f})`;
}

/** `(&a b …)` of the present parts; a single part stands alone. */
export function andFilter(...parts: (string | undefined)[]): string {
  const present = parts.filter((p): p is string => Boolean(p));
  if (present.length === 1) return present[0]!;
  return `(&${present.join('')})`;
}

/**
 * A DN in a form fit for comparison: attribute types lower-cased, spaces around separators removed,
 * values compared case-insensitively (the common matching rule for names in directories).
 */
export function normalizeDn(dn: string): string {
  return splitDn(dn)
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      return `${rdn.slice(0, eq).trim()}=${rdn.slice(eq + 1).trim()}`.toLowerCase();
    })
    .join(',');
}

/** True when `dn` is `base` or lies below it. */
export function dnUnder(dn: string, base: string): boolean {
  const d = normalizeDn(dn);
  const b = normalizeDn(base);
  return d === b || d.endsWith(`,${b}`);
}

/** The value of the first RDN (`cn=devs,ou=groups,…` → `devs`), used as a group's display name. */
export function firstRdnValue(dn: string): string {
  const first = splitDn(dn)[0] ?? dn;
  const eq = first.indexOf('=');
  return first.slice(eq + 1).trim();
}

/** Splits a DN at commas that are not escaped with a backslash. */
function splitDn(dn: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i]!;
    if (ch === '\\' && i + 1 < dn.length) {
      current += ch + dn[++i];
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.filter((p) => p.trim() !== '');
}
