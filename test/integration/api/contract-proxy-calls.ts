// The calls of the contract test for Harbor's `registry` tag and the proxy-cache parts of the `project`
// tag (docs/proxy-cache.md): a registry endpoint, a proxy-cache project on it, and their refusals. The
// upstream is this Berth itself (a docker-registry endpoint with the admin's credential), so nothing else
// has to run; `{rid}` is the endpoint made by the first createRegistry, `{dead}` one nobody answers.
import type { Call, RunCalls } from './contract-gc-calls.js';

/** Runs the calls with `run` (the contract test's runCalls), filling in the ids the creates answered. */
export async function proxyContract(
  self: { url: string; username: string; password: string },
  run: RunCalls,
) {
  const ids: Record<string, number> = { rid: 0, dead: 0 };
  // `{rid}` in a path, `"{rid}"` in a JSON body: both become the id.
  const fill = (text: string) => text.replace(/"?\{(rid|dead)\}"?/g, (_, k: string) => String(ids[k]));
  const exercised = new Set<string>();
  const failures = await run(
    proxyCalls(self),
    exercised,
    (call) => ({
      ...call,
      path: fill(call.path),
      ...(call.body === undefined ? {} : { body: JSON.parse(fill(JSON.stringify(call.body))) as unknown }),
    }),
    (call, res) => {
      if (call.op !== 'createRegistry' || res.status !== 201) return;
      const id = Number(res.headers.get('location')!.split('/').pop());
      if ((call.body as { name: string }).name === 'dead') ids.dead = id;
      else ids.rid = id;
    },
  );
  return { failures, exercised };
}

function proxyCalls(self: { url: string; username: string; password: string }): Call[] {
  const endpoint = {
    name: 'self',
    type: 'docker-registry',
    url: self.url,
    credential: { type: 'basic', access_key: self.username, access_secret: self.password },
  };
  return [
    { op: 'listRegistryProviderTypes', method: 'GET', path: '/replication/adapters', status: 200 },
    { op: 'listRegistryProviderInfos', method: 'GET', path: '/replication/adapterinfos', status: 200 },
    { op: 'createRegistry', method: 'POST', path: '/registries', body: endpoint, status: 201 },
    { op: 'createRegistry', method: 'POST', path: '/registries', body: endpoint, status: 409 },
    {
      op: 'createRegistry',
      method: 'POST',
      path: '/registries',
      body: { ...endpoint, name: 'floppy', type: 'floppy' },
      status: 400,
    },
    {
      op: 'createRegistry',
      method: 'POST',
      path: '/registries',
      body: { name: 'dead', type: 'docker-registry', url: 'http://127.0.0.1:9' },
      status: 201,
    },
    { op: 'listRegistries', method: 'GET', path: '/registries?q=name%3D~sel&page_size=5', status: 200 },
    { op: 'getRegistry', method: 'GET', path: '/registries/{rid}', status: 200 },
    { op: 'getRegistry', method: 'GET', path: '/registries/999999', status: 404 },
    { op: 'pingRegistry', method: 'POST', path: '/registries/ping', body: { id: '{rid}' }, status: 200 },
    { op: 'pingRegistry', method: 'POST', path: '/registries/ping', body: { id: '{dead}' }, status: 400 },
    { op: 'getRegistryInfo', method: 'GET', path: '/registries/{rid}/info', status: 200 },
    {
      op: 'updateRegistry',
      method: 'PUT',
      path: '/registries/{rid}',
      body: { description: 'the proxy cache upstream' },
      status: 200,
    },
    { op: 'updateRegistry', method: 'PUT', path: '/registries/999999', body: {}, status: 404 },
    {
      op: 'createProject',
      method: 'POST',
      path: '/projects',
      body: { project_name: 'cproxy', registry_id: '{rid}', metadata: { proxy_speed_kb: '2048' } },
      status: 201,
    },
    {
      op: 'createProject',
      method: 'POST',
      path: '/projects',
      body: { project_name: 'czero', registry_id: 0 },
      status: 400,
    },
    {
      op: 'createProject',
      method: 'POST',
      path: '/projects',
      body: { project_name: 'cdead', registry_id: '{dead}' },
      status: 400,
    },
    { op: 'getProject', method: 'GET', path: '/projects/cproxy', status: 200 },
    { op: 'listProjects', method: 'GET', path: '/projects?name=cproxy', status: 200 },
    {
      op: 'updateProject',
      method: 'PUT',
      path: '/projects/cproxy',
      body: { metadata: { proxy_speed_kb: '0', proxy_cache_local_on_not_found: 'true' } },
      status: 200,
    },
    {
      op: 'updateProject',
      method: 'PUT',
      path: '/projects/cproxy',
      body: { metadata: { proxy_speed_kb: 'fast' } },
      status: 400,
    },
    {
      op: 'updateProject',
      method: 'PUT',
      path: '/projects/cproxy',
      body: { metadata: { proxy_cache_filter_pattern: 'library/**', proxy_cache_filter_kind: 'doublestar' } },
      status: 200,
    },
    {
      op: 'updateProject',
      method: 'PUT',
      path: '/projects/cproxy',
      body: { metadata: { proxy_cache_filter_pattern: 'library/(', proxy_cache_filter_kind: 'regex' } },
      status: 400,
    },
    {
      op: 'updateProject',
      method: 'PUT',
      path: '/projects/cproxy',
      body: { metadata: { proxy_cache_filter_pattern: 'library/*' } },
      status: 400,
    },
    { op: 'getProjectSummary', method: 'GET', path: '/projects/cproxy/summary', status: 200 },
    { op: 'deleteRegistry', method: 'DELETE', path: '/registries/{rid}', status: 412 },
    { op: 'deleteProject', method: 'DELETE', path: '/projects/cproxy', status: 200 },
    { op: 'deleteRegistry', method: 'DELETE', path: '/registries/{rid}', status: 200 },
    { op: 'deleteRegistry', method: 'DELETE', path: '/registries/{rid}', status: 404 },
  ];
}
