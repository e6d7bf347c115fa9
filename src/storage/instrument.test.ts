import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { runDriverConformance } from './driver.conformance.js';
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
