import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContentBoundError, jsonDepth, parseBoundedJson, tryParseJsonObject } from './bounded-json.js';

const deep = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));

test('depth counts arrays and objects outside strings only', () => {
  assert.equal(jsonDepth(Buffer.from('1')), 0);
  assert.equal(jsonDepth(Buffer.from('{"a":[1,{"b":[]}]}')), 4);
  assert.equal(jsonDepth(Buffer.from('{"a":"[[[[{{{{","b":"\\"[["}')), 1);
  assert.equal(jsonDepth(Buffer.from('{"é[":"ü{"}')), 1);
  assert.equal(jsonDepth(deep(100_000), 64), 65, 'stops once past the limit');
});

test('a document nested 100,000 deep is refused before JSON.parse, by depth', () => {
  assert.throws(
    () => parseBoundedJson(deep(100_000)),
    (err: unknown) => err instanceof ContentBoundError && err.bound === 'depth',
  );
  assert.deepEqual(parseBoundedJson(deep(64)) instanceof Array, true);
});

test('size and syntax are bounds too; tryParseJsonObject answers undefined for all three', () => {
  assert.throws(
    () => parseBoundedJson('{"a":"bbbb"}', { maxBytes: 5 }),
    (err: unknown) => err instanceof ContentBoundError && err.bound === 'size',
  );
  assert.throws(
    () => parseBoundedJson('{"a":'),
    (err: unknown) => err instanceof ContentBoundError && err.bound === 'syntax',
  );
  assert.equal(tryParseJsonObject(deep(1000)), undefined);
  assert.equal(tryParseJsonObject('[1]'), undefined);
  assert.equal(tryParseJsonObject('{"a":'), undefined);
  assert.deepEqual(tryParseJsonObject('{"a":1}'), { a: 1 });
});
