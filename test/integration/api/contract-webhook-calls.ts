// The calls of the contract test for the `webhook` and `webhookjob` tags (kept apart: contract.test.ts is
// long). `{id}` is the policy the create call made, `{eid}` and `{tid}` a delivery of it and its task.
import type { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';
import { startReceiver } from '../webhooks/receiver.js';
import type { Call, RunCalls } from './contract-gc-calls.js';

/**
 * Runs the webhook calls with `run` (the contract test's runCalls) around one real delivery: a receiver
 * on 127.0.0.1, a policy made by the create call, a push, so the execution, task and log calls have
 * something to read.
 */
export async function webhookContract(api: HarborApi, berthUrl: string, run: RunCalls) {
  const rx = await startReceiver();
  await api.expect(201, 'POST', '/projects', { project_name: 'cw' });
  const ids = { id: 0, eid: 0, tid: 0 };
  const exercised = new Set<string>();
  const fill = (call: Call) => ({
    ...call,
    path: call.path.replace(/\{(id|eid|tid)\}/g, (_, k: keyof typeof ids) => String(ids[k])),
  });
  const [before, after] = webhookCalls(rx.url);
  const failures = await run(before, exercised, fill, (call, res) => {
    if (call.op === 'CreateWebhookPolicyOfProject' && res.status === 201)
      ids.id = Number(res.headers.get('location')!.split('/').pop());
  });
  await new RegistryClient(berthUrl).pushImage('cw/app', makeImage(), 'v1');
  const executions = `/projects/cw/webhook/policies/${ids.id}/executions`;
  ids.eid = await waitFor('the delivery', async () => {
    const res = await api.expect<{ id: number; status: string }[]>(200, 'GET', executions);
    return res.body[0]?.status === 'Success' && res.body[0].id;
  });
  ids.tid = (await api.expect<{ id: number }[]>(200, 'GET', `${executions}/${ids.eid}/tasks`)).body[0]!.id;
  failures.push(...(await run(after, exercised, fill, () => undefined)));
  await rx.close();
  return { failures, exercised };
}

export function webhookCalls(receiver: string): [before: Call[], after: Call[]] {
  const base = '/projects/cw/webhook';
  const policy = {
    name: 'contract',
    enabled: true,
    event_types: ['PUSH_ARTIFACT'],
    targets: [{ type: 'http', address: `${receiver}/contract` }],
  };
  return [
    [
      { op: 'GetSupportedEventTypes', method: 'GET', path: `${base}/events`, status: 200 },
      {
        op: 'CreateWebhookPolicyOfProject',
        method: 'POST',
        path: `${base}/policies`,
        body: policy,
        status: 201,
      },
      {
        op: 'CreateWebhookPolicyOfProject',
        method: 'POST',
        path: `${base}/policies`,
        body: policy,
        status: 409,
      },
      {
        op: 'CreateWebhookPolicyOfProject',
        method: 'POST',
        path: `${base}/policies`,
        body: { ...policy, event_types: [] },
        status: 400,
      },
      {
        op: 'ListWebhookPoliciesOfProject',
        method: 'GET',
        path: `${base}/policies?page=1&page_size=10`,
        status: 200,
      },
      { op: 'GetWebhookPolicyOfProject', method: 'GET', path: `${base}/policies/{id}`, status: 200 },
      { op: 'GetWebhookPolicyOfProject', method: 'GET', path: `${base}/policies/999999`, status: 404 },
      {
        op: 'UpdateWebhookPolicyOfProject',
        method: 'PUT',
        path: `${base}/policies/{id}`,
        body: { ...policy, description: 'changed' },
        status: 200,
      },
      {
        op: 'UpdateWebhookPolicyOfProject',
        method: 'PUT',
        path: `${base}/policies/{id}`,
        body: { ...policy, targets: [{ type: 'email', address: receiver }] },
        status: 400,
      },
      {
        op: 'UpdateWebhookPolicyOfProject',
        method: 'PUT',
        path: `${base}/policies/999999`,
        body: policy,
        status: 404,
      },
    ],
    [
      {
        op: 'ListExecutionsOfWebhookPolicy',
        method: 'GET',
        path: `${base}/policies/{id}/executions`,
        status: 200,
      },
      {
        op: 'ListExecutionsOfWebhookPolicy',
        method: 'GET',
        path: `${base}/policies/999999/executions`,
        status: 404,
      },
      {
        op: 'ListTasksOfWebhookExecution',
        method: 'GET',
        path: `${base}/policies/{id}/executions/{eid}/tasks`,
        status: 200,
      },
      {
        op: 'ListTasksOfWebhookExecution',
        method: 'GET',
        path: `${base}/policies/{id}/executions/999999/tasks`,
        status: 404,
      },
      {
        op: 'GetLogsOfWebhookTask',
        method: 'GET',
        path: `${base}/policies/{id}/executions/{eid}/tasks/{tid}/log`,
        status: 200,
      },
      {
        op: 'GetLogsOfWebhookTask',
        method: 'GET',
        path: `${base}/policies/{id}/executions/{eid}/tasks/999999/log`,
        status: 404,
      },
      { op: 'LastTrigger', method: 'GET', path: `${base}/lasttrigger`, status: 200 },
      {
        op: 'ListWebhookJobs',
        method: 'GET',
        path: `${base}/jobs?policy_id={id}&status=Success`,
        status: 200,
      },
      { op: 'ListWebhookJobs', method: 'GET', path: `${base}/jobs`, status: 400 },
      { op: 'DeleteWebhookPolicyOfProject', method: 'DELETE', path: `${base}/policies/{id}`, status: 200 },
      { op: 'DeleteWebhookPolicyOfProject', method: 'DELETE', path: `${base}/policies/{id}`, status: 404 },
    ],
  ];
}
