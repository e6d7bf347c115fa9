// The contract test's calls for the replication tag (kept apart: contract.test.ts is long).

import type { HarborApi } from '../../helpers/harbor-api.js';
import type { Call, RunCalls } from './contract-gc-calls.js';

/** Every operation of the `replication` tag; `{pid}` is the policy the plan creates, `{eid}` its run. */
function replicationCalls(registryId: number): Call[] {
  const policies = '/replication/policies';
  const executions = '/replication/executions';
  const policy = {
    name: 'crep-push',
    dest_registry: { id: registryId },
    dest_namespace: 'copied',
    trigger: { type: 'manual', trigger_settings: { cron: '' } },
    filters: [{ type: 'name', value: 'nothing-here/**' }],
    override: true,
    enabled: true,
  };
  const badCron = {
    ...policy,
    name: 'bad',
    trigger: { type: 'scheduled', trigger_settings: { cron: '* *' } },
  };
  return [
    { op: 'createReplicationPolicy', method: 'POST', path: policies, body: policy, status: 201 },
    { op: 'createReplicationPolicy', method: 'POST', path: policies, body: badCron, status: 400 },
    { op: 'listReplicationPolicies', method: 'GET', path: `${policies}?name=crep`, status: 200 },
    { op: 'getReplicationPolicy', method: 'GET', path: `${policies}/{pid}`, status: 200 },
    { op: 'getReplicationPolicy', method: 'GET', path: `${policies}/999999`, status: 404 },
    {
      op: 'updateReplicationPolicy',
      method: 'PUT',
      path: `${policies}/{pid}`,
      body: { ...policy, description: 'nothing to copy' },
      status: 200,
    },
    { op: 'startReplication', method: 'POST', path: executions, body: { policy_id: '{pid}' }, status: 201 },
    { op: 'listReplicationExecutions', method: 'GET', path: `${executions}?policy_id={pid}`, status: 200 },
    { op: 'getReplicationExecution', method: 'GET', path: `${executions}/{eid}`, status: 200 },
    { op: 'getReplicationExecution', method: 'GET', path: `${executions}/999999`, status: 404 },
    { op: 'listReplicationTasks', method: 'GET', path: `${executions}/{eid}/tasks`, status: 200 },
    { op: 'getReplicationLog', method: 'GET', path: `${executions}/{eid}/tasks/999999/log`, status: 404 },
    { op: 'stopReplication', method: 'PUT', path: `${executions}/{eid}`, status: 200 },
    { op: 'deleteReplicationPolicy', method: 'DELETE', path: `${policies}/{pid}`, status: 200 },
    { op: 'deleteReplicationPolicy', method: 'DELETE', path: `${policies}/{pid}`, status: 404 },
  ];
}

/** Runs the replication plan against a push policy to an endpoint nothing listens on (it copies nothing). */
export async function replicationContract(
  api: HarborApi,
  exercised: Set<string>,
  run: RunCalls,
): Promise<string[]> {
  const registry = { name: 'crep', type: 'docker-registry', url: 'http://127.0.0.1:1', insecure: true };
  await api.expect(201, 'POST', '/registries', registry);
  const [reg] = (await api.expect<{ id: number }[]>(200, 'GET', '/registries?name=crep')).body;
  const ids = { pid: 0, eid: 0 };
  const fill = (call: Call): Call => {
    const path = call.path.replace('{pid}', String(ids.pid)).replace('{eid}', String(ids.eid));
    return call.op === 'startReplication'
      ? { ...call, path, body: { policy_id: ids.pid } }
      : { ...call, path };
  };
  return run(replicationCalls(reg!.id), exercised, fill, (call, res) => {
    if (res.status === 201)
      ids[call.op === 'startReplication' ? 'eid' : 'pid'] = Number(
        res.headers.get('location')!.split('/').pop(),
      );
  });
}
