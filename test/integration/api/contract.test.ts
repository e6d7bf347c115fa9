import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi, type ApiResponse } from '../../helpers/harbor-api.js';
import { HarborSwagger, swaggerPath } from '../../helpers/harbor-swagger.js';
import { makeArtifact, makeImage, makeIndex, RegistryClient } from '../../helpers/registry-client.js';
import { requireAll } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';
import {
  declaredUnder,
  errorMismatch,
  gcCalls,
  undeclaredAllowed,
  unpagedLists,
  type Call,
} from './contract-gc-calls.js';
import { jobCalls } from './contract-job-calls.js';
import { immutableCalls, retentionCalls, retentionRuleSchema } from './contract-policy-calls.js';
import { proxyContract } from './contract-proxy-calls.js';
import { webhookContract } from './contract-webhook-calls.js';
import {
  projectScannerCalls,
  projectUpdateCalls,
  scanAllCalls,
  scanContract,
  securityHubCalls,
  scannerContract,
} from './contract-scanner-calls.js';
import { opsCalls, projectOpsCalls } from './contract-ops-calls.js';
import { replicationContract } from './contract-replication-calls.js';
import { userMemberContract } from './contract-user-calls.js';

/** Every operation of issue 4, in an order that leaves each call something to act on. */
function calls(ids: { image: string; amd: string; labelId: number; projectId: number }): Call[] {
  const repo = '/projects/c/repositories/team%252Fapp';
  const art = `${repo}/artifacts/${ids.image}`;
  return [
    { op: 'getPing', method: 'GET', path: '/ping', status: 200 },
    { op: 'getHealth', method: 'GET', path: '/health', status: 200 },
    { op: 'getSystemInfo', method: 'GET', path: '/systeminfo', status: 200 },
    { op: 'getVolumes', method: 'GET', path: '/systeminfo/volumes', status: 200 },
    ...projectOpsCalls('c'),
    ...opsCalls(),
    { op: 'getStatistic', method: 'GET', path: '/statistics', status: 200 },
    { op: 'search', method: 'GET', path: '/search?q=tea', status: 200 },
    {
      op: 'listProjects',
      method: 'GET',
      path: '/projects?page=1&page_size=10&with_detail=true',
      status: 200,
    },
    { op: 'listProjects', method: 'GET', path: '/projects?page_size=500', status: 400 },
    { op: 'listProjects', method: 'GET', path: '/projects?q=name%3D%5Ba', status: 400 },
    { op: 'headProject', method: 'HEAD', path: '/projects?project_name=c', status: 200 },
    { op: 'headProject', method: 'HEAD', path: '/projects?project_name=none', status: 404 },
    {
      op: 'createProject',
      method: 'POST',
      path: '/projects',
      body: { project_name: 'c2', metadata: { public: 'false' } },
      status: 201,
    },
    { op: 'createProject', method: 'POST', path: '/projects', body: { project_name: 'c2' }, status: 409 },
    { op: 'createProject', method: 'POST', path: '/projects', body: { project_name: 'C2!' }, status: 400 },
    { op: 'getProject', method: 'GET', path: '/projects/c', status: 200 },
    { op: 'getProject', method: 'GET', path: `/projects/${ids.projectId}`, status: 200 },
    { op: 'getProject', method: 'GET', path: '/projects/nope', status: 404 },
    ...projectUpdateCalls('c2'),
    { op: 'getLogs', method: 'GET', path: '/projects/c/logs?page=1&page_size=10', status: 200 },
    { op: 'getLogs', method: 'GET', path: '/projects/c/logs?q=op_time%3D%5Bx~%5D', status: 400 },
    { op: 'getLogExts', method: 'GET', path: '/projects/c/auditlog-exts', status: 200 },
    { op: 'getProjectDeletable', method: 'GET', path: '/projects/c/_deletable', status: 200 },
    { op: 'getProjectSummary', method: 'GET', path: '/projects/c/summary', status: 200 },
    ...projectScannerCalls('c'),
    { op: 'deleteProject', method: 'DELETE', path: '/projects/c', status: 412 },
    { op: 'deleteProject', method: 'DELETE', path: '/projects/c2', status: 200 },
    { op: 'deleteProject', method: 'DELETE', path: '/projects/c2', status: 404 },
    { op: 'listAllRepositories', method: 'GET', path: '/repositories', status: 200 },
    { op: 'listRepositories', method: 'GET', path: '/projects/c/repositories?q=name%3D~team', status: 200 },
    { op: 'getRepository', method: 'GET', path: repo, status: 200 },
    { op: 'getRepository', method: 'GET', path: '/projects/c/repositories/none', status: 404 },
    { op: 'updateRepository', method: 'PUT', path: repo, body: { description: 'hello' }, status: 200 },
    {
      op: 'listArtifacts',
      method: 'GET',
      path: `${repo}/artifacts?with_tag=true&with_label=true&with_accessory=true&with_scan_overview=true`,
      status: 200,
    },
    { op: 'listArtifacts', method: 'GET', path: '/projects/c/repositories/none/artifacts', status: 404 },
    { op: 'getArtifact', method: 'GET', path: `${art}?with_label=true&with_accessory=true`, status: 200 },
    { op: 'getArtifact', method: 'GET', path: `${repo}/artifacts/nope`, status: 404 },
    { op: 'createTag', method: 'POST', path: `${art}/tags`, body: { name: 'extra' }, status: 201 },
    { op: 'createTag', method: 'POST', path: `${art}/tags`, body: { name: 'extra' }, status: 409 },
    { op: 'listTags', method: 'GET', path: `${art}/tags`, status: 200 },
    { op: 'deleteTag', method: 'DELETE', path: `${art}/tags/extra`, status: 200 },
    { op: 'deleteTag', method: 'DELETE', path: `${art}/tags/extra`, status: 404 },
    { op: 'listAccessories', method: 'GET', path: `${art}/accessories`, status: 200 },
    {
      op: 'getVulnerabilitiesAddition',
      method: 'GET',
      path: `${art}/additions/vulnerabilities`,
      status: 200,
    },
    { op: 'getAddition', method: 'GET', path: `${art}/additions/build_history`, status: 200 },
    {
      op: 'CreateLabel',
      method: 'POST',
      path: '/labels',
      body: { name: 'contract', scope: 'g' },
      status: 201,
    },
    {
      op: 'CreateLabel',
      method: 'POST',
      path: '/labels',
      body: { name: 'contract', scope: 'g' },
      status: 409,
    },
    { op: 'ListLabels', method: 'GET', path: '/labels?scope=g', status: 200 },
    { op: 'GetLabelByID', method: 'GET', path: `/labels/${ids.labelId}`, status: 200 },
    { op: 'GetLabelByID', method: 'GET', path: '/labels/999999', status: 404 },
    {
      op: 'UpdateLabel',
      method: 'PUT',
      path: `/labels/${ids.labelId}`,
      body: { description: 'changed' },
      status: 200,
    },
    { op: 'addLabel', method: 'POST', path: `${art}/labels`, body: { id: ids.labelId }, status: 200 },
    { op: 'addLabel', method: 'POST', path: `${art}/labels`, body: { id: ids.labelId }, status: 409 },
    { op: 'removeLabel', method: 'DELETE', path: `${art}/labels/${ids.labelId}`, status: 200 },
    { op: 'listQuotas', method: 'GET', path: '/quotas', status: 200 },
    { op: 'getQuota', method: 'GET', path: `/quotas/${ids.projectId}`, status: 200 },
    { op: 'getQuota', method: 'GET', path: '/quotas/999999', status: 404 },
    {
      op: 'updateQuota',
      method: 'PUT',
      path: `/quotas/${ids.projectId}`,
      body: { hard: { storage: 1073741824 } },
      status: 200,
    },
    {
      op: 'updateQuota',
      method: 'PUT',
      path: `/quotas/${ids.projectId}`,
      body: { hard: { storage: -2 } },
      status: 400,
    },
    { op: 'updateQuota', method: 'PUT', path: '/quotas/999999', body: { hard: { storage: 1 } }, status: 404 },
    {
      op: 'CopyArtifact',
      method: 'POST',
      path: `/projects/c/repositories/copy/artifacts?from=c/team/app@${ids.image}`,
      status: 201,
    },
    {
      op: 'CopyArtifact',
      method: 'POST',
      path: '/projects/c/repositories/copy/artifacts?from=c/team/app:none',
      status: 404,
    },
    { op: 'deleteArtifact', method: 'DELETE', path: `${repo}/artifacts/${ids.amd}`, status: 412 },
    { op: 'deleteArtifact', method: 'DELETE', path: art, status: 200 },
    { op: 'DeleteLabel', method: 'DELETE', path: `/labels/${ids.labelId}`, status: 200 },
    { op: 'deleteRepository', method: 'DELETE', path: repo, status: 200 },
    { op: 'deleteRepository', method: 'DELETE', path: repo, status: 404 },
  ];
}

