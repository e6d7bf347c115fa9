import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../../lib/errors.js';
import { parseImmutableRule, type ImmutableRuleInput } from './immutable-rule.js';
import { ImmutableTagMatcher, immutableTagError } from './immutable-tag-matcher.js';

const input = (repo: string, tag: string, repoDecoration = 'repoMatches', tagDecoration = 'matches') =>
  ({
    tag_selectors: [{ kind: 'doublestar', decoration: tagDecoration, pattern: tag }],
    scope_selectors: { repository: [{ kind: 'doublestar', decoration: repoDecoration, pattern: repo }] },
  }) satisfies ImmutableRuleInput;

test('doublestar selectors: * stays in a segment, ** spans them, {a,b} and classes; repository without project', () => {
  const m = new ImmutableTagMatcher([
    parseImmutableRule(input('team/*', 'v[0-9]*'), 1),
    parseImmutableRule(input('**/base', '{stable,lts}'), 1),
  ]);
  assert.equal(m.protects('p/team/app', 'v1.2'), true);
  assert.equal(m.protects('p/team/app/sub', 'v1.2'), false, '* does not cross /');
  assert.equal(m.protects('p/team/app', 'dev'), false);
  assert.equal(m.protects('p/a/b/base', 'lts'), true);
  assert.equal(m.protects('p/base', 'stable'), true, '**/ matches no segment too');
  assert.deepEqual(m.protectedTags('p/team/app', ['v1', 'latest', 'v2']), ['v1', 'v2']);
});

test('excludes select the complement; a disabled rule protects nothing', () => {
  const m = new ImmutableTagMatcher([
    parseImmutableRule(input('scratch/**', 'dev-*', 'repoExcludes', 'excludes'), 1),
    parseImmutableRule({ ...input('**', '**'), disabled: true }, 1),
  ]);
  assert.equal(m.protects('p/svc', 'prod'), true);
  assert.equal(m.protects('p/svc', 'dev-1'), false);
  assert.equal(m.protects('p/scratch/x', 'prod'), false);
  assert.equal(
    new ImmutableTagMatcher([parseImmutableRule({ ...input('**', '**'), disabled: true }, 1)]).empty,
    true,
  );
});

test('bad input is refused naming the field', () => {
  const refused = (body: ImmutableRuleInput, field: RegExp) =>
    assert.throws(
      () => parseImmutableRule(body, 1),
      (err: unknown) => err instanceof AppError && err.code === 'BAD_REQUEST' && field.test(err.message),
    );
  refused(input('**', '[v'), /^tag_selectors\[0\]\.pattern/);
  refused(input('{a', '**'), /^scope_selectors\.repository\[0\]\.pattern/);
  refused(input('**', 'v\\'), /tag_selectors\[0\]\.pattern .* unfinished escape/);
  refused(
    { ...input('**', '**'), tag_selectors: [{ kind: 'regex', decoration: 'matches', pattern: 'x' }] },
    /kind/,
  );
  refused({ ...input('**', '**'), project_id: 2 }, /^project_id/);
  refused({ ...input('**', '**'), template: 'always' }, /^template/);
});

test("refusals use Harbor's words, naming the repository without its project", () => {
  assert.equal(
    immutableTagError('push', 'p/team/app', 'v1').message,
    "Failed to process request due to 'team/app:v1' configured as immutable.",
  );
  assert.equal(
    immutableTagError('delete', 'p/app', 'v1').message,
    'the tag app:v1 configured as immutable, cannot be deleted',
  );
  assert.equal(immutableTagError('update', 'p/app', 'v1').code, 'PRECONDITION');
});
