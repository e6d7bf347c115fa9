import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { usePagedList } from '../../api/hooks';
import {
  webhookExecutionList,
  webhookTaskLogQuery,
  webhookTasksQuery,
  type WebhookExecution,
  type WebhookPolicy,
  type WebhookTask,
} from '../../api/webhooks';
import { ListPage } from '../../components/list-page';
import { formatTime } from '../../components/ui';
import { RUNNING, StatusBadge, TaskListDialog } from '../admin/replication-executions';

/** A policy's deliveries (executions): event, status, times; open one for its task and the task's log. */
export function WebhookExecutions({ projectId, policy }: { projectId: number; policy: WebhookPolicy }) {
  const [open, setOpen] = useState<WebhookExecution | null>(null);
  const list = usePagedList(webhookExecutionList(projectId, policy.id), {
    poll: (items) => items.some((e) => RUNNING.test(e.status)),
  });
  return (
    <section aria-label="Webhook executions">
      <h2>Executions of {policy.name}</h2>
      <ListPage
        list={list}
        tableLabel="Webhook executions"
        empty="No deliveries yet: an event of a selected type starts one."
        columns={
          <>
            <th>ID</th>
            <th>Event Type</th>
            <th>Status</th>
            <th className="hide-narrow">Start Time</th>
            <th className="hide-narrow">End Time</th>
          </>
        }
        row={(e) => (
          <tr key={e.id} data-execution={e.id}>
            <td>
              <button type="button" className="link" onClick={() => setOpen(e)}>
                {e.id}
              </button>
            </td>
            <td>{e.extra_attrs.event_type ?? ''}</td>
            <td>
              <StatusBadge status={e.status} />
              {e.status_message ? <div className="muted">{e.status_message}</div> : null}
            </td>
            <td className="hide-narrow">{formatTime(e.start_time)}</td>
            <td className="hide-narrow">{formatTime(e.end_time)}</td>
          </tr>
        )}
      />
      {open ? (
        <TasksDialog
          projectId={projectId}
          policyId={policy.id}
          execution={open}
          onClose={() => setOpen(null)}
        />
      ) : null}
    </section>
  );
}

function TasksDialog(props: {
  projectId: number;
  policyId: number;
  execution: WebhookExecution;
  onClose: () => void;
}) {
  const { projectId, policyId, execution } = props;
  const [log, setLog] = useState<WebhookTask | null>(null);
  const tasks = useQuery({
    ...webhookTasksQuery(projectId, policyId, execution.id),
    refetchInterval: (q) => (q.state.data?.items.some((t) => RUNNING.test(t.status)) ? 1500 : false),
  });
  const text = useQuery({
    ...webhookTaskLogQuery(projectId, policyId, execution.id, log?.id),
    enabled: !!log,
  });
  return (
    <TaskListDialog
      title={`Execution ${execution.id}`}
      tasks={tasks}
      log={{ taskId: log?.id, text, open: setLog }}
      onClose={props.onClose}
      columns={
        <>
          <th>ID</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Start Time</th>
          <th>End Time</th>
        </>
      }
      cells={(task) => (
        <>
          <td>{task.id}</td>
          <td>
            <StatusBadge status={task.status} />
          </td>
          <td>{task.run_count}</td>
          <td>{formatTime(task.start_time)}</td>
          <td>{formatTime(task.end_time)}</td>
        </>
      )}
    />
  );
}
