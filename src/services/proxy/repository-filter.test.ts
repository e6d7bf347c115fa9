import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterProblem, repositoryFilter } from './repository-filter.js';

describe("proxy cache repository filter (Harbor's proxy_cache_filter_pattern/_kind)", () => {
  test('doublestar (also the empty kind): * within a segment, ** across, {a,b} and classes', () => {
    const m = repositoryFilter('library/*', 'doublestar')!;
    assert.equal(m('library/nginx'), true);
    assert.equal(m('library/team/nginx'), false);
    assert.equal(m('bitnami/nginx'), false);
    const deep = repositoryFilter('{library,bitnami}/**', '')!;
    assert.equal(deep('bitnami/charts/redis'), true);
    assert.equal(deep('other/redis'), false);
  });

  test('regex matches the whole name, as Harbor anchors it', () => {
    const m = repositoryFilter('team/(app|other)', 'regex')!;
    assert.equal(m('team/app'), true);
    assert.equal(m('team/app2'), false);
    assert.equal(m('x/team/app'), false);
  });

  test('an empty pattern allows all; an invalid stored one matches nothing', () => {
    assert.equal(repositoryFilter('  ', 'regex'), undefined);
    assert.equal(repositoryFilter(undefined, undefined), undefined);
    assert.equal(repositoryFilter('team/(', 'regex')!('team/('), false);
    assert.match(filterProblem('team/(', 'regex')!, /Invalid regular expression/);
    assert.equal(filterProblem('team/[', 'doublestar') !== undefined, true);
    assert.equal(filterProblem('x', 'glob'), 'unsupported repository filter kind "glob"');
    assert.equal(filterProblem('team/**', ''), undefined);
  });
});
