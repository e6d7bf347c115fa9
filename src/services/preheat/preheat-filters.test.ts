import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../lib/errors.js';
import { applyFilters, parseFilters, unscannedSeverity, type PreheatCandidate } from './preheat-filters.js';

const candidate = (c: Partial<PreheatCandidate>): PreheatCandidate => ({
  repository: 'app',
  digest: 'sha256:a',
  tag: 'v1',
  labels: [],
  severity: 0,
  signed: false,
  kind: 'image',
  ...c,
});

test('filters keep what every one of them selects, in Harbor order', () => {
  const all = [
    candidate({ repository: 'team/app', tag: 'v1', labels: ['hot', 'prod'], severity: 2 }),
    candidate({ repository: 'team/app', tag: 'latest', labels: ['hot', 'prod'], severity: 2 }),
    candidate({ repository: 'team/db', tag: 'v1', labels: ['hot'], severity: 2 }),
    candidate({ repository: 'app', tag: 'v2', labels: ['hot', 'prod'], severity: 4 }),
    candidate({ repository: 'app', tag: 'v3', labels: ['hot', 'prod'], severity: unscannedSeverity }),
  ];
  const filters = parseFilters(
    JSON.stringify([
      { type: 'vulnerability', value: 4 },
      { type: 'label', value: 'hot,prod' },
      { type: 'tag', value: 'v*' },
      { type: 'repository', value: '{team/**,app}' },
    ]),
  );
  assert.deepEqual(
    applyFilters(filters, all).map((c) => `${c.repository}:${c.tag}`),
    ['team/app:v1'],
    'latest fails the tag, db the labels, v2 (High) and v3 (not scanned) the severity',
  );
  assert.equal(applyFilters(parseFilters('[{"type":"signature","value":true}]'), all).length, 0);
  assert.equal(applyFilters([], all).length, all.length);
});

test('a filter of an unknown type, without a value or with a value of the wrong type is refused', () => {
  for (const bad of [
    '[{"type":"size","value":1}]',
    '[{"type":"tag"}]',
    '[{"type":"tag","value":3}]',
    '[{"type":"vulnerability","value":"High"}]',
    '{"type":"tag"}',
    'not json',
  ])
    assert.throws(
      () => parseFilters(bad),
      (e: unknown) => e instanceof AppError && e.code === 'BAD_REQUEST',
      bad,
    );
});
