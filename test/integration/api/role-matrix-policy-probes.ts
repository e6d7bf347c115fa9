// Role-matrix probes for the project policies (tag immutability, …): see role-matrix-probes.ts.
import type { Fixture, Probe, Who } from './role-matrix-probes.js';

const immutableRules = (f: Fixture) => `/projects/${f.pid}/immutabletagrules`;

/** An immutability rule no other probe makes (a duplicate would be refused with 409). */
function immutableRule(who: Who, n: number) {
  return {
    action: 'immutable',
    template: 'immutable_template',
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: `probe-${who}-${n}` }],
    scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
  };
}

/** A rule made by the admin for a probe to act on; returns its id. */
async function adminRule(f: Fixture, who: Who, n: number): Promise<number> {
  const res = await f.admin.expect(201, 'POST', immutableRules(f), immutableRule(who, n));
  return Number(res.headers.get('location')!.split('/').pop());
}

export const policyProbes: Probe[] = [
  {
    key: 'immutable-tag:list',
    call: 'GET /projects/{id}/immutabletagrules',
    ok: 200,
    run: (f, role) => f.as(role).call('GET', immutableRules(f)),
  },
  {
    key: 'immutable-tag:create',
    call: 'POST /projects/{id}/immutabletagrules',
    ok: 201,
    async run(f, role) {
      const res = await f.as(role).call('POST', immutableRules(f), immutableRule(role, 1));
      if (res.status === 201)
        await f.admin.expect(200, 'DELETE', res.headers.get('location')!.replace('/api/v2.0', ''));
      return res;
    },
  },
  {
    key: 'immutable-tag:update',
    call: 'PUT /projects/{id}/immutabletagrules/{rule}',
    ok: 200,
    async run(f, role) {
      const id = await adminRule(f, role, 2);
      const res = await f.as(role).call('PUT', `${immutableRules(f)}/${id}`, {
        ...immutableRule(role, 2),
        disabled: true,
      });
      await f.admin.expect(200, 'DELETE', `${immutableRules(f)}/${id}`);
      return res;
    },
  },
  {
    key: 'immutable-tag:delete',
    call: 'DELETE /projects/{id}/immutabletagrules/{rule}',
    ok: 200,
    async run(f, role) {
      const id = await adminRule(f, role, 3);
      const res = await f.as(role).call('DELETE', `${immutableRules(f)}/${id}`);
      if (res.status !== 200) await f.admin.expect(200, 'DELETE', `${immutableRules(f)}/${id}`);
      return res;
    },
  },
];

/** A tag retention policy of the fixture project (one per project). */
const retentionBody = (f: Fixture) => ({
  algorithm: 'or',
  rules: [
    {
      action: 'retain',
      template: 'always',
      params: {},
      tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }],
      scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
    },
  ],
  trigger: { kind: 'Schedule', settings: { cron: '' } },
  scope: { level: 'project', ref: f.pid },
});

/** The project's retention policy id (`retention_id`), made by the admin when there is none. */
async function retentionId(f: Fixture): Promise<number> {
  const meta = await f.admin.expect<Record<string, string>>(200, 'GET', `/projects/${f.pid}/metadatas/`);
  if (meta.body.retention_id) return Number(meta.body.retention_id);
  const res = await f.admin.expect(201, 'POST', '/retentions', retentionBody(f));
  return Number(res.headers.get('location')!.split('/').pop());
}

export const retentionProbes: Probe[] = [
  {
    key: 'tag-retention:read',
    call: 'GET /retentions/{id}',
    ok: 200,
    run: async (f, role) => f.as(role).call('GET', `/retentions/${await retentionId(f)}`),
  },
  {
    key: 'tag-retention:list',
    call: 'GET /retentions/{id}/executions',
    ok: 200,
    run: async (f, role) => f.as(role).call('GET', `/retentions/${await retentionId(f)}/executions`),
  },
  {
    key: 'tag-retention:create',
    call: 'POST /retentions',
    ok: 201,
    async run(f, role) {
      await f.admin.expect(200, 'DELETE', `/retentions/${await retentionId(f)}`);
      return f.as(role).call('POST', '/retentions', retentionBody(f));
    },
  },
  {
    key: 'tag-retention:update',
    call: 'PUT /retentions/{id}',
    ok: 200,
    run: async (f, role) => f.as(role).call('PUT', `/retentions/${await retentionId(f)}`, retentionBody(f)),
  },
  {
    key: 'tag-retention:delete',
    call: 'DELETE /retentions/{id}',
    ok: 200,
    run: async (f, role) => f.as(role).call('DELETE', `/retentions/${await retentionId(f)}`),
  },
];

const webhookPolicies = (f: Fixture) => `/projects/${f.pid}/webhook/policies`;

/** A webhook policy no other probe makes (a duplicate name is refused with 409). */
const webhookPolicy = (who: Who, n: number) => ({
  name: `probe-${who}-${n}`,
  enabled: false,
  event_types: ['PUSH_ARTIFACT'],
  targets: [{ type: 'http', address: 'http://127.0.0.1:9/hook' }],
});

/** A webhook policy made by the admin for a probe to act on; returns its id. */
async function adminWebhook(f: Fixture, who: Who, n: number): Promise<number> {
  const res = await f.admin.expect(201, 'POST', webhookPolicies(f), webhookPolicy(who, n));
  return Number(res.headers.get('location')!.split('/').pop());
}

