import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../lib/errors.js';
import { linkHeader, parseListQuery, parseQ, parseSort, type ListFields } from './list-query.js';

const spec: ListFields = {
  name: { type: 'string' },
  id: { type: 'int' },
  public: { type: 'bool', sort: false },
  creation_time: { type: 'time' },
  labels: { type: 'int', sort: false },
  pull_count: { type: 'int', filter: false },
};

function badRequest(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, 'BAD_REQUEST');
    assert.match(err.message, pattern);
    return true;
  });
}

test('parses each form of Harbor q: exact, fuzzy, range, any-of, all-of', () => {
  assert.deepEqual(parseQ('name=library,id=~3'), {
    name: { kind: 'exact', value: 'library' },
    id: { kind: 'fuzzy', value: '3' },
  });
  assert.deepEqual(parseQ('creation_time=[2020-01-01T00:00:00~2021-01-01T00:00:00]'), {
    creation_time: { kind: 'range', min: '2020-01-01T00:00:00', max: '2021-01-01T00:00:00' },
  });
  assert.deepEqual(parseQ('id=[~10]'), { id: { kind: 'range', max: '10' } });
  assert.deepEqual(parseQ('id=[5~]'), { id: { kind: 'range', min: '5' } });
  assert.deepEqual(parseQ('name={a b  c}'), { name: { kind: 'or', values: ['a', 'b', 'c'] } });
  assert.deepEqual(parseQ('labels=(1 2)'), { labels: { kind: 'and', values: ['1', '2'] } });
  assert.deepEqual(parseQ('name="x,y"'), { name: { kind: 'exact', value: 'x,y' } });
  assert.deepEqual(parseQ(''), {});
});

test('accepts q encoded twice, as Harbor unescapes it once more', () => {
  assert.deepEqual(parseQ('name%3D~dev%2Cid%3D1'), {
    name: { kind: 'fuzzy', value: 'dev' },
    id: { kind: 'exact', value: '1' },
  });
});

test('rejects q syntax errors with BAD_REQUEST naming the problem', () => {
  badRequest(() => parseQ('name'), /key=value/);
  badRequest(() => parseQ('=x'), /key=value/);
  badRequest(() => parseQ('name='), /key=value/);
  badRequest(() => parseQ('name=[a'), /unclosed|missing/);
  badRequest(() => parseQ('name=a]'), /unbalanced/);
  badRequest(() => parseQ('id=[1-2]'), /range/);
  badRequest(() => parseQ('id=[~]'), /both empty/);
  badRequest(() => parseQ('name={}'), /no values/);
  badRequest(() => parseQ('name=~'), /nothing after/);
  badRequest(() => parseQ('name="abc'), /quote/);
  badRequest(() => parseQ('na me=x'), /invalid query key/);
  badRequest(() => parseQ('name=a,name=b'), /twice/);
});

test('checks keys and value types against the list it is for', () => {
  badRequest(() => parseListQuery({ q: 'owner=x' }, spec), /filtering by "owner" is not supported/);
  badRequest(() => parseListQuery({ q: 'id=abc' }, spec), /integer/);
  badRequest(() => parseListQuery({ q: 'public=maybe' }, spec), /true or false/);
  badRequest(() => parseListQuery({ q: 'id=~1' }, spec), /fuzzy/);
  badRequest(() => parseListQuery({ q: 'name=[a~b]' }, spec), /range/);
  badRequest(() => parseListQuery({ q: 'creation_time=[yesterday~]' }, spec), /time/);
  assert.deepEqual(parseListQuery({ sort: 'public' }, spec).sorts, [], 'a filter-only key is not a sort key');
  badRequest(() => parseListQuery({ q: 'pull_count=1' }, spec), /filtering by "pull_count"/);
  assert.deepEqual(parseListQuery({ sort: '-pull_count' }, spec).sorts, [{ key: 'pull_count', desc: true }]);
  const ok = parseListQuery(
    { q: 'name=~a,id={1 2},public=true', sort: '-name,id', page: 2, page_size: 5 },
    spec,
  );
  assert.equal(ok.page, 2);
  assert.equal(ok.pageSize, 5);
  assert.deepEqual(ok.sorts, [
    { key: 'name', desc: true },
    { key: 'id', desc: false },
  ]);
});

test('page defaults to 1 and page_size to 10, at most 100', () => {
  const q = parseListQuery({}, spec);
  assert.equal(q.page, 1);
  assert.equal(q.pageSize, 10);
  badRequest(() => parseListQuery({ page_size: 101 }, spec), /page_size/);
  badRequest(() => parseListQuery({ page_size: 0 }, spec), /page_size/);
  badRequest(() => parseListQuery({ page: 0 }, spec), /page/);
});

test('sort parses -name,id; keys the list cannot sort by are ignored, as Harbor ignores them', () => {
  assert.deepEqual(parseSort(' -name , id ,'), [
    { key: 'name', desc: true },
    { key: 'id', desc: false },
  ]);
  assert.deepEqual(parseListQuery({ sort: 'size' }, spec).sorts, []);
  assert.deepEqual(parseListQuery({ sort: 'name;drop,-id,-size' }, spec).sorts, [{ key: 'id', desc: true }]);
});

test('Link carries prev and next with page and page_size, relative to the request', () => {
  assert.equal(linkHeader('/api/v2.0/projects?q=name%3D~a', 5, 1, 10), '');
  assert.equal(
    linkHeader('/api/v2.0/projects?page=2&page_size=10', 35, 2, 10),
    '</api/v2.0/projects?page=1&page_size=10>; rel="prev" , </api/v2.0/projects?page=3&page_size=10>; rel="next"',
  );
  assert.equal(
    linkHeader('/api/v2.0/projects', 25, 1, 10),
    '</api/v2.0/projects?page=2&page_size=10>; rel="next"',
  );
});
