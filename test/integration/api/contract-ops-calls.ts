// The contract test's calls for issue 20's remaining operations (kept apart: contract.test.ts is long).

import { iconDigestOf } from '../../../src/services/artifacts/artifact-icons.js';
import type { Call } from './contract-gc-calls.js';

/** Operations under the issue 4 tags (project, systeminfo) that landed with issue 20. */
export function projectOpsCalls(project: string): Call[] {
  const arts = `/projects/${project}/artifacts`;
  return [
    { op: 'listArtifactsOfProject', method: 'GET', path: `${arts}?with_label=true&page_size=5`, status: 200 },
    {
      op: 'listArtifactsOfProject',
      method: 'GET',
      path: `${arts}?latest_in_repository=true&q=${encodeURIComponent('artifact_type=x')}`,
      status: 200,
    },
    { op: 'listArtifactsOfProject', method: 'GET', path: `${arts}?latest_in_repository=true`, status: 400 },
    { op: 'listArtifactsOfProject', method: 'GET', path: '/projects/nope/artifacts', status: 404 },
    { op: 'getCert', method: 'GET', path: '/systeminfo/getcert', status: 404 },
  ];
}

/** Every operation of the icon, permissions, oidc and configure tags, and preheat's instance operations. */
export function opsCalls(): Call[] {
  return [
    { op: 'getIcon', method: 'GET', path: `/icons/${iconDigestOf('IMAGE')}`, status: 200 },
    { op: 'getIcon', method: 'GET', path: `/icons/sha256:${'0'.repeat(64)}`, status: 404 },
    { op: 'getPermissions', method: 'GET', path: '/permissions', status: 200 },
    {
      op: 'pingOIDC',
      method: 'POST',
      path: '/system/oidc/ping',
      body: { url: 'http://127.0.0.1:1', verify_cert: true },
      status: 400,
    },
    { op: 'getInternalconfig', method: 'GET', path: '/internalconfig', status: 401 },
    { op: 'getConfigurations', method: 'GET', path: '/configurations', status: 200 },
    ...preheatInstanceCalls(),
    { op: 'updateConfigurations', method: 'PUT', path: '/configurations', body: {}, status: 200 },
  ];
}

/** The provider half of the preheat tag (instances need no live provider until they are pinged). */
function preheatInstanceCalls(): Call[] {
  const base = '/p2p/preheat/instances';
  const df = { name: 'cdf', vendor: 'dragonfly', endpoint: 'http://127.0.0.1:1/df', enabled: true };
  return [
    { op: 'ListProviders', method: 'GET', path: '/p2p/preheat/providers', status: 200 },
    { op: 'CreateInstance', method: 'POST', path: base, body: df, status: 201 },
    { op: 'CreateInstance', method: 'POST', path: base, body: df, status: 409 },
    { op: 'CreateInstance', method: 'POST', path: base, body: { ...df, name: 'a b' }, status: 400 },
    { op: 'ListInstances', method: 'GET', path: `${base}?page_size=5`, status: 200 },
    { op: 'GetInstance', method: 'GET', path: `${base}/cdf`, status: 200 },
    { op: 'UpdateInstance', method: 'PUT', path: `${base}/cdf`, body: { ...df, default: true }, status: 200 },
    { op: 'UpdateInstance', method: 'PUT', path: `${base}/none`, body: df, status: 404 },
    { op: 'PingInstances', method: 'POST', path: `${base}/ping`, body: df, status: 400 },
    { op: 'PingInstances', method: 'POST', path: `${base}/ping`, body: { id: 999999 }, status: 404 },
    { op: 'ListProvidersUnderProject', method: 'GET', path: '/projects/c/preheat/providers', status: 200 },
    ...preheatPolicyCalls(),
    { op: 'DeleteInstance', method: 'DELETE', path: `${base}/cdf`, status: 200 },
    { op: 'GetInstance', method: 'GET', path: `${base}/cdf`, status: 404 },
  ];
}

/**
 * The policy half of the preheat tag, on the instance above (`provider_id: -1` is replaced by its id once
 * GetInstance has read it). Its endpoint answers nothing, so a manual run is refused as unhealthy and no
 * execution exists: the execution operations answer their 404s.
 */
function preheatPolicyCalls(): Call[] {
  const base = '/projects/c/preheat/policies';
  const policy = {
    name: 'cp',
    provider_id: -1,
    filters: JSON.stringify([{ type: 'repository', value: '**' }]),
    trigger: JSON.stringify({ type: 'manual', trigger_setting: { cron: '' } }),
    enabled: true,
  };
  const run = `${base}/cp/executions`;
  return [
    { op: 'CreatePolicy', method: 'POST', path: base, body: policy, status: 201 },
    { op: 'CreatePolicy', method: 'POST', path: base, body: policy, status: 409 },
    { op: 'CreatePolicy', method: 'POST', path: base, body: { ...policy, name: 'a b' }, status: 400 },
    { op: 'ListPolicies', method: 'GET', path: `${base}?page_size=5`, status: 200 },
    { op: 'GetPolicy', method: 'GET', path: `${base}/cp`, status: 200 },
    { op: 'GetPolicy', method: 'GET', path: `${base}/none`, status: 404 },
    {
      op: 'UpdatePolicy',
      method: 'PUT',
      path: `${base}/cp`,
      body: { ...policy, description: 'd' },
      status: 200,
    },
    { op: 'UpdatePolicy', method: 'PUT', path: `${base}/none`, body: policy, status: 404 },
    { op: 'ManualPreheat', method: 'POST', path: `${base}/cp`, body: {}, status: 400 },
    { op: 'ManualPreheat', method: 'POST', path: `${base}/none`, body: {}, status: 404 },
    { op: 'ListExecutions', method: 'GET', path: run, status: 200 },
    { op: 'GetExecution', method: 'GET', path: `${run}/999999`, status: 404 },
    { op: 'StopExecution', method: 'PATCH', path: `${run}/999999`, body: { status: 'Stopped' }, status: 404 },
    { op: 'ListTasks', method: 'GET', path: `${run}/999999/tasks`, status: 404 },
    { op: 'GetPreheatLog', method: 'GET', path: `${run}/999999/tasks/1/logs`, status: 404 },
    { op: 'DeletePolicy', method: 'DELETE', path: `${base}/cp`, status: 200 },
    { op: 'DeletePolicy', method: 'DELETE', path: `${base}/cp`, status: 404 },
  ];
}
