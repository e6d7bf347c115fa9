import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { runDriverConformance } from './driver.conformance.js';
import { AppError } from '../lib/errors.js';
import { PathNotFoundError, type StorageDriver } from './driver.js';
import { InstrumentedDriver } from './instrument.js';
import { MemoryDriver } from './memory.js';

function histogram(registry = new Registry()) {
  return new Histogram({
    name: 'berth_storage_operation_seconds',
    help: 'storage operation duration',
    labelNames: ['driver', 'operation'],
    registers: [registry],
  });
}

runDriverConformance('instrumented memory', () => new InstrumentedDriver(new MemoryDriver(), histogram()));

test('every call is timed, labelled by driver and operation', async () => {
  const registry = new Registry();
  const d = new InstrumentedDriver(new MemoryDriver(), histogram(registry));
  await d.putContent('a', Buffer.from('x'));
  await d.getContent('a');
  await d.stat('missing').catch(() => undefined);
  const text = await registry.metrics();
  assert.match(text, /berth_storage_operation_seconds_count\{driver="memory",operation="put_content"\} 1/);
  assert.match(text, /berth_storage_operation_seconds_count\{driver="memory",operation="get_content"\} 1/);
  assert.match(text, /berth_storage_operation_seconds_count\{driver="memory",operation="stat"\} 1/);
});

test('a backend out of reach is UNAVAILABLE (503 with Retry-After); a missing path stays PathNotFound', async () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });
  const s3Busy = Object.assign(new Error('Please reduce your request rate.'), {
    name: 'SlowDown',
    $metadata: { httpStatusCode: 503 },
  });
  const failing = (err: Error): StorageDriver =>
    Object.assign(new MemoryDriver(), {
      stat: () => Promise.reject(err),
      putContent: () => Promise.reject(err),
    });
  for (const err of [refused, s3Busy]) {
    const d = new InstrumentedDriver(failing(err), histogram());
    await assert.rejects(
      d.stat('blobs/x'),
      (e: unknown) => e instanceof AppError && e.code === 'UNAVAILABLE',
    );
    await assert.rejects(d.putContent('blobs/x', Buffer.from('x')), { code: 'UNAVAILABLE' });
  }
  const d = new InstrumentedDriver(new MemoryDriver(), histogram());
  await assert.rejects(d.stat('blobs/missing'), PathNotFoundError);
});
