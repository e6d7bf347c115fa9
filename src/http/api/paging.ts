import type { FastifyReply, FastifyRequest } from 'fastify';
import { defaultPageSize, linkHeader } from './list-query.js';

/** page/page_size → offset/limit, for lists without `q`/`sort`. */
export function pageOf(query: { page?: number; page_size?: number }) {
  const page = query.page ?? 1;
  const pageSize = query.page_size ?? defaultPageSize;
  return { page, pageSize, offset: (page - 1) * pageSize, limit: pageSize };
}

/** X-Total-Count and Link, as every Harbor list answers. */
export function setPageHeaders(
  request: FastifyRequest,
  reply: FastifyReply,
  total: number,
  page: { page: number; pageSize: number },
): void {
  reply.header('x-total-count', String(total));
  const link = linkHeader(request.url, total, page.page, page.pageSize);
  if (link) reply.header('link', link);
}
