import cvss from 'ae-cvss-calculator';
import type { OsvAffected, OsvRecord } from './osv.js';
import { fromScore, type CvssScores, type Severity } from './severity.js';

// Apart from severity.ts, which the scan API and pull policy load at start: the CVSS calculator is only
// needed by the built-in engine and the vulnerability database import.

export interface RatedSeverity {
  severity: Severity;
  cvss: CvssScores;
}

/**
 * A record's severity: from its CVSS vectors (the newest CVSS version present wins: v4, then v3.x, then
 * v2; the base score maps by the CVSS rating scale: 0 None, 0.1-3.9 Low, 4-6.9 Medium, 7-8.9 High,
 * 9-10 Critical), else from `database_specific.severity` (GHSA's LOW/MODERATE/HIGH/CRITICAL and alike),
 * else from Debian's urgency (`ecosystem_specific.urgency` or `database_specific.urgency`), else Unknown.
 * Vectors on the affected entry come before the record's own.
 */
export function rateSeverity(record: OsvRecord, entry?: OsvAffected): RatedSeverity {
  const scores: CvssScores = {};
  for (const s of [...(entry?.severity ?? []), ...(record.severity ?? [])]) {
    const rated = scoreVector(s.type, s.score);
    if (rated && !scores[rated.version]) scores[rated.version] = { vector: s.score, score: rated.score };
  }
  const best = scores.v4 ?? scores.v3 ?? scores.v2;
  if (best) return { severity: fromScore(best.score), cvss: scores };
  const words = [
    entry?.database_specific?.['severity'],
    record.database_specific?.['severity'],
    entry?.ecosystem_specific?.['severity'],
    entry?.ecosystem_specific?.['urgency'],
    entry?.database_specific?.['urgency'],
    record.database_specific?.['urgency'],
  ];
  for (const w of words) {
    const s = typeof w === 'string' ? fromWord(w) : undefined;
    if (s) return { severity: s, cvss: scores };
  }
  return { severity: 'Unknown', cvss: scores };
}

/** Vendor words: GHSA, Debian urgencies (low/medium/high, "unimportant" as Low), Alpine, Ubuntu priorities. */
function fromWord(word: string): Severity | undefined {
  const w = word.trim().toLowerCase().replace(/\*+$/, '');
  if (w === 'critical') return 'Critical';
  if (w === 'high' || w === 'important') return 'High';
  if (w === 'moderate' || w === 'medium') return 'Medium';
  if (w === 'low' || w === 'unimportant' || w === 'negligible') return 'Low';
  if (w === 'none') return 'None';
  return undefined;
}

const cache = new Map<string, { version: keyof CvssScores; score: number } | null>();

/** A CVSS vector's base score, by its version; undefined when it is not a vector we can score. */
export function scoreVector(
  type: string,
  vector: string,
): { version: keyof CvssScores; score: number } | undefined {
  const key = `${type} ${vector}`;
  const known = cache.get(key);
  if (known !== undefined) return known ?? undefined;
  let result: { version: keyof CvssScores; score: number } | null = null;
  try {
    if (vector.startsWith('CVSS:4.0/')) result = { version: 'v4', score: base(new cvss.Cvss4P0(vector)) };
    else if (vector.startsWith('CVSS:3.1/'))
      result = { version: 'v3', score: base(new cvss.Cvss3P1(vector)) };
    else if (vector.startsWith('CVSS:3.0/'))
      result = { version: 'v3', score: base(new cvss.Cvss3P0(vector)) };
    else if (type === 'CVSS_V2' && /^AV:[LAN]\//.test(vector))
      result = { version: 'v2', score: base(new cvss.Cvss2(vector)) };
  } catch {
    result = null;
  }
  if (result && !Number.isFinite(result.score)) result = null;
  if (cache.size > 50_000) cache.clear();
  cache.set(key, result);
  return result ?? undefined;
}

function base(v: { calculateScores(): { base?: number; overall: number } }): number {
  const s = v.calculateScores();
  return s.base ?? s.overall;
}
