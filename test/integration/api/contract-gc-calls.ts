// The calls of the contract test for Harbor's `gc` tag (kept apart: contract.test.ts is long).

/** One call of the contract test (as contract.test.ts plans them). */
export interface Call {
  op: string;
  method: string;
  path: string;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Every operation of the `gc` tag; `{id}` is the run started by the first call. */
export function gcCalls(): Call[] {
  const run = { schedule: { type: 'Manual' }, parameters: { dry_run: true, workers: 2 } };
  return [
    { op: 'getGCSchedule', method: 'GET', path: '/system/gc/schedule', status: 200 },
    { op: 'createGCSchedule', method: 'POST', path: '/system/gc/schedule', body: run, status: 201 },
    {
      op: 'createGCSchedule',
      method: 'POST',
      path: '/system/gc/schedule',
      body: { schedule: { type: 'Manual' }, parameters: { workers: 11 } },
      status: 400,
    },
    {
      op: 'updateGCSchedule',
      method: 'PUT',
      path: '/system/gc/schedule',
      body: { schedule: { type: 'Weekly' }, parameters: { delete_untagged: true } },
      status: 200,
    },
    {
      op: 'updateGCSchedule',
      method: 'PUT',
      path: '/system/gc/schedule',
      body: { schedule: { type: 'Custom', cron: 'every day' } },
      status: 400,
    },
    { op: 'getGCSchedule', method: 'GET', path: '/system/gc/schedule', status: 200 },
    { op: 'getGCHistory', method: 'GET', path: '/system/gc?page=1&page_size=10', status: 200 },
    { op: 'getGC', method: 'GET', path: '/system/gc/{id}', status: 200 },
    { op: 'getGC', method: 'GET', path: '/system/gc/999999', status: 404 },
    { op: 'getGCLog', method: 'GET', path: '/system/gc/{id}/log', status: 200 },
    { op: 'getGCLog', method: 'GET', path: '/system/gc/999999/log', status: 404 },
    { op: 'stopGC', method: 'PUT', path: '/system/gc/{id}', status: 200 },
    { op: 'stopGC', method: 'PUT', path: '/system/gc/999999', status: 404 },
  ];
}
