import type { FastifyReply, FastifyRequest } from 'fastify';
import { anonymous, operatorOf } from '../services/access/subject.js';
import type { Actor, RequestContext } from '../services/context.js';

/** The service context of a request. `reply` adds a signal that fires if the client goes away. */
export function contextOf(request: FastifyRequest, reply?: FastifyReply): RequestContext {
  const actor = actorOf(request);
  if (!reply) return { log: request.log, actor };
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return { log: request.log, signal: controller.signal, actor };
}

/** The caller as the audit log names it (nobody is known when a request failed before authentication). */
export function actorOf(request: FastifyRequest): Actor {
  return {
    username: operatorOf(request.subject ?? anonymous),
    clientIp: request.ip,
    userAgent: String(request.headers['user-agent'] ?? ''),
  };
}
