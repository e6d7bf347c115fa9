import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { affects, type OsvAffected } from './osv.js';
import { rateSeverity } from './severity-rating.js';
import { compareDpkg } from './versions/dpkg.js';
import { compareSemver } from './versions/index.js';

describe('OSV range evaluation', () => {
  const entry: OsvAffected = {
    ranges: [
      {
        type: 'SEMVER',
        events: [{ introduced: '1.0.0' }, { fixed: '1.2.0' }, { introduced: '2.0.0' }, { fixed: '2.0.5' }],
      },
      { type: 'ECOSYSTEM', events: [{ introduced: '3.0.0' }, { last_affected: '3.1.0' }] },
      { type: 'GIT', events: [{ introduced: '0' }, { fixed: 'abcdef' }] },
    ],
    versions: ['0.9.9-special'],
  };
  const cases: Array<[string, string | undefined]> = [
    ['0.9.0', undefined],
    ['0.9.9-special', ''],
    ['1.0.0', '1.2.0'],
    ['1.1.9', '1.2.0'],
    ['1.2.0', undefined],
    ['1.9.0', undefined],
    ['2.0.0-rc.1', undefined],
    ['2.0.4', '2.0.5'],
    ['2.0.5', undefined],
    ['3.1.0', ''],
    ['3.1.1', undefined],
  ];
  for (const [version, fix] of cases)
    test(`${version} → ${fix === undefined ? 'not affected' : `affected, fix '${fix}'`}`, () => {
      assert.deepEqual(
        affects(entry, version, compareSemver),
        fix === undefined ? undefined : { fixVersion: fix },
      );
    });

  test('"0" is below every version and a limit closes the range', () => {
    const limited = { ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { limit: '1:1.0-1' }] }] };
    assert.deepEqual(affects(limited, '0.1-1', compareDpkg), { fixVersion: '' });
    assert.equal(affects(limited, '1:1.0-1', compareDpkg), undefined);
    assert.equal(affects(limited, '1:1.0-1~', compareDpkg)?.fixVersion, '');
  });
});

describe('severity', () => {
  const v31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
  const v4 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N';
  const rows: Array<[string, Parameters<typeof rateSeverity>[0], string]> = [
    ['CVSS v3.1 9.8', { id: 'a', severity: [{ type: 'CVSS_V3', score: v31 }] }, 'Critical'],
    [
      'CVSS v4 beats v3',
      {
        id: 'b',
        severity: [
          { type: 'CVSS_V3', score: v31 },
          { type: 'CVSS_V4', score: v4 },
        ],
      },
      'Medium',
    ],
    [
      'CVSS v3.0 4.3',
      { id: 'c', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:N' }] },
      'Medium',
    ],
    [
      'CVSS v2 7.5',
      { id: 'd', severity: [{ type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' }] },
      'High',
    ],
    [
      'CVSS 0',
      { id: 'e', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N' }] },
      'None',
    ],
    ['GHSA MODERATE', { id: 'f', database_specific: { severity: 'MODERATE' } }, 'Medium'],
    [
      'a bad vector falls back to the word',
      {
        id: 'g',
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/garbage' }],
        database_specific: { severity: 'LOW' },
      },
      'Low',
    ],
    ['nothing', { id: 'h' }, 'Unknown'],
  ];
  for (const [name, record, want] of rows)
    test(`${name} → ${want}`, () => assert.equal(rateSeverity(record).severity, want));
  test("Debian's urgency on the affected entry; unimportant is Low, not yet assigned is Unknown", () => {
    assert.equal(rateSeverity({ id: 'x' }, { ecosystem_specific: { urgency: 'high' } }).severity, 'High');
    assert.equal(
      rateSeverity({ id: 'x' }, { ecosystem_specific: { urgency: 'unimportant' } }).severity,
      'Low',
    );
    assert.equal(
      rateSeverity({ id: 'x' }, { ecosystem_specific: { urgency: 'not yet assigned' } }).severity,
      'Unknown',
    );
    assert.deepEqual(rateSeverity({ id: 'x', severity: [{ type: 'CVSS_V3', score: v31 }] }).cvss, {
      v3: { vector: v31, score: 9.8 },
    });
  });
});
