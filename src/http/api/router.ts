import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z, type ZodType } from 'zod';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

type Out<S> = S extends ZodType ? z.output<S> : undefined;

/** One Harbor operation: where it lives, what it accepts and answers, and the handler. */
export interface Operation<
  P extends ZodType | undefined = undefined,
  Q extends ZodType | undefined = undefined,
  B extends ZodType | undefined = undefined,
> {
  /** Harbor's swagger operationId. */
  operationId: string;
  /** Harbor's swagger tag (the file the handler lives in). */
  tag: string;
  method: Method;
  /** Path under /api/v2.0 in swagger form: `/projects/{project_name}`. */
  path: string;
  /** Another path that answers the same (undocumented): Harbor's `metadatas/` is also reached without `/`. */
  alsoAt?: string;
  summary: string;
  params?: P;
  query?: Q;
  /** Request body; objects should be strict so unknown fields are refused. */
  body?: B;
  /** Success status. */
  status: number;
  /** Success body, when there is one (documentation; the contract test checks it against Harbor's). */
  response?: ZodType;
  /** Response headers worth documenting (X-Total-Count, Link, Location). */
  headers?: readonly string[];
  /** Returns the body to send with `status`, or undefined for none. May set headers on `reply`. */
  handler(
    input: { params: Out<P>; query: Out<Q>; body: Out<B> },
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<unknown>;
}

type AnyOperation = Operation<ZodType | undefined, ZodType | undefined, ZodType | undefined>;

/**
 * Declares /api/v2.0 operations: validates params, query and body with their zod schemas before the handler
 * runs (a ZodError renders as BAD_REQUEST), and keeps every declaration for the OpenAPI document.
 */
export class ApiRouter {
  readonly operations: AnyOperation[] = [];

  constructor(private readonly app: FastifyInstance) {}

  add<
    P extends ZodType | undefined = undefined,
    Q extends ZodType | undefined = undefined,
    B extends ZodType | undefined = undefined,
  >(op: Operation<P, Q, B>): void {
    const any = op as unknown as AnyOperation;
    this.operations.push(any);
    for (const path of op.alsoAt ? [op.path, op.alsoAt] : [op.path]) this.route(any, path);
  }

  private route(op: AnyOperation, path: string): void {
    const any = op;
    this.app.route({
      method: op.method,
      url: path.replace(/\{([^}]+)\}/g, ':$1'),
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        const input = {
          params: any.params ? await any.params.parseAsync(request.params) : undefined,
          query: any.query ? await any.query.parseAsync(request.query ?? {}) : undefined,
          body: any.body ? await any.body.parseAsync(request.body) : undefined,
        };
        const body = await any.handler(input, request, reply);
        if (reply.sent) return reply;
        reply.code(op.status);
        if (body === undefined || op.method === 'HEAD') return reply.send();
        return typeof body === 'string' ? reply.type('text/plain').send(body) : reply.send(body);
      },
    });
  }
}

/** Query values Harbor clients send as text. */
export const q = {
  bool: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .meta({ type: 'boolean' }),
  int: z.coerce.number().int(),
  id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
};

/**
 * A repository name from a path: Harbor's clients URL-encode it twice (`a%252Fb`), the router decodes
 * once, so decode the second layer here. A name encoded once (`a%2Fb`) arrives decoded and stays as is.
 */
export const repositoryNameParam = z
  .string()
  .min(1)
  .transform((v, ctx) => {
    try {
      return decodeURIComponent(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'malformed percent-encoding in repository name' });
      return z.NEVER;
    }
  });

/** page/page_size/q/sort as every list takes them. */
export const listParams = {
  q: z.string().max(4096).optional(),
  sort: z.string().max(1024).optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  page_size: z.coerce.number().int().min(1).max(100).optional(),
};
