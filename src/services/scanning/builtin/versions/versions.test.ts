import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareApk } from './apk.js';
import { compareDpkg } from './dpkg.js';
import { compareRpm, compareSemver, versionOrder, type VersionCompare } from './index.js';
import { compareMaven } from './maven.js';
import { comparePep440 } from './pep440.js';

/** Each row: a < b (so also b > a), or a = b when written with '='. */
function table(name: string, compare: VersionCompare, rows: Array<[string, '<' | '=', string]>) {
  describe(name, () => {
    for (const [a, op, b] of rows)
      test(`${a} ${op} ${b}`, () => {
        const want = op === '<' ? -1 : 0;
        assert.equal(Math.sign(compare(a, b)), want, `${a} vs ${b}`);
        assert.equal(Math.sign(compare(b, a)), -want || 0, `${b} vs ${a}`);
      });
  });
}

// Debian Policy 5.6.12 and dpkg's own test cases.
table('dpkg', compareDpkg, [
  ['1.0', '<', '1.1'],
  ['1.0', '=', '1.0-0'],
  ['1.0', '=', '0:1.0'],
  ['2.0', '<', '1:0.9'],
  ['1.0~rc1', '<', '1.0'],
  ['1.0~~', '<', '1.0~'],
  ['1.0~', '<', '1.0'],
  ['1.0', '<', '1.0a'],
  ['1.0a', '<', '1.0+'],
  ['1.0', '<', '1.0.1'],
  ['1.0-1', '<', '1.0-2'],
  ['1.0-1', '<', '1.0-1+deb12u1'],
  ['1.0-1+deb12u1', '<', '1.0-1+deb12u2'],
  ['2.36-9+deb12u4', '<', '2.36-9+deb12u10'],
  ['7.88.1-10+deb12u5', '<', '7.88.1-10+deb12u8'],
  ['3.0.11-1~deb12u2', '<', '3.0.11-1'],
  ['1.2.3-1', '=', '1.2.3-01'],
  ['0010', '=', '10'],
  ['1:1.2.13.dfsg-1', '<', '2:1.0'],
  ['a', '<', 'b'],
  ['1.0-1~bpo12+1', '<', '1.0-1'],
]);

table('semver (npm, Go)', compareSemver, [
  ['1.0.0', '<', '2.0.0'],
  ['1.0.0-alpha', '<', '1.0.0-alpha.1'],
  ['1.0.0-alpha.1', '<', '1.0.0-alpha.beta'],
  ['1.0.0-alpha.beta', '<', '1.0.0-beta'],
  ['1.0.0-beta.2', '<', '1.0.0-beta.11'],
  ['1.0.0-rc.1', '<', '1.0.0'],
  ['1.0.0+build.1', '=', '1.0.0+build.2'],
  ['v1.2.3', '=', '1.2.3'],
  ['v2.0.0+incompatible', '=', '2.0.0'],
  ['v0.0.0-20210101000000-abcdefabcdef', '<', 'v0.0.1'],
  ['0.17.0', '<', '0.23.0'],
  ['not-a-version', '<', '0.0.1'],
]);

// PEP 440's examples of ordering, including its normalisations.
table('PEP 440', comparePep440, [
  ['1.0.dev456', '<', '1.0a1'],
  ['1.0a1', '<', '1.0a2.dev456'],
  ['1.0a2.dev456', '<', '1.0a12.dev456'],
  ['1.0a12.dev456', '<', '1.0a12'],
  ['1.0a12', '<', '1.0b1.dev456'],
  ['1.0b1.dev456', '<', '1.0b2'],
  ['1.0b2', '<', '1.0b2.post345.dev456'],
  ['1.0b2.post345.dev456', '<', '1.0b2.post345'],
  ['1.0b2.post345', '<', '1.0rc1.dev456'],
  ['1.0rc1.dev456', '<', '1.0rc1'],
  ['1.0rc1', '<', '1.0'],
  ['1.0', '<', '1.0+abc.5'],
  ['1.0+abc.5', '<', '1.0+abc.7'],
  ['1.0+abc.7', '<', '1.0+5'],
  ['1.0+5', '<', '1.0.post456.dev34'],
  ['1.0.post456.dev34', '<', '1.0.post456'],
  ['1.0.post456', '<', '1.1.dev1'],
  ['2.0', '<', '1!0.1'],
  ['1.0', '=', '1.0.0'],
  ['1.0alpha1', '=', '1.0a1'],
  ['1.0-c1', '=', '1.0rc1'],
  ['1.0-1', '=', '1.0.post1'],
  ['1.0.rev2', '=', '1.0.post2'],
  ['v1.0', '=', '1.0'],
  ['2.31.0', '<', '2.32.0'],
]);

