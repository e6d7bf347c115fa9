import type { ReactNode } from 'react';
import type { PagedList } from '../api/hooks';
import { Empty, ErrorNote, Pager, Spinner } from './ui';

export interface ListSearch {
  value: string;
  onChange: (value: string) => void;
  /** The box's accessible name, e.g. "Filter projects by name". */
  label: string;
  placeholder: string;
}

/**
 * A paged Harbor list as every list page shows it: a toolbar (actions on the left; filters and a search box
 * on the right), notes (errors of actions), then a spinner, the list's error, an empty state or the table,
 * then the pager. Typing in the search box goes back to page 1. The page keeps the search text (its list
 * source needs it) and renders its dialogs after this.
 */
export function ListPage<T>(props: {
  list: PagedList<T>;
  /** The header row's cells (`<th>`s). */
  columns: ReactNode;
  /** One row (`<tr key=…>`) per item. */
  row: (item: T) => ReactNode;
  /** What an empty page says; a function gets whether a search is typed. */
  empty: ReactNode | ((searching: boolean) => ReactNode);
  actions?: ReactNode;
  filters?: ReactNode;
  search?: ListSearch;
  notes?: ReactNode;
  tableLabel?: string;
}) {
  const { list, search } = props;
  const items = list.data?.items;
  const right = props.filters || search;
  return (
    <>
      {props.actions || right ? (
        <div className="toolbar">
          {props.actions}
          {right ? <div className="grow" /> : null}
          {props.filters}
          {search ? (
            <input
              className="search"
              type="search"
              aria-label={search.label}
              placeholder={search.placeholder}
              value={search.value}
              onChange={(e) => {
                search.onChange(e.target.value);
                list.setPage(1);
              }}
            />
          ) : null}
        </div>
      ) : null}
      {props.notes}
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : items?.length === 0 ? (
        <Empty>{typeof props.empty === 'function' ? props.empty(!!search?.value) : props.empty}</Empty>
      ) : (
        <div className="table-wrap">
          <table aria-label={props.tableLabel}>
            <thead>
              <tr>{props.columns}</tr>
            </thead>
            <tbody>{items?.map((item) => props.row(item))}</tbody>
          </table>
        </div>
      )}
      {list.data ? (
        <Pager page={list.page} pageSize={list.pageSize} total={list.data.total} onPage={list.setPage} />
      ) : null}
    </>
  );
}
