// The calls that exercise one row of Harbor's project role matrix through Berth's HTTP surface: the
// operation Harbor's handler gates with that (resource, action) (shared/harbor-api/endpoints.md), made
// as a member with a given role. Each probe sets up what it consumes (as the admin) so every role meets
// the same state. Rows Berth has no endpoint for are listed in the test with the reason.
import { BUILTIN_SCANNER_UUID } from '../../../src/services/scanning/scanner.js';
import { basicAuth, type RunningBerth } from '../../helpers/berth.js';
import type { ApiResponse, HarborApi } from '../../helpers/harbor-api.js';
import type { HarborRole } from '../../helpers/harbor-rbac.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { policyProbes, preheatProbes, retentionProbes, webhookProbes } from './role-matrix-policy-probes.js';
import { scanProbes } from './role-matrix-scan-probes.js';

/** A member with one of Harbor's roles, or a signed-in user who is no member of the project. */
export type Who = HarborRole | 'outsider';

export interface Fixture {
  berth: RunningBerth;
  admin: HarborApi;
  /** The private project every role is a member of. */
  project: string;
  pid: number;
  /** A project label, and the member id of a spare user (Guest) for update probes. */
  labelId: number;
  spareMemberId: number;
  /** A robot of the project made by the admin, when the robots API is routed. */
  robotId?: number;
  as(who: Who): HarborApi;
  creds(who: Who): { username: string; password: string };
}

export interface Probe {
  key: string;
  /** What is called, for messages. */
  call: string;
  /** Status when the role holds the permission (a denied member gets 403). */
  ok: number;
  /** Made through /v2 (a non-member's refusal there is the registry's, not the API's 404). */
  registry?: true;
  run(f: Fixture, role: Who): Promise<Pick<ApiResponse, 'status' | 'text'>>;
}

const repoPath = (f: Fixture, repo: string) => `/projects/${f.project}/repositories/${repo}`;
const app = (f: Fixture) => repoPath(f, 'app');

/** Pushes a fresh image as the admin; returns its digest. */
async function pushImage(f: Fixture, repo: string, tag: string): Promise<string> {
  const image = makeImage();
  await new RegistryClient(f.berth.url, { auth: f.berth.admin }).pushImage(
    `${f.project}/${repo}`,
    image,
    tag,
  );
  return image.digest;
}

/** A /v2 request with the role's Basic credentials. */
async function v2(f: Fixture, role: Who, method: string, path: string) {
  const res = await fetch(`${f.berth.url}/v2/${f.project}/${path}`, {
    method,
    headers: { authorization: basicAuth(f.creds(role)) },
  });
  return { status: res.status, text: await res.text() };
}

async function addMember(f: Fixture, username: string): Promise<number> {
  const res = await f.admin.expect(201, 'POST', `/projects/${f.pid}/members`, {
    role_id: 3,
    member_user: { username },
  });
  return Number(res.headers.get('location')!.split('/').pop());
}

/** Placeholders, to name a probe's path in messages. */
const named = {
  project: '{p}',
  pid: '{id}',
  labelId: '{label}',
  spareMemberId: '{mid}',
  robotId: '{robot}',
} as unknown as Fixture;

const get = (path: (f: Fixture) => string, key: string, call = `GET ${path(named)}`): Probe => ({
  key,
  call,
  ok: 200,
  run: (f, role) => f.as(role).call('GET', path(f)),
});