export const webhookProbes: Probe[] = [
  {
    key: 'notification-policy:list',
    call: 'GET /projects/{id}/webhook/policies',
    ok: 200,
    run: (f, role) => f.as(role).call('GET', webhookPolicies(f)),
  },
  {
    key: 'notification-policy:read',
    call: 'GET /projects/{id}/webhook/lasttrigger',
    ok: 200,
    run: (f, role) => f.as(role).call('GET', `/projects/${f.pid}/webhook/lasttrigger`),
  },
  {
    key: 'notification-policy:create',
    call: 'POST /projects/{id}/webhook/policies',
    ok: 201,
    async run(f, role) {
      const res = await f.as(role).call('POST', webhookPolicies(f), webhookPolicy(role, 1));
      if (res.status === 201)
        await f.admin.expect(200, 'DELETE', res.headers.get('location')!.replace('/api/v2.0', ''));
      return res;
    },
  },
  {
    key: 'notification-policy:update',
    call: 'PUT /projects/{id}/webhook/policies/{policy}',
    ok: 200,
    async run(f, role) {
      const id = await adminWebhook(f, role, 2);
      const res = await f.as(role).call('PUT', `${webhookPolicies(f)}/${id}`, webhookPolicy(role, 2));
      await f.admin.expect(200, 'DELETE', `${webhookPolicies(f)}/${id}`);
      return res;
    },
  },
  {
    key: 'notification-policy:delete',
    call: 'DELETE /projects/{id}/webhook/policies/{policy}',
    ok: 200,
    async run(f, role) {
      const id = await adminWebhook(f, role, 3);
      const res = await f.as(role).call('DELETE', `${webhookPolicies(f)}/${id}`);
      if (res.status !== 200) await f.admin.expect(200, 'DELETE', `${webhookPolicies(f)}/${id}`);
      return res;
    },
  },
];

const preheatPolicies = (f: Fixture) => `/projects/${f.project}/preheat/policies`;

/** A preheat policy on the matrix's provider instance (made once, never pinged). */
async function preheatPolicy(f: Fixture, name: string) {
  let instance = await f.admin.call<{ id: number }>('GET', '/p2p/preheat/instances/matrix-df');
  if (instance.status === 404) {
    await f.admin.expect(201, 'POST', '/p2p/preheat/instances', {
      name: 'matrix-df',
      vendor: 'dragonfly',
      endpoint: 'http://127.0.0.1:1/df',
      enabled: true,
    });
    instance = await f.admin.expect<{ id: number }>(200, 'GET', '/p2p/preheat/instances/matrix-df');
  }
  return {
    name,
    provider_id: instance.body.id,
    filters: JSON.stringify([{ type: 'repository', value: '**' }]),
    trigger: JSON.stringify({ type: 'manual', trigger_setting: { cron: '' } }),
    enabled: true,
  };
}

/** A policy the admin makes for a probe to act on; returns its name. */
async function adminPreheatPolicy(f: Fixture, name: string): Promise<string> {
  await f.admin.expect(201, 'POST', preheatPolicies(f), await preheatPolicy(f, name));
  return name;
}

export const preheatProbes: Probe[] = [
  {
    key: 'preheat-policy:list',
    call: 'GET /projects/{p}/preheat/policies',
    ok: 200,
    run: (f, role) => f.as(role).call('GET', preheatPolicies(f)),
  },
  {
    key: 'preheat-policy:read',
    call: 'GET /projects/{p}/preheat/policies/{name}',
    ok: 200,
    async run(f, role) {
      const name = await adminPreheatPolicy(f, `read-${role}`);
      const res = await f.as(role).call('GET', `${preheatPolicies(f)}/${name}`);
      await f.admin.expect(200, 'DELETE', `${preheatPolicies(f)}/${name}`);
      return res;
    },
  },
  {
    key: 'preheat-policy:create',
    call: 'POST /projects/{p}/preheat/policies',
    ok: 201,
    async run(f, role) {
      const res = await f.as(role).call('POST', preheatPolicies(f), await preheatPolicy(f, `new-${role}`));
      if (res.status === 201) await f.admin.expect(200, 'DELETE', `${preheatPolicies(f)}/new-${role}`);
      return res;
    },
  },
  {
    key: 'preheat-policy:update',
    call: 'PUT /projects/{p}/preheat/policies/{name}',
    ok: 200,
    async run(f, role) {
      const name = await adminPreheatPolicy(f, `update-${role}`);
      const res = await f
        .as(role)
        .call('PUT', `${preheatPolicies(f)}/${name}`, { ...(await preheatPolicy(f, name)), enabled: false });
      await f.admin.expect(200, 'DELETE', `${preheatPolicies(f)}/${name}`);
      return res;
    },
  },
  {
    key: 'preheat-policy:delete',
    call: 'DELETE /projects/{p}/preheat/policies/{name}',
    ok: 200,
    async run(f, role) {
      const name = await adminPreheatPolicy(f, `delete-${role}`);
      const res = await f.as(role).call('DELETE', `${preheatPolicies(f)}/${name}`);
      if (res.status !== 200) await f.admin.expect(200, 'DELETE', `${preheatPolicies(f)}/${name}`);
      return res;
    },
  },
];
