import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  executionList,
  replicationKeys,
  stopExecution,
  taskLogQuery,
  tasksQuery,
} from '../../api/replication';
import type { ReplicationExecution, ReplicationPolicy, ReplicationTask } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { Dialog, ErrorNote, formatTime, QueryState } from '../../components/ui';

export const RUNNING = /^(pending|running|inprogress|in_progress|scheduled)$/i;

export function StatusBadge({ status }: { status: string }) {
  const cls = /succeed|success/i.test(status)
    ? 'badge badge-ok'
    : /fail|error/i.test(status)
      ? 'badge badge-bad'
      : /stop/i.test(status)
        ? 'badge badge-warn'
        : 'badge';
  return (
    <span className={cls} data-status={status}>
      {status}
    </span>
  );
}

/**
 * Executions (all, or of one rule): status, counts, stop; open one to see its tasks and their logs.
 * `started` is the id of an execution this page just started: the list keeps refreshing until it shows it
 * (a refresh that raced the start, or one refused while Berth was busy, does not leave it missing).
 */
export function ExecutionsPanel({
  policy,
  started,
}: {
  policy: ReplicationPolicy | null;
  started?: { policyId: number; id: number };
}) {
  const [open, setOpen] = useState<ReplicationExecution | null>(null);
  const awaited =
    started && Number.isFinite(started.id) && (!policy || policy.id === started.policyId)
      ? started.id
      : undefined;
  const list = usePagedList(executionList(policy?.id), {
    poll: (items) =>
      items.some((e) => RUNNING.test(e.status)) ||
      (awaited !== undefined && !items.some((e) => e.id === awaited)),
  });
  const stop = useAction((e: ReplicationExecution) => stopExecution(e.id), [replicationKeys.executions()]);
  return (
    <section aria-label="Executions">
      <h2>Executions{policy ? ` of ${policy.name}` : ''}</h2>
      <ErrorNote error={stop.error} title="Could not stop the execution" />
      <ListPage
        list={list}
        empty="No executions yet."
        columns={
          <>
            <th>ID</th>
            <th>Status</th>
            <th className="hide-narrow">Trigger</th>
            <th className="hide-narrow">Start Time</th>
            <th className="hide-narrow">Duration</th>
            <th>Succeeded / Total</th>
            <th aria-label="Actions" />
          </>
        }
        row={(e) => (
          <tr key={e.id} data-execution={e.id}>
            <td>
              <button type="button" className="link" onClick={() => setOpen(e)}>
                {e.id}
              </button>
            </td>
            <td>
              <StatusBadge status={e.status} />
              {e.status_text ? <div className="muted">{e.status_text}</div> : null}
            </td>
            <td className="hide-narrow">{e.trigger}</td>
            <td className="hide-narrow">{formatTime(e.start_time)}</td>
            <td className="hide-narrow">{duration(e)}</td>
            <td>
              {e.succeed ?? 0} / {e.total ?? 0}
              {e.failed ? <span className="badge badge-bad">{e.failed} failed</span> : null}
            </td>
            <td>
              {RUNNING.test(e.status) ? (
                <button type="button" className="btn btn-small" onClick={() => stop.mutate(e)}>
                  Stop
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {open ? <TasksDialog execution={open} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}

function duration(e: ReplicationExecution): string {
  if (!e.start_time) return '—';
  const end = e.end_time && !e.end_time.startsWith('0001-') ? new Date(e.end_time) : new Date();
  const s = Math.max(0, Math.round((end.getTime() - new Date(e.start_time).getTime()) / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

function TasksDialog({ execution, onClose }: { execution: ReplicationExecution; onClose: () => void }) {
  const [log, setLog] = useState<ReplicationTask | null>(null);
  const tasks = useQuery({
    ...tasksQuery(execution.id),
    refetchInterval: (q) => (q.state.data?.items.some((t) => RUNNING.test(t.status)) ? 1500 : false),
  });
  const logText = useQuery({ ...taskLogQuery(execution.id, log?.id), enabled: !!log });
  return (
    <Dialog title={`Execution ${execution.id}`} onClose={onClose} wide>
      <QueryState query={tasks} empty={(t) => t.items.length === 0} emptyText="This execution has no tasks.">
        {(t) => (
          <div className="table-wrap">
            <table aria-label="Tasks">
              <thead>
                <tr>
                  <th>Resource</th>
                  <th>Destination</th>
                  <th>Operation</th>
                  <th>Status</th>
                  <th aria-label="Log" />
                </tr>
              </thead>
              <tbody>
                {t.items.map((task) => (
                  <tr key={task.id}>
                    <td>{task.src_resource}</td>
                    <td>{task.dst_resource}</td>
                    <td>{task.operation}</td>
                    <td>
                      <StatusBadge status={task.status} />
                    </td>
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => setLog(task)}>
                        Log
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
      {log ? <TaskLog taskId={log.id} query={logText} /> : null}
    </Dialog>
  );
}

/** A task's log under its tasks table (replication and webhook executions). */
export function TaskLog({ taskId, query }: { taskId: number; query: UseQueryResult<string> }) {
  return (
    <>
      <h3>Log of task {taskId}</h3>
      <QueryState query={query}>
        {(text) => <pre data-testid="task-log">{String(text || '(empty)')}</pre>}
      </QueryState>
    </>
  );
}

/**
 * An execution's tasks in a dialog: the caller's columns and cells (status included), a Log button per
 * task, and the chosen task's log under the table (webhook and preheat executions).
 */
export function TaskListDialog<T extends { id: number }>(props: {
  title: string;
  tasks: UseQueryResult<{ items: T[] }>;
  columns: ReactNode;
  cells: (task: T) => ReactNode;
  log: { taskId: number | undefined; text: UseQueryResult<string>; open: (task: T) => void };
  onClose: () => void;
}) {
  const { log } = props;
  return (
    <Dialog title={props.title} onClose={props.onClose} wide>
      <QueryState
        query={props.tasks}
        empty={(t) => t.items.length === 0}
        emptyText="This execution has no tasks."
      >
        {(t) => (
          <div className="table-wrap">
            <table aria-label="Tasks">
              <thead>
                <tr>
                  {props.columns}
                  <th aria-label="Log" />
                </tr>
              </thead>
              <tbody>
                {t.items.map((task) => (
                  <tr key={task.id} data-task={task.id}>
                    {props.cells(task)}
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => log.open(task)}>
                        Log
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
      {log.taskId !== undefined ? <TaskLog taskId={log.taskId} query={log.text} /> : null}
    </Dialog>
  );
}
