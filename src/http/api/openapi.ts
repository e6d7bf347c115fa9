import { z, type ZodType } from 'zod';
import type { ApiRouter } from './router.js';

type Json = Record<string, unknown>;

const errorsSchema: Json = {
  type: 'object',
  properties: {
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

function schemaOf(s: ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(s, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

/** Berth's own OpenAPI 3.0 document, built from the same zod schemas that validate requests. */
export function openApiDocument(router: ApiRouter, version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of router.operations) {
    const parameters: Json[] = [];
    for (const [where, s] of [
      ['path', op.params],
      ['query', op.query],
    ] as const) {
      if (!s) continue;
      const js = schemaOf(s, 'input');
      const props = (js.properties ?? {}) as Record<string, Json>;
      const required = new Set((js.required ?? []) as string[]);
      for (const [name, schema] of Object.entries(props)) {
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema });
      }
    }
    const success: Json = { description: op.summary };
    if (op.response) success.content = { 'application/json': { schema: schemaOf(op.response, 'output') } };
    if (op.headers?.length)
      success.headers = Object.fromEntries(op.headers.map((h) => [h, { schema: { type: 'string' } }]));
    const operation: Json = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      ...(parameters.length ? { parameters } : {}),
      responses: {
        [String(op.status)]: success,
        default: {
          description: "Harbor's error body",
          content: { 'application/json': { schema: errorsSchema } },
        },
      },
    };
    if (op.body)
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: schemaOf(op.body, 'input') } },
      };
    (paths[op.path] ??= {})[op.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Berth: Harbor REST API v2.0', version },
    servers: [{ url: '/api/v2.0' }],
    components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } },
    security: [{ basic: [] }, {}],
    paths,
  };
}
