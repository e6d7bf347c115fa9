import { z } from 'zod';
import { immutableRuleFields } from '../../db/repos/immutable-rules.js';
import {
  immutableRuleInput,
  type ImmutableRule,
  type Selector,
} from '../../services/policies/immutability/immutable-rule.js';
import { contextOf } from '../context.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { listParams, q, type ApiRouter } from './router.js';

const tag = 'immutable';
const resource = 'immutable-tag';
const projectRef = z.object({ project_name_or_id: z.string().min(1).max(255) });
const ruleRef = projectRef.extend({ immutable_rule_id: q.id });

const selectorModel = z.object({ kind: z.string(), decoration: z.string(), pattern: z.string() });
const immutableRuleModel = z.object({
  id: z.number().int(),
  priority: z.number().int(),
  disabled: z.boolean(),
  action: z.string(),
  template: z.string(),
  tag_selectors: z.array(selectorModel),
  scope_selectors: z.record(z.string(), z.array(selectorModel)),
});

const renderSelector = (s: Selector) => ({ kind: s.kind, decoration: s.decoration, pattern: s.pattern });

/** Harbor's ImmutableRule as its API answers it. */
function renderRule(rule: ImmutableRule) {
  return {
    id: rule.id,
    priority: rule.priority,
    disabled: rule.disabled,
    action: rule.action,
    template: rule.template,
    tag_selectors: rule.tagSelectors.map(renderSelector),
    scope_selectors: { repository: rule.scopeSelectors.repository.map(renderSelector) },
  };
}

/** Harbor's `immutable` tag: /projects/{project_name_or_id}/immutabletagrules… */
export function immutableRoutes(api: ApiRouter, deps: ApiDeps): void {
  const rules = deps.immutability;

  api.add({
    operationId: 'ListImmuRules',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/immutabletagrules',
    summary: 'List all immutable tag rules of current project',
    params: projectRef,
    query: z.object(listParams),
    status: 200,
    response: z.array(immutableRuleModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const list = parseListQuery(query, immutableRuleFields);
      const project = await projectFor(deps, request, params.project_name_or_id, 'list', resource);
      const page = await rules.list(contextOf(request), project, list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderRule);
    },
  });

  api.add({
    operationId: 'CreateImmuRule',
    tag,
    method: 'POST',
    path: '/projects/{project_name_or_id}/immutabletagrules',
    summary: 'Add an immutable tag rule to current project',
    params: projectRef,
    body: immutableRuleInput,
    status: 201,
    headers: ['Location'],
    handler: async ({ params, body }, request, reply) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'create', resource);
      const id = await rules.create(contextOf(request), project, body);
      reply.header('Location', `/api/v2.0/projects/${params.project_name_or_id}/immutabletagrules/${id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'UpdateImmuRule',
    tag,
    method: 'PUT',
    path: '/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}',
    summary: 'Update the immutable tag rule or enable or disable the rule',
    params: ruleRef,
    body: immutableRuleInput,
    status: 200,
    handler: async ({ params, body }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'update', resource);
      await rules.update(contextOf(request), project, params.immutable_rule_id, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'DeleteImmuRule',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}',
    summary: 'Delete the immutable tag rule.',
    params: ruleRef,
    status: 200,
    handler: async ({ params }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'delete', resource);
      await rules.delete(contextOf(request), project, params.immutable_rule_id);
      return undefined;
    },
  });
}
