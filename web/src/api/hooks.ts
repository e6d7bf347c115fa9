import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { apiPage, type RequestOptions } from './client';

export const PAGE_SIZE = 15;

/**
 * One Harbor list as a page asks for it: the query key (from the resource module's key factory, filters
 * included), the path and the filters. The resource modules in this folder build these; pages pass them to
 * `usePagedList`.
 */
export interface ListSource<T> {
  key: readonly unknown[];
  path: string;
  query?: RequestOptions['query'];
  /** Never set: carries the row type from the module to the page. */
  readonly row?: T;
}

export function listSource<T>(
  key: readonly unknown[],
  path: string,
  query: RequestOptions['query'] = {},
): ListSource<T> {
  return { key, path, query };
}

/**
 * One page of a Harbor list at a time (page + page_size; X-Total-Count for the pager), keeping the previous
 * page on screen while the next loads, so a list of 10 000 stays responsive.
 */
export function usePagedList<T>(
  source: ListSource<T>,
  options: { pageSize?: number; poll?: (items: T[]) => boolean } = {},
) {
  const [page, setPage] = useState(1);
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const { poll } = options;
  const result = useQuery({
    queryKey: [...source.key, page, pageSize],
    queryFn: ({ signal }) =>
      apiPage<T>(source.path, { query: { ...source.query, page, page_size: pageSize }, signal }),
    placeholderData: keepPreviousData,
    // Lists whose rows change by themselves (running executions) refresh while `poll` says so; a list not
    // fetched yet (or refused) counts as empty, so `poll` can ask to try again.
    refetchInterval: poll ? (q) => (poll(q.state.data?.items ?? []) ? 1500 : false) : false,
  });
  return { ...result, page, setPage, pageSize };
}

export type PagedList<T> = ReturnType<typeof usePagedList<T>>;

/** A mutation that refreshes the given query keys (prefixes, from the key factories) when it succeeds. */
export function useAction<A, R>(fn: (arg: A) => Promise<R>, invalidate: (readonly unknown[])[]) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async () => {
      await Promise.all(invalidate.map((k) => client.invalidateQueries({ queryKey: k })));
    },
  });
}
