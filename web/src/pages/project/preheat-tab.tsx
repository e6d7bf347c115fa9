import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  deletePolicy,
  executionList,
  policyList,
  preheatKeys,
  runPolicy,
  setPolicyEnabled,
  stopExecution,
  taskLogQuery,
  tasksQuery,
  type PreheatExecution,
  type PreheatPolicy,
  type PreheatTask,
} from '../../api/preheat';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, ErrorNote, formatTime, RowPolicyActions } from '../../components/ui';
import { RUNNING, StatusBadge, TaskListDialog } from '../admin/replication-executions';
import { PreheatPolicyDialog } from './preheat-policy-dialog';
import { useProjectContext } from './project-page';

const triggerText: Record<string, string> = {
  manual: 'Manual',
  scheduled: 'Scheduled',
  event_based: 'Event based',
};

/**
 * Project → P2P Preheat: the policies (provider, filters, trigger), add/edit/enable/delete with
 * preheat-policy create/update/delete, Execute (a manual run), and the selected policy's executions with
 * their tasks and logs.
 */
export function PreheatTab() {
  const { project, can } = useProjectContext();
  const name = project.name;
  const list = usePagedList(policyList(name));
  const [editing, setEditing] = useState<PreheatPolicy | 'new' | null>(null);
  const [deleting, setDeleting] = useState<PreheatPolicy | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const invalidate = [preheatKeys.all(name)];
  const toggle = useAction((p: PreheatPolicy) => setPolicyEnabled(name, p, !p.enabled), invalidate);
  const remove = useAction((p: PreheatPolicy) => deletePolicy(name, p.name), invalidate);
  const run = useAction(async (p: PreheatPolicy) => {
    await runPolicy(name, p.name);
    setSelected(p.name);
  }, invalidate);
  const shown = list.data?.items.find((p) => p.name === selected) ?? null;
  return (
    <>
      <ListPage
        list={list}
        tableLabel="Preheat policies"
        actions={
          can('preheat-policy', 'create') ? (
            <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
              + New Policy
            </button>
          ) : null
        }
        notes={<ErrorNote error={run.error ?? toggle.error ?? remove.error} />}
        empty="No preheat policies: add one to send this project's images to a P2P provider before they are pulled."
        columns={
          <>
            <th>Name</th>
            <th>Enabled</th>
            <th>Provider</th>
            <th className="hide-narrow">Filters</th>
            <th>Trigger</th>
            <th className="hide-narrow">Created</th>
            <th aria-label="Actions" />
          </>
        }
        row={(p) => {
          const trigger = (JSON.parse(p.trigger) as { type: string }).type;
          const filters = (JSON.parse(p.filters) as { type: string; value: unknown }[])
            .map((f) => `${f.type}: ${String(f.value)}`)
            .join(', ');
          return (
            <tr key={p.id} data-policy={p.name} aria-selected={p.name === selected}>
              <td>{p.name}</td>
              <td>
                {p.enabled ? (
                  <span className="badge badge-ok">Enabled</span>
                ) : (
                  <span className="badge">Disabled</span>
                )}
              </td>
              <td>{p.provider_name}</td>
              <td className="hide-narrow">{filters}</td>
              <td>{triggerText[trigger] ?? trigger}</td>
              <td className="hide-narrow">{formatTime(p.creation_time)}</td>
              <td className="row">
                <button type="button" className="btn btn-small" onClick={() => setSelected(p.name)}>
                  Executions
                </button>
                {can('preheat-policy', 'read') ? (
                  <button
                    type="button"
                    className="btn btn-small"
                    disabled={run.isPending || !p.enabled}
                    onClick={() => run.mutate(p)}
                  >
                    Execute
                  </button>
                ) : null}
                <RowPolicyActions
                  enabled={p.enabled}
                  canUpdate={can('preheat-policy', 'update')}
                  canDelete={can('preheat-policy', 'delete')}
                  toggling={toggle.isPending}
                  onEdit={() => setEditing(p)}
                  onToggle={() => toggle.mutate(p)}
                  onDelete={() => setDeleting(p)}
                />
              </td>
            </tr>
          );
        }}
      />
      {shown ? (
        <PreheatExecutions project={name} policy={shown.name} canStop={can('preheat-policy', 'update')} />
      ) : null}
      {editing ? (
        <PreheatPolicyDialog
          project={name}
          policy={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete preheat policy"
          message={`Delete the preheat policy ${deleting.name}? Its executions go with it.`}
          onConfirm={async () => {
            await remove.mutateAsync(deleting);
            if (selected === deleting.name) setSelected(null);
          }}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

function PreheatExecutions(props: { project: string; policy: string; canStop: boolean }) {
  const { project, policy } = props;
  const [open, setOpen] = useState<PreheatExecution | null>(null);
  const list = usePagedList(executionList(project, policy), {
    poll: (items) => items.some((e) => RUNNING.test(e.status)),
  });
  const stop = useAction(
    (e: PreheatExecution) => stopExecution(project, policy, e.id),
    [preheatKeys.executions(project, policy)],
  );
  return (
    <section aria-label="Preheat executions">
      <h2>Executions of {policy}</h2>
      <ListPage
        list={list}
        tableLabel="Preheat executions"
        notes={<ErrorNote error={stop.error} />}
        empty="No executions yet: Execute runs the policy now."
        columns={
          <>
            <th>ID</th>
            <th>Status</th>
            <th>Trigger</th>
            <th>Tasks</th>
            <th className="hide-narrow">Start Time</th>
            <th className="hide-narrow">End Time</th>
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
              {e.status_message ? <div className="muted">{e.status_message}</div> : null}
            </td>
            <td>{triggerText[e.trigger] ?? e.trigger}</td>
            <td>
              {e.metrics.success_task_count} of {e.metrics.task_count} succeeded
            </td>
            <td className="hide-narrow">{formatTime(e.start_time)}</td>
            <td className="hide-narrow">{formatTime(e.end_time)}</td>
            <td>
              {props.canStop && RUNNING.test(e.status) ? (
                <button type="button" className="btn btn-small" onClick={() => stop.mutate(e)}>
                  Stop
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {open ? (
        <TasksDialog project={project} policy={policy} execution={open} onClose={() => setOpen(null)} />
      ) : null}
    </section>
  );
}

function TasksDialog(props: {
  project: string;
  policy: string;
  execution: PreheatExecution;
  onClose: () => void;
}) {
  const { project, policy, execution } = props;
  const [log, setLog] = useState<PreheatTask | null>(null);
  const tasks = useQuery({
    ...tasksQuery(project, policy, execution.id),
    refetchInterval: (q) => (q.state.data?.items.some((t) => RUNNING.test(t.status)) ? 1500 : false),
  });
  const text = useQuery({ ...taskLogQuery(project, policy, execution.id, log?.id), enabled: !!log });
  return (
    <TaskListDialog
      title={`Execution ${execution.id}`}
      tasks={tasks}
      log={{ taskId: log?.id, text, open: setLog }}
      onClose={props.onClose}
      columns={
        <>
          <th>ID</th>
          <th>Artifact</th>
          <th>Status</th>
          <th>Start Time</th>
          <th>End Time</th>
        </>
      }
      cells={(task) => (
        <>
          <td>{task.id}</td>
          <td>{task.extra_attrs.artifact}</td>
          <td>
            <StatusBadge status={task.status} />
          </td>
          <td>{formatTime(task.start_time)}</td>
          <td>{formatTime(task.end_time)}</td>
        </>
      )}
    />
  );
}