/**
 * Every operation of issue 3's tags (robot, usergroup, auditlog, projectMetadata); `{id}` is the robot and
 * `{gid}` the user group made here.
 */
function accessCalls(): Call[] {
  const perms = [{ kind: 'project', namespace: 'ca', access: [{ resource: 'repository', action: 'pull' }] }];
  return [
    { op: 'ListRobot', method: 'GET', path: '/robots', status: 200 },
    { op: 'ListRobot', method: 'GET', path: '/robots?q=Level%3Dproject', status: 400 },
    {
      op: 'CreateRobot',
      method: 'POST',
      path: '/robots',
      body: { name: 'cbot', level: 'system', duration: 10, permissions: perms },
      status: 201,
    },
    {
      op: 'CreateRobot',
      method: 'POST',
      path: '/robots',
      body: { name: 'Bad+Name', level: 'system', duration: 10, permissions: perms },
      status: 400,
    },
    { op: 'ListRobot', method: 'GET', path: '/robots?q=name%3D~cbot&page=1&page_size=5', status: 200 },
    { op: 'GetRobotByID', method: 'GET', path: '/robots/{id}', status: 200 },
    { op: 'GetRobotByID', method: 'GET', path: '/robots/999999', status: 404 },
    {
      op: 'UpdateRobot',
      method: 'PUT',
      path: '/robots/{id}',
      body: { name: 'robot$cbot', level: 'system', duration: 20, disable: true, permissions: perms },
      status: 200,
    },
    {
      op: 'UpdateRobot',
      method: 'PUT',
      path: '/robots/{id}',
      body: { level: 'project', permissions: perms },
      status: 400,
    },
    { op: 'RefreshSec', method: 'PATCH', path: '/robots/{id}', body: {}, status: 200 },
    { op: 'RefreshSec', method: 'PATCH', path: '/robots/999999', body: {}, status: 404 },
    { op: 'DeleteRobot', method: 'DELETE', path: '/robots/{id}', status: 200 },
    { op: 'DeleteRobot', method: 'DELETE', path: '/robots/{id}', status: 404 },
    {
      op: 'createUserGroup',
      method: 'POST',
      path: '/usergroups',
      body: { group_name: 'cgroup', group_type: 2 },
      status: 201,
    },
    {
      op: 'createUserGroup',
      method: 'POST',
      path: '/usergroups',
      body: { group_name: 'cgroup', group_type: 2 },
      status: 409,
    },
    { op: 'createUserGroup', method: 'POST', path: '/usergroups', body: { group_type: 2 }, status: 400 },
    { op: 'listUserGroups', method: 'GET', path: '/usergroups?group_name=cg&page_size=5', status: 200 },
    { op: 'searchUserGroups', method: 'GET', path: '/usergroups/search?groupname=cg', status: 200 },
    { op: 'getUserGroup', method: 'GET', path: '/usergroups/{gid}', status: 200 },
    { op: 'getUserGroup', method: 'GET', path: '/usergroups/999999', status: 404 },
    {
      op: 'updateUserGroup',
      method: 'PUT',
      path: '/usergroups/{gid}',
      body: { group_name: 'cgroup2' },
      status: 200,
    },
    {
      op: 'updateUserGroup',
      method: 'PUT',
      path: '/usergroups/{gid}',
      body: { group_name: '' },
      status: 400,
    },
    { op: 'deleteUserGroup', method: 'DELETE', path: '/usergroups/{gid}', status: 200 },
    { op: 'listAuditLogs', method: 'GET', path: '/audit-logs?q=operation%3Dcreate&page_size=5', status: 200 },
    { op: 'listAuditLogs', method: 'GET', path: '/audit-logs?q=nope%3D1', status: 400 },
    { op: 'listAuditLogExts', method: 'GET', path: '/auditlog-exts?sort=-op_time', status: 200 },
    { op: 'listAuditLogEventTypes', method: 'GET', path: '/auditlog-exts/events', status: 200 },
    { op: 'listProjectMetadatas', method: 'GET', path: '/projects/ca/metadatas/', status: 200 },
    {
      op: 'addProjectMetadatas',
      method: 'POST',
      path: '/projects/ca/metadatas/',
      body: { auto_scan: 'true' },
      status: 200,
    },
    {
      op: 'addProjectMetadatas',
      method: 'POST',
      path: '/projects/ca/metadatas/',
      body: { auto_scan: 'false' },
      status: 409,
    },
    {
      op: 'addProjectMetadatas',
      method: 'POST',
      path: '/projects/ca/metadatas/',
      body: { colour: 'red' },
      status: 400,
    },
    { op: 'getProjectMetadata', method: 'GET', path: '/projects/ca/metadatas/auto_scan', status: 200 },
    { op: 'getProjectMetadata', method: 'GET', path: '/projects/ca/metadatas/severity', status: 404 },
    {
      op: 'updateProjectMetadata',
      method: 'PUT',
      path: '/projects/ca/metadatas/auto_scan',
      body: { auto_scan: 'false' },
      status: 200,
    },
    {
      op: 'updateProjectMetadata',
      method: 'PUT',
      path: '/projects/ca/metadatas/auto_scan',
      body: { auto_scan: 'maybe' },
      status: 400,
    },
    { op: 'deleteProjectMetadata', method: 'DELETE', path: '/projects/ca/metadatas/auto_scan', status: 200 },
    {
      op: 'deleteProjectMetadata',
      method: 'DELETE',
      path: '/projects/nope/metadatas/auto_scan',
      status: 404,
    },
  ];
}

