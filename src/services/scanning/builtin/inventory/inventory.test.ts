import assert from 'node:assert/strict';
import { existsSync, readFileSync, createReadStream, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { goBinary, layerOf, rpmSqliteDb } from '../../../../../test/helpers/vulndb.js';
import { zipArchive } from '../../../../../test/helpers/zip.js';
import { goPackages, readGoBuildInfo } from './go-buildinfo.js';
import { inventoryImage } from './index.js';

const names = (pkgs: Array<{ kind: string; name: string; version: string }>) =>
  pkgs.map((p) => `${p.kind} ${p.name}@${p.version}`).sort();

const DPKG = `Package: libssl3
Status: install ok installed
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit
 a continuation line

Package: bash
Status: install ok installed
Source: bash (5.2.15-2)
Version: 5.2.15-2+b2

Package: removed-one
Status: deinstall ok config-files
Version: 1.0

Package: tzdata
Status: install ok installed
Version: 2024a-0+deb12u1
`;

describe('inventoryImage', () => {
  test('reads dpkg status with Source names and versions, skips packages not installed, and the OS', async () => {
    const inv = await inventoryImage([
      layerOf([
        { path: 'var/lib/dpkg/status', content: DPKG },
        {
          path: 'usr/lib/os-release',
          content: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
        },
      ]),
    ]);
    assert.equal(inv.os?.ecosystem, 'Debian:12');
    assert.deepEqual(names(inv.packages), [
      'os bash@5.2.15-2+b2',
      'os libssl3@3.0.11-1~deb12u2',
      'os tzdata@2024a-0+deb12u1',
    ]);
    const bash = inv.packages.find((p) => p.name === 'bash')!;
    assert.deepEqual(bash.source, { name: 'bash', version: '5.2.15-2' });
    assert.deepEqual(inv.packages.find((p) => p.name === 'libssl3')!.source, {
      name: 'openssl',
      version: '3.0.11-1~deb12u2',
    });
    assert.equal(bash.path, '/var/lib/dpkg/status');
  });

  test('distroless status.d, apk installed with origins, and Alpine ecosystem names', async () => {
    const inv = await inventoryImage([
      layerOf([
        { path: 'var/lib/dpkg/status.d/base-files', content: 'Package: base-files\nVersion: 12.4+deb12u5\n' },
        { path: 'var/lib/dpkg/status.d/base-files.md5sums', content: 'abc  etc/debian_version\n' },
        {
          path: 'lib/apk/db/installed',
          content: 'C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\no:openssl\n\nP:busybox\nV:1.36.1-r15\no:busybox\n',
        },
        { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\n' },
      ]),
    ]);
    assert.equal(inv.os?.ecosystem, 'Alpine:v3.19');
    assert.deepEqual(names(inv.packages), [
      'os base-files@12.4+deb12u5',
      'os busybox@1.36.1-r15',
      'os libcrypto3@3.1.4-r5',
    ]);
    assert.equal(inv.packages.find((p) => p.name === 'libcrypto3')!.source?.name, 'openssl');
  });

  test('whiteouts: a package file deleted or hidden by an opaque directory in a later layer is not reported', async () => {
    const inv = await inventoryImage([
      layerOf([
        { path: 'app/node_modules/lodash/package.json', content: '{"name":"lodash","version":"4.17.20"}' },
        { path: 'app/node_modules/minimist/package.json', content: '{"name":"minimist","version":"1.2.5"}' },
        {
          path: 'usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA',
          content: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n',
        },
        {
          path: 'opt/old/node_modules/left-pad/package.json',
          content: '{"name":"left-pad","version":"1.0.0"}',
        },
      ]),
      layerOf([
        { path: 'app/node_modules/.wh.lodash', content: '' },
        { path: 'usr/lib/python3/dist-packages/.wh.requests-2.25.0.dist-info', content: '' },
        { path: 'opt/old/.wh..wh..opq', content: '' },
        { path: 'opt/old/node_modules/is-odd/package.json', content: '{"name":"is-odd","version":"3.0.1"}' },
      ]),
      layerOf([
        { path: 'app/node_modules/minimist/package.json', content: '{"name":"minimist","version":"1.2.8"}' },
      ]),
    ]);
    assert.deepEqual(names(inv.packages), ['npm is-odd@3.0.1', 'npm minimist@1.2.8']);
  });

  test('npm lockfiles v1, v2/v3 and Python METADATA / PKG-INFO with PEP 503 names', async () => {
    const v3 = {
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0' },
        'node_modules/express': { version: '4.17.1' },
        'node_modules/express/node_modules/qs': { version: '6.7.0' },
        'node_modules/@scope/x': { version: '2.0.0' },
        'node_modules/linked': { link: true },
      },
    };
    const v1 = {
      lockfileVersion: 1,
      dependencies: {
        ws: { version: '7.4.5', dependencies: { ultron: { version: '1.1.1' } } },
        local: { version: 'file:../local' },
      },
    };
    const inv = await inventoryImage([
      layerOf([
        { path: 'srv/a/package-lock.json', content: JSON.stringify(v3) },
        { path: 'srv/b/package-lock.json', content: JSON.stringify(v1) },
        { path: 'srv/a/node_modules/some/package-lock.json', content: JSON.stringify(v1) },
        {
          path: 'usr/lib/python3.11/site-packages/PyYAML-5.3.1.dist-info/METADATA',
          content: 'Name: PyYAML\nVersion: 5.3.1\n\nName: body-not-header\n',
        },
        {
          path: 'usr/lib/python3.11/site-packages/Foo_Bar.egg-info/PKG-INFO',
          content: 'Metadata-Version: 1.0\nName: Foo_Bar\nVersion: 0.1\n',
        },
      ]),
    ]);
    assert.deepEqual(names(inv.packages), [
      'PyPI foo-bar@0.1',
      'PyPI pyyaml@5.3.1',
      'npm @scope/x@2.0.0',
      'npm express@4.17.1',
      'npm qs@6.7.0',
      'npm ultron@1.1.1',
      'npm ws@7.4.5',
    ]);
  });

  test('Maven pom.properties in a jar and in a jar nested in a Spring Boot jar', async () => {
    const pom = (g: string, a: string, v: string) =>
      `#Generated by Maven\ngroupId=${g}\nartifactId=${a}\nversion=${v}\n`;
    const inner = zipArchive([
      {
        path: 'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties',
        content: pom('org.apache.logging.log4j', 'log4j-core', '2.14.1'),
      },
    ]);
    const boot = zipArchive([
      { path: 'META-INF/maven/com.example/app/pom.properties', content: pom('com.example', 'app', '0.0.1') },
      { path: 'BOOT-INF/lib/log4j-core-2.14.1.jar', content: inner },
      { path: 'BOOT-INF/classes/App.class', content: 'not really a class' },
    ]);
    const inv = await inventoryImage([layerOf([{ path: 'app/app.jar', content: boot }])]);
    assert.deepEqual(names(inv.packages), [
      'Maven com.example:app@0.0.1',
      'Maven org.apache.logging.log4j:log4j-core@2.14.1',
    ]);
    assert.equal(inv.packages[1]!.path, '/app/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar');
  });

  test('Go module info from a binary: stdlib, main module and deps with replacements', async () => {
    const modinfo =
      'path\texample.com/cmd/app\nmod\texample.com/app\tv1.2.3\th1:x=\ndep\tgolang.org/x/net\tv0.17.0\th1:y=\ndep\tgithub.com/old/mod\tv1.0.0\n=>\tgithub.com/new/mod\tv1.1.0\th1:z=\nbuild\t-compiler=gc\n';
    const inv = await inventoryImage([
      layerOf([
        { path: 'usr/local/bin/app', content: goBinary('go1.21.3', modinfo), mode: 0o755 },
        { path: 'usr/local/bin/not-executable', content: goBinary('go1.20', modinfo), mode: 0o644 },
        { path: 'usr/local/bin/script', content: '#!/bin/sh\n'.padEnd(4000, '#'), mode: 0o755 },
      ]),
    ]);
    assert.deepEqual(names(inv.packages), [
      'Go example.com/app@v1.2.3',
      'Go github.com/new/mod@v1.1.0',
      'Go golang.org/x/net@v0.17.0',
      'Go stdlib@1.21.3',
    ]);
  });

  test(
    "reads this machine's skopeo (a real Go binary) as it streams",
    { skip: !existsSync('/usr/bin/skopeo') },
    async () => {
      const info = await readGoBuildInfo(createReadStream('/usr/bin/skopeo', { highWaterMark: 64 * 1024 }));
      // Debian builds it in GOPATH mode: a Go version and a main path, no module lines.
      assert.match(info?.goVersion ?? '', /^go1\.\d+/);
      assert.equal(info!.path, 'github.com/containers/skopeo/cmd/skopeo');
      const pkgs = goPackages(info!, { path: '/usr/bin/skopeo', layer: 'sha256:x' });
      assert.deepEqual(names(pkgs), [`Go stdlib@${info!.goVersion.slice(2)}`]);
    },
  );

  test('rpm sqlite database: name, epoch:version-release, gpg-pubkey left out; BerkeleyDB noted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpmdb-test-'));
    try {
      const file = join(dir, 'rpmdb.sqlite');
      rpmSqliteDb(file, [
        { 1000: 'openssl-libs', 1001: '3.0.7', 1002: '25.el9_3', 1003: 1 },
        { 1000: 'bash', 1001: '5.1.8', 1002: '6.el9_1' },
        { 1000: 'gpg-pubkey', 1001: 'fd431d51', 1002: '4ae0493b' },
      ]);
      const inv = await inventoryImage([
        layerOf([
          { path: 'var/lib/rpm/rpmdb.sqlite', content: readFileSync(file) },
          { path: 'etc/os-release', content: 'ID="rocky"\nVERSION_ID="9.3"\n' },
        ]),
        layerOf([{ path: 'var/lib/rpm/Packages', content: 'berkeley' }]),
      ]);
      assert.equal(inv.os?.ecosystem, 'Rocky Linux:9');
      assert.deepEqual(names(inv.packages), ['os bash@5.1.8-6.el9_1', 'os openssl-libs@1:3.0.7-25.el9_3']);
      assert.ok(inv.notes.some((n) => n.includes('BerkeleyDB')));
      assert.ok(statSync(file).size > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a zstd layer and an unreadable lock file are noted, not fatal', async () => {
    const inv = await inventoryImage([
      {
        digest: 'sha256:zz',
        mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
        open: () => Promise.reject(new Error('not opened')),
      },
      layerOf([
        { path: 'app/package-lock.json', content: '{not json' },
        { path: 'app/node_modules/ok/package.json', content: '{"name":"ok","version":"1.0.0"}' },
      ]),
    ]);
    assert.deepEqual(names(inv.packages), ['npm ok@1.0.0']);
    assert.equal(inv.notes.length, 2);
    assert.match(inv.notes[0]!, /zstd/);
    assert.match(inv.notes[1]!, /package-lock\.json/);
  });
});