table('apk', compareApk, [
  ['1.0', '<', '1.1'],
  ['1.0_rc1', '<', '1.0'],
  ['1.0_alpha', '<', '1.0_beta'],
  ['1.0_beta', '<', '1.0_pre'],
  ['1.0_pre', '<', '1.0_rc'],
  ['1.0', '<', '1.0_p1'],
  ['1.0', '<', '1.0-r1'],
  ['1.0-r1', '<', '1.0-r10'],
  ['1.0_rc1', '<', '1.0-r1'],
  ['1.0', '<', '1.0a'],
  ['1.0a', '<', '1.0b'],
  ['1.2.3-r0', '<', '1.2.4-r0'],
  ['3.1.4-r5', '<', '3.1.4-r6'],
  ['1.01', '<', '1.1'],
  ['1.36.1-r15', '<', '1.36.1-r19'],
  ['2.4.58-r0', '=', '2.4.58-r0'],
]);

// Maven's ComparableVersion test suite, abridged.
table('Maven', compareMaven, [
  ['1', '=', '1.0'],
  ['1', '=', '1.0.0'],
  ['1', '=', '1-ga'],
  ['1', '=', '1-final'],
  ['1.0-alpha-1', '=', '1.0-a1'],
  ['1-alpha', '<', '1-beta'],
  ['1-beta', '<', '1-milestone'],
  ['1-milestone', '<', '1-rc'],
  ['1-rc', '=', '1-cr'],
  ['1-rc', '<', '1-snapshot'],
  ['1-snapshot', '<', '1'],
  ['1', '<', '1-sp'],
  ['1-sp', '<', '1-abc'],
  ['1', '<', '1.1'],
  ['1.1', '<', '1.2'],
  ['1.9', '<', '1.10'],
  ['2.12.6', '<', '2.12.7.1'],
  ['2.9.10.8', '<', '2.13.0'],
  ['2.17.0', '<', '2.17.1'],
  ['1.0-SNAPSHOT', '<', '1.0'],
  ['5.3.18.RELEASE', '<', '5.3.20'],
]);

table('rpm', compareRpm, [
  ['1.0-1', '<', '1.0-2'],
  ['1.0-1.el9', '<', '1.0-1.el9_2'],
  ['2.0-1', '<', '1:0.5-1'],
  ['1.0~rc1-1', '<', '1.0-1'],
  ['1.0-1', '<', '1.0^git1-1'],
  ['1.0a', '<', '1.0.1'],
  ['2.28-225.el9', '<', '2.28-236.el9'],
]);

test('versionOrder maps OSV ecosystems to their ordering', () => {
  assert.equal(versionOrder('Debian:12'), compareDpkg);
  assert.equal(versionOrder('Alpine:v3.19'), compareApk);
  assert.equal(versionOrder('PyPI'), comparePep440);
  assert.equal(versionOrder('Go'), compareSemver);
  assert.equal(versionOrder('npm'), compareSemver);
  assert.equal(versionOrder('Maven'), compareMaven);
  assert.equal(versionOrder('Rocky Linux:9'), compareRpm);
  assert.equal(versionOrder('Unknown-Ecosystem'), undefined);
});