const swagger = HarborSwagger.load();

swagger?.patchDefinition('ExtraAttrs', { type: 'object' });
swagger?.patchDefinition('RetentionRule', retentionRuleSchema);

/** Skips loudly (fails under BERTH_REQUIRE_ALL=1) when Harbor's swagger.yaml is not there. */
function swaggerPresent(t: TestContext): boolean {
  if (swagger) return true;
  const message = `Harbor's swagger.yaml not found at ${swaggerPath}`;
  if (requireAll) throw new Error(`${message}; BERTH_REQUIRE_ALL=1 forbids skipping`);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n`);
  t.skip(message);
  return false;
}

/**
 * Calls each operation in turn and checks it against Harbor's swagger: the expected status, declared by
 * the operation; X-Request-Id; a body valid against the response schema; Harbor's error body; X-Total-Count
 * on lists. Returns the failures; adds each operation that answered as expected to `exercised`.
 */
async function runCalls(
  api: HarborApi,
  plan: Call[],
  exercised: Set<string>,
  prepare: (call: Call) => Call = (c) => c,
  seen: (call: Call, res: ApiResponse) => void | Promise<void> = () => undefined,
): Promise<string[]> {
  const failures: string[] = [];
  for (const planned of plan) {
    const call = prepare(planned);
    const op = swagger!.operations.get(call.op);
    assert.ok(op, `operation ${call.op} is not in Harbor's swagger`);
    assert.equal(call.method, op.method, `${call.op} is ${op.method} ${op.path}`);
    assert.match(call.path, op.pattern, `${call.path} does not match ${op.path}`);
    const res = await api.call(call.method, call.path, call.body, call.headers);
    await seen(call, res);
    const where = `${call.op} ${call.method} ${call.path}`;
    if (res.status !== call.status) {
      failures.push(`${where}: expected ${call.status}, got ${res.status} ${res.text.slice(0, 200)}`);
      continue;
    }
    if (!op.responses.has(String(res.status)) && !undeclaredAllowed(`${call.op} ${res.status}`)) {
      failures.push(
        `${where}: status ${res.status} is not declared by Harbor (${[...op.responses.keys()].join(', ')})`,
      );
      continue;
    }
    assert.ok(res.headers.get('x-request-id'), `${where}: no X-Request-Id`);
    exercised.add(call.op);
    const schema = op.responses.get(String(res.status));
    if (!schema || call.method === 'HEAD') continue;
    const body = schema.type === 'string' ? res.text : res.body;
    const errors = swagger!.validate(schema, body);
    if (errors.length > 0) failures.push(`${where}: ${errors.slice(0, 5).join('; ')}`);
    if (res.status >= 400) assert.match(res.text, /^\{"errors":\[\{"code":"[A-Z_]+","message":/, where);
    const wrongError = errorMismatch(call, res);
    if (wrongError) failures.push(`${where}: ${wrongError}`);
    if (res.status === 200 && /^list/i.test(call.op) && !unpagedLists.has(call.op))
      assert.ok(res.headers.get('x-total-count'), `${where}: no X-Total-Count`);
  }
  return failures;
}

for (const backend of backends()) {
  describe(`contract: Berth answers as Harbor's swagger.yaml says (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
    });
    after(() => berth.close());

    test('every operation of issue 4: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      const client = new RegistryClient(berth.url);
      await api.expect(201, 'POST', '/projects', { project_name: 'c' });
      const projectId = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/c')).body.project_id;
      const image = makeImage();
      const amd = makeImage();
      await client.pushImage('c/team/app', image, 'v1');
      await client.pushImage('c/team/app', amd);
      await client.putManifest('c/team/app', makeIndex([amd]), 'multi');
      await client.pushImage(
        'c/team/app',
        makeArtifact(image, 'application/vnd.dev.cosign.artifact.sig.v1+json'),
      );
      // The label created by the CreateLabel call gets the next id; find it after that call runs.
      let labelId = 0;
      let providerId = 0;
      const plan = calls({ image: image.digest, amd: amd.digest, labelId: -1, projectId });
      const exercised = new Set<string>();
      const failures = await runCalls(
        api,
        plan,
        exercised,
        (call) => {
          if (call.path.includes('/labels/-1'))
            call = { ...call, path: call.path.replace('/labels/-1', `/labels/${labelId}`) };
          if (JSON.stringify(call.body ?? null).includes('"id":-1'))
            call = { ...call, body: { id: labelId } };
          if (JSON.stringify(call.body ?? null).includes('"provider_id":-1'))
            call = { ...call, body: { ...(call.body as object), provider_id: providerId } };
          return call;
        },
        (call, res) => {
          if (call.op === 'CreateLabel' && res.status === 201)
            labelId = Number(res.headers.get('location')!.split('/').pop());
          if (call.op === 'GetInstance' && res.status === 200) providerId = (res.body as { id: number }).id;
        },
      );
      assert.deepEqual(failures, []);
      // Every operation Berth declares under issue 4's swagger tags was called (other tags have their own suites).
      const issue4Tags = new Set([
        'ping',
        'health',
        'systeminfo',
        'statistic',
        'project',
        'repository',
        'artifact',
        'label',
        'quota',
        'search',
        // Landed with issue 20 (contract-ops-calls.ts).
        ...['icon', 'permissions', 'oidc', 'configure', 'preheat'],
      ]);
      const declared = await declaredUnder(api, issue4Tags);
      assert.ok(declared.includes('listProjects'), 'swagger.json lists issue 4 operations by tag');
      assert.deepEqual(declared.filter((id) => !exercised.has(id)).sort(), []);
    });
    test("every operation of issue 3's tags: declared status, body valid against the response schema", async (t) => {
      if (!swaggerPresent(t)) return;
      await api.expect(201, 'POST', '/projects', { project_name: 'ca' });
      let id = 0;
      let gid = 0;
      const exercised = new Set<string>();
      const failures = await runCalls(
        api,
        accessCalls(),
        exercised,
        (call) => ({ ...call, path: call.path.replace('{id}', String(id)).replace('{gid}', String(gid)) }),
        (call, res) => {
          if (call.op === 'CreateRobot' && res.status === 201) id = (res.body as { id: number }).id;
          if (call.op === 'createUserGroup' && res.status === 201)
            gid = Number(res.headers.get('location')!.split('/').pop());
        },
      );
      assert.deepEqual(failures, []);
      const tags = new Set(['robot', 'usergroup', 'auditlog', 'projectMetadata']);
      const declared = await declaredUnder(api, tags);
      assert.ok(declared.includes('CreateRobot'), 'swagger.json lists issue 3 operations by tag');
      assert.deepEqual(declared.filter((op) => !exercised.has(op)).sort(), []);
    });
    test('every operation of the immutable tag: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      await api.expect(201, 'POST', '/projects', { project_name: 'ci' });
      let id = 0;
      const exercised = new Set<string>();
      const failures = await runCalls(
        api,
        immutableCalls(),
        exercised,
        (call) => ({ ...call, path: call.path.replace('{id}', String(id)) }),
        (call, res) => {
          if (call.op === 'CreateImmuRule' && res.status === 201)
            id = Number(res.headers.get('location')!.split('/').pop());
        },
      );
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['immutable']));
      assert.equal(declared.length, 4, 'swagger.json lists the 4 immutable operations');
      assert.deepEqual(declared.filter((op) => !exercised.has(op)).sort(), []);
    });
    test('every operation of the Retention tag: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      await api.expect(201, 'POST', '/projects', { project_name: 'cr' });
      const pid = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/cr')).body.project_id;
      await new RegistryClient(berth.url).pushImage('cr/app', makeImage(), 'old');
      const ids = { id: 0, eid: 0, tid: 0 };
      const exercised = new Set<string>();
      const fill = (call: Call) => ({
        ...call,
        path: call.path.replace(/\{(id|eid|tid)\}/g, (_, k: keyof typeof ids) => String(ids[k])),
      });
      const [before, after] = retentionCalls(pid);
      const failures = await runCalls(api, before, exercised, fill, (call, res) => {
        const last = Number(res.headers.get('location')?.split('/').pop());
        if (call.op === 'createRetention' && res.status === 201) ids.id = last;
        if (call.op === 'triggerRetentionExecution' && res.status === 201) ids.eid = last;
      });
      // The run plans one task for cr/app; the task calls need it to exist.
      const tasks = await waitFor('the retention task', async () => {
        const res = await api.expect<{ id: number; status: string }[]>(
          200,
          'GET',
          `/retentions/${ids.id}/executions/${ids.eid}/tasks`,
        );
        return res.body[0]?.status === 'Success' ? res.body : undefined;
      });
      ids.tid = tasks[0]!.id;
      failures.push(...(await runCalls(api, after, exercised, fill)));
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['Retention']));
      assert.equal(declared.length, 10, 'the 10 operations of the Retention tag');
      assert.deepEqual(declared.filter((op) => !exercised.has(op)).sort(), []);
    });
    test('every operation of the webhook and webhookjob tags: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      const { failures, exercised } = await webhookContract(api, berth.url, (plan, ex, fill, seen) =>
        runCalls(api, plan, ex, fill, seen),
      );
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['webhook', 'webhookjob']));
      assert.deepEqual([declared.length, declared.filter((op) => !exercised.has(op))], [11, []]);
    });
    test('every operation of the scanner and scanAll tags: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      const { failures, exercised } = await scannerContract((plan, ex, fill, seen) =>
        runCalls(api, plan, ex, fill, seen),
      );
      failures.push(...(await runCalls(api, scanAllCalls(), exercised)));
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['scanner', 'scanAll']));
      assert.deepEqual([declared.length, declared.filter((op) => !exercised.has(op))], [14, []]);
    });
    test("every operation of the scan and SystemCVEAllowlist tags: declared status, Harbor's errors, body valid against the response schema", async (t) => {
      if (!swaggerPresent(t)) return;
      const { failures, exercised } = await scanContract(api, berth.url, (...a) => runCalls(api, ...a));
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['scan', 'SystemCVEAllowlist']));
      assert.deepEqual([declared.length, declared.filter((op) => !exercised.has(op))], [5, []]);
    });
    test('every operation of the jobservice, schedule and purge tags: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      let purge = 0;
      const exercised = new Set<string>();
      const failures = await runCalls(
        api,
        jobCalls(),
        exercised,
        (call) => ({ ...call, path: call.path.replace('{purge}', String(purge)) }),
        (call, res) => {
          if (call.op === 'createPurgeSchedule' && res.status === 201)
            purge = Number(res.headers.get('location')!.split('/').pop());
        },
      );
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['jobservice', 'schedule', 'purge']));
      assert.equal(declared.length, 15, 'swagger.json lists the 6 + 2 + 7 operations');
      assert.deepEqual(declared.filter((op) => !exercised.has(op)).sort(), []);
    });

    test('every operation of the user, member and replication tags: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      const { failures, exercised } = await userMemberContract(api, (...a) => runCalls(api, ...a));
      failures.push(...(await replicationContract(api, exercised, (...a) => runCalls(api, ...a))));
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['user', 'member', 'replication']));
      assert.deepEqual([declared.length, declared.filter((op) => !exercised.has(op))], [27, []]);
    });
    test('every operation of the securityhub and scan data export tags: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      await api.expect(201, 'POST', '/projects', { project_name: 'csx' });
      const pid = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/csx')).body.project_id;
      let eid = 0;
      const exercised = new Set<string>();
      const fill = (call: Call) => ({ ...call, path: call.path.replace('{eid}', String(eid)) });
      const failures = await runCalls(api, securityHubCalls(pid), exercised, fill, (call, res) => {
        if (call.op === 'exportScanData' && res.status === 200) eid = (res.body as { id: number }).id;
      });
      await waitFor('the export', async () => {
        const e = await api.expect<{ status: string }>(200, 'GET', `/export/cve/execution/${eid}`);
        return e.body.status === 'Success';
      });
      const csv = await api.call('GET', `/export/cve/download/${eid}`);
      assert.equal(csv.status, 200);
      assert.equal(csv.headers.get('content-type'), 'text/csv');
      exercised.add('downloadScanData');
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['securityhub', 'scan data export']));
      assert.deepEqual([declared.length, declared.filter((op) => !exercised.has(op))], [6, []]);
    });

    test('every operation of the registry tag, and proxy-cache projects: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      const run = await proxyContract({ url: berth.url, ...berth.admin }, (...a) => runCalls(api, ...a));
      const declared = (await declaredUnder(api, new Set(['registry']))).filter(
        (op) => !run.exercised.has(op),
      );
      assert.deepEqual([run.failures, declared], [[], []]);
    });

    test('every operation of the gc tag: declared status, body valid against the response schema', async (t) => {
      if (!swaggerPresent(t)) return;
      let id = 0;
      const exercised = new Set<string>();
      const failures = await runCalls(
        api,
        gcCalls(),
        exercised,
        (call) => ({ ...call, path: call.path.replace('{id}', String(id)) }),
        (call, res) => {
          if (call.op === 'createGCSchedule' && res.status === 201)
            id = Number(res.headers.get('location')!.split('/').pop());
        },
      );
      assert.deepEqual(failures, []);
      const declared = await declaredUnder(api, new Set(['gc']));
      assert.equal(declared.length, 7, 'the 7 operations of the gc tag');
      assert.deepEqual(declared.filter((op) => !exercised.has(op)).sort(), []);
    });
  });
}
