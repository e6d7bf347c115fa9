/**
 * Every operation of Harbor's swagger.yaml is routed by Berth's /api/v2.0 plugin (issue 20).
 *
 * The plugin is registered on a bare Fastify instance with stand-in services that are never called (routes
 * are declared, not served), so this test needs no database, no storage and no port: it reads the route
 * table only. An operation may be missing for one of two reasons, each listed below with its reason:
 *  - `harborOnly`: it makes no sense in Berth (Harbor internals); this list is meant to stay.
 *  - `notYetBuilt`: it is owned by an engineer/issue still building it; this list shrinks as work lands, and
 *    an entry that becomes routed fails the test until it is removed here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import Fastify from 'fastify';
import { parse } from 'yaml';
import { apiPlugin } from '../../../src/http/api/index.js';
import type { ApiDeps } from '../../../src/http/api/deps.js';
import { swaggerPath } from '../../helpers/harbor-swagger.js';

/** Operations Berth deliberately does not serve, with the reason. */
// None today: every swagger operation has a meaning in Berth.
const harborOnly: Record<string, string> = {};

/** Operations not routed yet, with who is building them. Remove an entry when its operation lands. */
const notYetBuilt: Record<string, string> = {};

/** A stand-in for any service: every property is another stand-in, and calling one returns one. */
function standIn(): unknown {
  const fn = (): unknown => standIn();
  return new Proxy(fn, {
    get: (_t, key) => (key === 'then' || typeof key === 'symbol' ? undefined : standIn()),
  });
}

interface SwaggerOp {
  operationId: string;
  key: string;
}

function swaggerOperations(): SwaggerOp[] {
  const doc = parse(readFileSync(swaggerPath, 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const out: SwaggerOp[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters' || !op.operationId) continue;
      out.push({ operationId: op.operationId, key: routeKey(method, path.replace(/\{[^}]+\}/g, '{}')) });
    }
  }
  return out;
}

function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path.replace(/\/+$/, '')}`;
}

async function routedOperations(): Promise<Set<string>> {
  const app = Fastify();
  const routed = new Set<string>();
  app.addHook('onRoute', (route) => {
    const url = route.url.replace(/^\/api\/v2\.0/, '').replace(/:[^/]+/g, '{}');
    for (const m of [route.method].flat()) routed.add(routeKey(m, url));
  });
  const deps = standIn() as ApiDeps;
  await app.register((api) => apiPlugin(api, deps), { prefix: '/api/v2.0' });
  await app.ready();
  await app.close();
  return routed;
}

test('every operation of Harbor swagger.yaml is routed, or listed with its reason', async () => {
  const ops = swaggerOperations();
  assert.ok(ops.length >= 200, `swagger.yaml lists ${ops.length} operations`);
  const routed = await routedOperations();
  const missing = ops.filter((op) => !routed.has(op.key));
  const unexplained = missing
    .filter((op) => !(op.operationId in harborOnly) && !(op.operationId in notYetBuilt))
    .map((op) => `${op.operationId} (${op.key})`);
  assert.deepEqual(unexplained, [], 'operations neither routed nor listed as exceptions');
  const landed = ops
    .filter((op) => routed.has(op.key) && (op.operationId in harborOnly || op.operationId in notYetBuilt))
    .map((op) => op.operationId);
  assert.deepEqual(landed, [], 'routed operations still listed as exceptions: remove them from the lists');
  const known = new Set(ops.map((op) => op.operationId));
  const stale = [...Object.keys(harborOnly), ...Object.keys(notYetBuilt)].filter((id) => !known.has(id));
  assert.deepEqual(stale, [], 'exceptions naming no swagger operation');
});
