import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { apiPage, type RequestOptions } from './client';

export const PAGE_SIZE = 15;

/**
 * One page of a Harbor list at a time (page + page_size; X-Total-Count for the pager), keeping the previous
 * page on screen while the next loads, so a list of 10 000 stays responsive.
 */
export function usePagedList<T>(
  key: unknown[],
  path: string,
  query: RequestOptions['query'] = {},
  options: { pageSize?: number; poll?: (items: T[]) => boolean } = {},
) {
  const [page, setPage] = useState(1);
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const { poll } = options;
  const result = useQuery({
    queryKey: [...key, page, pageSize, query],
    queryFn: ({ signal }) => apiPage<T>(path, { query: { ...query, page, page_size: pageSize }, signal }),
    placeholderData: keepPreviousData,
    // Lists whose rows change by themselves (running executions) refresh while `poll` says so; a list not
    // fetched yet (or refused) counts as empty, so `poll` can ask to try again.
    refetchInterval: poll ? (q) => (poll(q.state.data?.items ?? []) ? 1500 : false) : false,
  });
  return { ...result, page, setPage, pageSize };
}

/** A mutation that refreshes the given query keys when it succeeds. */
export function useAction<A, R>(fn: (arg: A) => Promise<R>, invalidate: unknown[][]) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async () => {
      await Promise.all(invalidate.map((k) => client.invalidateQueries({ queryKey: k })));
    },
  });
}
