import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilters, destinationRepository } from './filters.js';

test('name filter: doublestar globs with braces', () => {
  const f = compileFilters([{ type: 'name', value: 'library/**' }]);
  assert.equal(f.repository('library/app'), true);
  assert.equal(f.repository('library/team/app'), true);
  assert.equal(f.repository('other/app'), false);
  const one = compileFilters([{ type: 'name', value: 'library/*' }]);
  assert.equal(one.repository('library/team/app'), false, '* stays within one path component');
  const braces = compileFilters([{ type: 'name', value: '{dev,prod}/**' }]);
  assert.deepEqual(['dev/a', 'prod/b/c', 'test/a'].map(braces.repository), [true, true, false]);
});

test('tag filter: matches keeps the matching tags, excludes the others', () => {
  const a = { tags: ['v1.0', 'v1.1', 'latest'] };
  assert.deepEqual(compileFilters([{ type: 'tag', value: 'v1.*' }]).tags(a), ['v1.0', 'v1.1']);
  assert.deepEqual(compileFilters([{ type: 'tag', value: 'v1.*', decoration: 'excludes' }]).tags(a), [
    'latest',
  ]);
  assert.equal(compileFilters([{ type: 'tag', value: 'v2*' }]).tags(a), null);
  assert.equal(compileFilters([{ type: 'tag', value: 'v*' }]).tags({ tags: [] }), null);
  assert.equal(compileFilters([]).tags({ tags: [] }), 'untagged');
  assert.deepEqual(compileFilters([{ type: 'tag', value: '' }]).tags(a), a.tags, 'empty = no filter');
});

test('label filter: matches needs every label, excludes refuses any', () => {
  const m = compileFilters([{ type: 'label', value: ['prod', 'signed'] }]);
  assert.deepEqual(m.tags({ tags: ['1'], labels: ['prod', 'signed', 'x'] }), ['1']);
  assert.equal(m.tags({ tags: ['1'], labels: ['prod'] }), null);
  const x = compileFilters([{ type: 'label', value: ['wip'], decoration: 'excludes' }]);
  assert.equal(x.tags({ tags: ['1'], labels: ['wip'] }), null);
  assert.deepEqual(x.tags({ tags: ['1'] }), ['1']);
});

test('resource filter: image skips non-image artifacts; an unknown type is refused', () => {
  const f = compileFilters([{ type: 'resource', value: 'image' }]);
  assert.equal(f.tags({ tags: ['1'], mediaType: 'application/vnd.cncf.helm.config.v1+json' }), null);
  assert.deepEqual(f.tags({ tags: ['1'], mediaType: 'application/vnd.oci.image.manifest.v1+json' }), ['1']);
  assert.throws(() => compileFilters([{ type: 'resource', value: 'vm' }]), /unknown resource type "vm"/);
});

test("destination naming follows Harbor's flattening levels", () => {
  const src = 'a/b/c/app';
  assert.equal(destinationRepository(src, '', -1), src, 'no namespace: unchanged');
  assert.equal(destinationRepository(src, 'mirror', -1), 'mirror/app', 'flatten all levels');
  assert.equal(destinationRepository(src, 'mirror', 0), 'mirror/a/b/c/app', 'no flattening');
  assert.equal(destinationRepository(src, 'mirror', 1), 'mirror/b/c/app');
  assert.equal(destinationRepository(src, 'mirror', 2), 'mirror/c/app');
  assert.equal(destinationRepository(src, 'mirror/x', 3), 'mirror/x/app');
  assert.throws(() => destinationRepository('a/app', 'm', 2), /has only 1 path component\(s\)/);
});
