import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeStatus, parseReportIds } from './summary.js';

test('report ids: a uuid is one id, base64 of "a|b" is two (Harbor merged index overviews)', () => {
  for (let i = 0; i < 200; i++) {
    const id = crypto.randomUUID();
    assert.deepEqual(parseReportIds(id), [id]);
  }
  assert.deepEqual(parseReportIds(Buffer.from('a-1|b-2').toString('base64')), ['a-1', 'b-2']);
});

test('merged scan status: Running, then Stopped, then Success win, as in Harbor', () => {
  assert.equal(mergeStatus('Success', 'Running'), 'Running');
  assert.equal(mergeStatus('Error', 'Stopped'), 'Stopped');
  assert.equal(mergeStatus('Error', 'Success'), 'Success');
  assert.equal(mergeStatus('Pending', 'Error'), 'Error');
});
