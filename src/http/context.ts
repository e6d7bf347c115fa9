import type { FastifyReply, FastifyRequest } from 'fastify';
import { anonymous, operatorOf } from '../services/access/subject.js';
import type { RequestContext } from '../services/context.js';

/** The service context of a request. `abortable` adds a signal that fires if the client goes away. */
export function contextOf(request: FastifyRequest, reply?: FastifyReply): RequestContext {
  const operator = operatorOf(request.subject ?? anonymous);
  if (!reply) return { log: request.log, operator };
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return { log: request.log, signal: controller.signal, operator };
}
