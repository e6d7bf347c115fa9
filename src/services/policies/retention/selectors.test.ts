import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Selector } from './policy.js';
import { repositorySelected, tagSelected } from './selectors.js';

const tags = (decoration: string, pattern: string, untagged?: boolean): Selector => ({
  kind: 'doublestar',
  decoration,
  pattern,
  ...(untagged === undefined ? {} : { extras: JSON.stringify({ untagged }) }),
});

describe('retention selectors', () => {
  it('matches: any tag matching chooses the artifact; untagged ones are chosen unless untagged is false', () => {
    assert.equal(tagSelected(tags('matches', 'v*'), ['latest', 'v1']), true);
    assert.equal(tagSelected(tags('matches', 'v*'), ['latest']), false);
    assert.equal(tagSelected(tags('matches', 'v*'), []), true);
    assert.equal(tagSelected(tags('matches', 'v*', false), []), false);
  });

  it('excludes: any tag not matching chooses the artifact; untagged ones are chosen unless untagged is true', () => {
    assert.equal(tagSelected(tags('excludes', 'dev-*'), ['dev-1']), false);
    assert.equal(tagSelected(tags('excludes', 'dev-*'), ['dev-1', 'prod']), true);
    assert.equal(tagSelected(tags('excludes', 'dev-*'), []), true);
    assert.equal(tagSelected(tags('excludes', '**', false), []), true);
    assert.equal(tagSelected(tags('excludes', '**', true), []), false);
  });

  it('repository selectors see the name without the project, and all must choose it', () => {
    const m = (decoration: string, pattern: string): Selector => ({
      kind: 'doublestar',
      decoration,
      pattern,
    });
    assert.equal(repositorySelected([m('repoMatches', 'app/*')], 'lib/app/web'), true);
    assert.equal(repositorySelected([m('repoMatches', 'lib/**')], 'lib/app'), false);
    assert.equal(repositorySelected([m('repoMatches', '**'), m('repoExcludes', 'tmp*')], 'p/tmp1'), false);
    assert.equal(repositorySelected([], 'p/x'), true);
  });
});
