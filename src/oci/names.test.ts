import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertRepositoryName,
  assertTag,
  isRepositoryName,
  isTag,
  maxRepositoryNameLength,
  splitRepositoryName,
} from './names.js';

test('accepts repository names of the distribution grammar, nested paths included', () => {
  const good = [
    'library',
    'library/alpine',
    'a/b/c/d/e',
    'my-project/sub.dir/image_name',
    'a__b',
    'a---b',
    'x1/y2',
    '0',
  ];
  for (const name of good) assert.ok(isRepositoryName(name), name);
});

test('rejects names outside the grammar with NAME_INVALID', () => {
  const bad = [
    '',
    'Library/alpine',
    'library/Alpine',
    '../etc',
    'a/../b',
    'a/./b',
    'a/..',
    '/a',
    'a/',
    'a//b',
    '-a',
    'a-',
    'a.',
    '.a',
    'a___b',
    'a_.b',
    'a b',
    'a:b',
    'a@b',
    'a\\b',
    'a\0b',
  ];
  for (const name of bad) {
    assert.equal(isRepositoryName(name), false, JSON.stringify(name));
    assert.throws(() => assertRepositoryName(name), { code: 'NAME_INVALID' }, JSON.stringify(name));
  }
});

test(`limits repository names to ${maxRepositoryNameLength} characters`, () => {
  const segment = 'a'.repeat(50);
  const atLimit = [segment, segment, segment, segment, segment.slice(0, 50)].join('/').padEnd(255, 'b');
  assert.equal(atLimit.length, 255);
  assert.ok(isRepositoryName(atLimit));
  assert.equal(isRepositoryName(atLimit + 'b'), false);
  assert.throws(() => assertRepositoryName('a'.repeat(256)), { code: 'NAME_INVALID' });
});

test('accepts tags of up to 128 characters starting with a word character', () => {
  for (const tag of ['latest', 'v1.2.3', '1.0-rc.1', '_x', 'A_b-C.d', 'a'.repeat(128)]) {
    assert.ok(isTag(tag), tag);
  }
});

test('rejects malformed tags with TAG_INVALID', () => {
  for (const tag of ['', '.hidden', '-x', 'a/b', 'a:b', 'a b', 'sha256:' + 'a'.repeat(64), 'a'.repeat(129)]) {
    assert.equal(isTag(tag), false, tag);
    assert.throws(() => assertTag(tag), { code: 'TAG_INVALID' }, tag);
  }
});

test('the project is the first path segment', () => {
  assert.deepEqual(splitRepositoryName('library'), { project: 'library', rest: '' });
  assert.deepEqual(splitRepositoryName('team/app/web'), { project: 'team', rest: 'app/web' });
});
