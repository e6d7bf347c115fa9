// The calls of the contract test for the project policy tags, `immutable` and `Retention` (kept apart:
// contract.test.ts is long).
import type { Call } from './contract-gc-calls.js';

/** The `immutable` tag's operations; `{id}` is the rule the create call made. */
export function immutableCalls(): Call[] {
  const rules = '/projects/ci/immutabletagrules';
  const rule = {
    disabled: false,
    action: 'immutable',
    template: 'immutable_template',
    priority: 0,
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }],
    scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
  };
  const badPattern = {
    ...rule,
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '[v' }],
  };
  return [
    { op: 'CreateImmuRule', method: 'POST', path: rules, body: rule, status: 201 },
    { op: 'CreateImmuRule', method: 'POST', path: rules, body: badPattern, status: 400 },
    {
      op: 'CreateImmuRule',
      method: 'POST',
      path: '/projects/nope/immutabletagrules',
      body: rule,
      status: 404,
    },
    { op: 'ListImmuRules', method: 'GET', path: `${rules}?page=1&page_size=10`, status: 200 },
    { op: 'ListImmuRules', method: 'GET', path: `${rules}?page_size=500`, status: 400 },
    {
      op: 'UpdateImmuRule',
      method: 'PUT',
      path: `${rules}/{id}`,
      body: { ...rule, disabled: true },
      status: 200,
    },
    { op: 'UpdateImmuRule', method: 'PUT', path: `${rules}/{id}`, body: badPattern, status: 400 },
    { op: 'UpdateImmuRule', method: 'PUT', path: `${rules}/999999`, body: rule, status: 404 },
    { op: 'DeleteImmuRule', method: 'DELETE', path: `${rules}/{id}`, status: 200 },
    { op: 'DeleteImmuRule', method: 'DELETE', path: `${rules}/{id}`, status: 404 },
  ];
}

/**
 * The `Retention` tag's operations, in two parts: before, up to the dry run that `{eid}` names (`{id}` is the
 * policy made here), and after, once that run's task `{tid}` has ended.
 */
export function retentionCalls(projectId: number): [Call[], Call[]] {
  const policy = {
    algorithm: 'or',
    rules: [
      {
        disabled: false,
        action: 'retain',
        template: 'latestPushedK',
        params: { latestPushedK: 10 },
        tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }],
        scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
      },
    ],
    trigger: { kind: 'Schedule', settings: { cron: '' }, references: {} },
    scope: { level: 'project', ref: projectId },
  };
  const badTemplate = { ...policy, rules: [{ ...policy.rules[0]!, template: 'keepEverything' }] };
  const executions = '/retentions/{id}/executions';
  return [
    [
      { op: 'getRentenitionMetadata', method: 'GET', path: '/retentions/metadatas', status: 200 },
      { op: 'createRetention', method: 'POST', path: '/retentions', body: policy, status: 201 },
      { op: 'createRetention', method: 'POST', path: '/retentions', body: badTemplate, status: 400 },
      { op: 'getRetention', method: 'GET', path: '/retentions/{id}', status: 200 },
      { op: 'getRetention', method: 'GET', path: '/retentions/999999', status: 404 },
      {
        op: 'updateRetention',
        method: 'PUT',
        path: '/retentions/{id}',
        body: { ...policy, trigger: { ...policy.trigger, settings: { cron: '0 0 0 * * *' } } },
        status: 200,
      },
      { op: 'updateRetention', method: 'PUT', path: '/retentions/{id}', body: badTemplate, status: 400 },
      {
        op: 'triggerRetentionExecution',
        method: 'POST',
        path: executions,
        body: { dry_run: true },
        status: 201,
      },
      {
        op: 'triggerRetentionExecution',
        method: 'POST',
        path: '/retentions/999999/executions',
        body: { dry_run: true },
        status: 404,
      },
    ],
    [
      {
        op: 'listRetentionExecutions',
        method: 'GET',
        path: `${executions}?page=1&page_size=10`,
        status: 200,
      },
      { op: 'listRetentionTasks', method: 'GET', path: `${executions}/{eid}/tasks`, status: 200 },
      { op: 'listRetentionTasks', method: 'GET', path: `${executions}/999999/tasks`, status: 404 },
      { op: 'getRetentionTaskLog', method: 'GET', path: `${executions}/{eid}/tasks/{tid}`, status: 200 },
      { op: 'getRetentionTaskLog', method: 'GET', path: `${executions}/{eid}/tasks/999999`, status: 404 },
      {
        op: 'operateRetentionExecution',
        method: 'PATCH',
        path: `${executions}/{eid}`,
        body: { action: 'stop' },
        status: 200,
      },
      {
        op: 'operateRetentionExecution',
        method: 'PATCH',
        path: `${executions}/{eid}`,
        body: { action: 'pause' },
        status: 400,
      },
      { op: 'deleteRetention', method: 'DELETE', path: '/retentions/{id}', status: 200 },
      { op: 'deleteRetention', method: 'DELETE', path: '/retentions/{id}', status: 404 },
    ],
  ];
}

/** Harbor's RetentionRule as Harbor answers it: `params` values are numbers, not the objects swagger.yaml says. */
export const retentionRuleSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    priority: { type: 'integer' },
    disabled: { type: 'boolean' },
    action: { type: 'string' },
    template: { type: 'string' },
    params: { type: 'object' },
    tag_selectors: { type: 'array', items: { $ref: '#/definitions/RetentionSelector' } },
    scope_selectors: {
      type: 'object',
      additionalProperties: { type: 'array', items: { $ref: '#/definitions/RetentionSelector' } },
    },
  },
};
