import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Harbor's own swagger.yaml, read at test time from the shared reference next to the checkout
 * (`<checkout>/../shared/harbor-api/swagger.yaml`), never copied into the project.
 */
export const swaggerPath = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'shared',
  'harbor-api',
  'swagger.yaml',
);

type Json = Record<string, unknown>;

export interface SwaggerOperation {
  operationId: string;
  method: string;
  path: string;
  /** Status → response schema (undefined when the status carries no body). */
  responses: Map<string, Json | undefined>;
  /** Matches a concrete request path (under /api/v2.0) against the operation's template. */
  pattern: RegExp;
}

/** Swagger 2.0 `x-nullable: true` → JSON Schema that also allows null. */
function nullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullable);
  if (typeof node !== 'object' || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = nullable(v);
  if (out['x-nullable'] === true) {
    const { ['x-nullable']: _drop, description: _d, ...rest } = out;
    return { anyOf: [rest, { type: 'null' }] };
  }
  return out;
}

export class HarborSwagger {
  readonly operations = new Map<string, SwaggerOperation>();
  private readonly ajv: Ajv;
  private readonly cache = new Map<Json, ValidateFunction>();
  private readonly definitions: Json;

  constructor(text: string) {
    const doc = parse(text) as {
      paths: Record<string, Record<string, Json>>;
      definitions: Json;
      responses: Record<string, Json>;
    };
    this.ajv = new Ajv({ strict: false, allErrors: true });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
    addFormats(this.ajv);
    this.ajv.addFormat('int32', true);
    this.ajv.addFormat('int64', true);
    this.definitions = nullable(doc.definitions) as Json;
    this.ajv.addSchema({ $id: 'harbor', definitions: this.definitions });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const responses = new Map<string, Json | undefined>();
        for (const [code, r] of Object.entries(op.responses as Record<string, Json>)) {
          const resolved = typeof r.$ref === 'string' ? doc.responses[r.$ref.split('/').pop()!]! : r;
          responses.set(code, resolved.schema as Json | undefined);
        }
        const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`);
        this.operations.set(op.operationId as string, {
          operationId: op.operationId as string,
          method: method.toUpperCase(),
          path,
          responses,
          pattern,
        });
      }
    }
  }

  /** Replaces one definition (for documented differences between Harbor's spec and its answers). */
  patchDefinition(name: string, schema: Json): void {
    this.definitions[name] = schema;
    this.ajv.removeSchema('harbor');
    this.ajv.addSchema({ $id: 'harbor', definitions: this.definitions });
    this.cache.clear();
  }

  static load(): HarborSwagger | undefined {
    return existsSync(swaggerPath) ? new HarborSwagger(readFileSync(swaggerPath, 'utf8')) : undefined;
  }

  /** Errors of `body` against the schema (with `#/definitions` refs resolved inside Harbor's spec). */
  validate(schema: Json, body: unknown): string[] {
    let fn = this.cache.get(schema);
    if (!fn) {
      const rewritten = JSON.parse(
        JSON.stringify(nullable(schema)).replaceAll('"#/definitions/', '"harbor#/definitions/'),
      ) as Json;
      fn = this.ajv.compile(rewritten);
      this.cache.set(schema, fn);
    }
    return fn(body) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  }
}