export const probes: Probe[] = [
  get((f) => `/projects/${f.pid}`, 'project:read'),
  get((f) => `/projects/${f.pid}/scanner`, 'scanner:read'),
  {
    key: 'scanner:create',
    call: 'PUT /projects/{id}/scanner',
    ok: 200,
    run: (f, role) => f.as(role).call('PUT', `/projects/${f.pid}/scanner`, { uuid: BUILTIN_SCANNER_UUID }),
  },
  {
    key: 'project:update',
    call: 'PUT /projects/{id}',
    ok: 200,
    run: (f, role) => f.as(role).call('PUT', `/projects/${f.pid}`, { metadata: { auto_scan: 'false' } }),
  },
  get((f) => `/projects/${f.pid}/_deletable`, 'project:delete'),
  get((f) => `/projects/${f.pid}/members/${f.spareMemberId}`, 'member:read'),
  get((f) => `/projects/${f.pid}/members`, 'member:list'),
  {
    key: 'member:create',
    call: 'POST /projects/{id}/members',
    ok: 201,
    async run(f, role) {
      const res = await f.as(role).call('POST', `/projects/${f.pid}/members`, {
        role_id: 3,
        member_user: { username: 'newcomer' },
      });
      if (res.status === 201)
        await f.admin.expect(200, 'DELETE', res.headers.get('location')!.replace('/api/v2.0', ''));
      return res;
    },
  },
  {
    key: 'member:update',
    call: 'PUT /projects/{id}/members/{mid}',
    ok: 200,
    run: (f, role) => f.as(role).call('PUT', `/projects/${f.pid}/members/${f.spareMemberId}`, { role_id: 3 }),
  },
  {
    key: 'member:delete',
    call: 'DELETE /projects/{id}/members/{mid}',
    ok: 200,
    async run(f, role) {
      const mid = await addMember(f, 'newcomer');
      const res = await f.as(role).call('DELETE', `/projects/${f.pid}/members/${mid}`);
      if (res.status !== 200) await f.admin.expect(200, 'DELETE', `/projects/${f.pid}/members/${mid}`);
      return res;
    },
  },
  get((f) => `/projects/${f.pid}/metadatas/`, 'metadata:list'),
  get((f) => `/projects/${f.pid}/metadatas/auto_scan`, 'metadata:read'),
  {
    key: 'metadata:create',
    call: 'POST /projects/{id}/metadatas/',
    ok: 200,
    run: (f, role) => f.as(role).call('POST', `/projects/${f.pid}/metadatas/`, { severity: 'high' }),
  },
  {
    key: 'metadata:update',
    call: 'PUT /projects/{id}/metadatas/auto_scan',
    ok: 200,
    run: (f, role) =>
      f.as(role).call('PUT', `/projects/${f.pid}/metadatas/auto_scan`, { auto_scan: 'false' }),
  },
  {
    key: 'metadata:delete',
    call: 'DELETE /projects/{id}/metadatas/severity',
    ok: 200,
    async run(f, role) {
      const add = await f.admin.call('POST', `/projects/${f.pid}/metadatas/`, { severity: 'low' });
      if (add.status === 404) return add; // not routed: reported by the caller
      return f.as(role).call('DELETE', `/projects/${f.pid}/metadatas/severity`);
    },
  },
  get((f) => `/projects/${f.project}/logs`, 'log:list'),
  get((f) => `/labels/${f.labelId}`, 'label:read'),
  get((f) => `/labels?scope=p&project_id=${f.pid}`, 'label:list'),
  {
    key: 'label:create',
    call: 'POST /labels (scope p)',
    ok: 201,
    run: (f, role) =>
      f.as(role).call('POST', '/labels', { name: `by-${role.toLowerCase()}`, scope: 'p', project_id: f.pid }),
  },
  {
    key: 'label:update',
    call: 'PUT /labels/{id}',
    ok: 200,
    run: (f, role) => f.as(role).call('PUT', `/labels/${f.labelId}`, { description: `seen by ${role}` }),
  },
  {
    key: 'label:delete',
    call: 'DELETE /labels/{id}',
    ok: 200,
    async run(f, role) {
      const made = await f.admin.expect(201, 'POST', '/labels', {
        name: `doomed-${role.toLowerCase()}`,
        scope: 'p',
        project_id: f.pid,
      });
      const id = Number(made.headers.get('location')!.split('/').pop());
      return f.as(role).call('DELETE', `/labels/${id}`);
    },
  },
  {
    key: 'quota:read',
    call: 'GET /projects/{id}/summary (quota)',
    ok: 200,
    async run(f, role) {
      const res = await f.as(role).call<{ quota?: { hard?: unknown } }>('GET', `/projects/${f.pid}/summary`);
      // Harbor puts the quota in the summary only for holders of quota:read.
      return res.status === 200 && !res.body.quota?.hard ? { status: 403, text: 'no quota' } : res;
    },
  },
  get(app, 'repository:read'),
  get((f) => `/projects/${f.project}/repositories`, 'repository:list'),
  {
    key: 'repository:update',
    call: 'PUT /projects/{p}/repositories/{r}',
    ok: 200,
    run: (f, role) => f.as(role).call('PUT', app(f), { description: `edited by ${role}` }),
  },
  {
    key: 'repository:delete',
    registry: true,
    call: 'DELETE /projects/{p}/repositories/{r} and DELETE /v2/{p}/{r}/manifests/{digest}',
    ok: 200,
    async run(f, role) {
      const repo = `gone-${role.toLowerCase()}`;
      const digest = await pushImage(f, `${repo}-v2`, 'v1');
      const viaV2 = await v2(f, role, 'DELETE', `${repo}-v2/manifests/${digest}`);
      await pushImage(f, repo, 'v1');
      const viaApi = await f.as(role).call('DELETE', repoPath(f, repo));
      // Both doors must agree: 202 on /v2 where the API answers 200, 403 on both otherwise.
      if ((viaV2.status === 202) !== (viaApi.status === 200))
        return { status: -1, text: `/v2 said ${viaV2.status}, the API ${viaApi.status}` };
      return viaApi;
    },
  },
  {
    key: 'repository:pull',
    registry: true,
    call: 'GET /v2/{p}/{r}/manifests/v1',
    ok: 200,
    run: (f, role) => v2(f, role, 'GET', 'app/manifests/v1'),
  },
  {
    key: 'repository:push',
    registry: true,
    call: 'POST /v2/{p}/{r}/blobs/uploads/',
    ok: 202,
    run: (f, role) => v2(f, role, 'POST', 'app/blobs/uploads/'),
  },
  get(
    (f) => `/robots?q=${encodeURIComponent(`Level=project,ProjectID=${f.pid}`)}`,
    'robot:list',
    'GET /robots?q=Level=project,ProjectID={id}',
  ),
  get((f) => `/robots/${f.robotId ?? 0}`, 'robot:read'),
  {
    key: 'robot:create',
    call: 'POST /robots (level project)',
    ok: 201,
    run: (f, role) => f.as(role).call('POST', '/robots', robotBody(f, `made-by-${role.toLowerCase()}`)),
  },
  {
    key: 'robot:update',
    call: 'PUT /robots/{id}',
    ok: 200,
    async run(f, role) {
      const current = await f.admin.call<Record<string, unknown>>('GET', `/robots/${f.robotId ?? 0}`);
      if (current.status !== 200) return current;
      return f.as(role).call('PUT', `/robots/${f.robotId}`, { ...current.body, description: role });
    },
  },
  {
    key: 'robot:delete',
    call: 'DELETE /robots/{id}',
    ok: 200,
    async run(f, role) {
      const made = await f.admin.call<{ id: number }>(
        'POST',
        '/robots',
        robotBody(f, `doomed-${role.toLowerCase()}`),
      );
      if (made.status !== 201) return made;
      return f.as(role).call('DELETE', `/robots/${made.body.id}`);
    },
  },
  get((f) => `${app(f)}/artifacts/v1`, 'artifact:read'),
  {
    // Harbor gates two lists with artifact:list: a repository's and a whole project's (listArtifactsOfProject).
    key: 'artifact:list',
    call: 'GET /projects/{p}/repositories/app/artifacts and GET /projects/{p}/artifacts',
    ok: 200,
    async run(f, role) {
      const [repo, project] = await Promise.all([
        f.as(role).call('GET', `${app(f)}/artifacts`),
        f.as(role).call('GET', `/projects/${f.project}/artifacts`),
      ]);
      if (repo.status === project.status) return repo;
      return { status: -1, text: `the two lists disagree: ${repo.status} and ${project.status}` };
    },
  },
  {
    key: 'artifact:create',
    call: 'POST /projects/{p}/repositories/{r}/artifacts?from=',
    ok: 201,
    run: (f, role) =>
      f
        .as(role)
        .call('POST', `${repoPath(f, `copy-${role.toLowerCase()}`)}/artifacts?from=${f.project}/app:v1`),
  },
  {
    key: 'artifact:delete',
    call: 'DELETE /projects/{p}/repositories/{r}/artifacts/{ref}',
    ok: 200,
    async run(f, role) {
      await pushImage(f, 'doomed', role);
      return f.as(role).call('DELETE', `${repoPath(f, 'doomed')}/artifacts/${role}`);
    },
  },
  get((f) => `${app(f)}/artifacts/v1/additions/build_history`, 'artifact-addition:read'),
  get((f) => `${app(f)}/artifacts/v1/tags`, 'tag:list'),
  {
    key: 'tag:create',
    call: 'POST …/artifacts/{ref}/tags',
    ok: 201,
    run: (f, role) => f.as(role).call('POST', `${app(f)}/artifacts/v1/tags`, { name: `by-${role}` }),
  },
  {
    key: 'tag:delete',
    call: 'DELETE …/artifacts/{ref}/tags/{tag}',
    ok: 200,
    async run(f, role) {
      await f.admin.expect(201, 'POST', `${app(f)}/artifacts/v1/tags`, { name: `doomed-${role}` });
      return f.as(role).call('DELETE', `${app(f)}/artifacts/v1/tags/doomed-${role}`);
    },
  },
  get((f) => `${app(f)}/artifacts/v1/accessories`, 'accessory:list'),
  {
    key: 'artifact-label:create',
    call: 'POST …/artifacts/{ref}/labels',
    ok: 200,
    async run(f, role) {
      const res = await f.as(role).call('POST', `${app(f)}/artifacts/v1/labels`, { id: f.labelId });
      if (res.status === 200)
        await f.admin.expect(200, 'DELETE', `${app(f)}/artifacts/v1/labels/${f.labelId}`);
      return res;
    },
  },
  {
    key: 'artifact-label:delete',
    call: 'DELETE …/artifacts/{ref}/labels/{id}',
    ok: 200,
    async run(f, role) {
      await f.admin.expect(200, 'POST', `${app(f)}/artifacts/v1/labels`, { id: f.labelId });
      const res = await f.as(role).call('DELETE', `${app(f)}/artifacts/v1/labels/${f.labelId}`);
      if (res.status !== 200)
        await f.admin.expect(200, 'DELETE', `${app(f)}/artifacts/v1/labels/${f.labelId}`);
      return res;
    },
  },
  ...policyProbes,
  ...retentionProbes,
  ...webhookProbes,
  ...preheatProbes,
  ...scanProbes,
];

export function robotBody(f: Fixture, name: string) {
  return {
    name,
    description: 'role matrix',
    level: 'project',
    duration: -1,
    disable: false,
    permissions: [
      { kind: 'project', namespace: f.project, access: [{ resource: 'repository', action: 'pull' }] },
    ],
  };
}
