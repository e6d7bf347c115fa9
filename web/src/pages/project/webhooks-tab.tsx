import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  deleteWebhookPolicy,
  setWebhookPolicyEnabled,
  webhookKeys,
  webhookLastTriggerQuery,
  webhookPolicyList,
  type WebhookPolicy,
} from '../../api/webhooks';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, ErrorNote, formatTime, QueryState, RowPolicyActions } from '../../components/ui';
import { useProjectContext } from './project-page';
import { WebhookExecutions } from './webhook-executions';
import { WebhookPolicyDialog } from './webhook-policy-dialog';

/** Harbor's "never" time in last-trigger answers. */
const never = (t: string) => !t || t.startsWith('0001-');

/**
 * Project → Webhooks: the policies (name, enabled, notify type, target, event types, created), a dialog to add
 * or edit one with its test button, enable/disable and delete, the selected policy's deliveries with task logs,
 * and the last trigger per event type. Edit controls only for notification-policy create/update/delete.
 */
export function WebhooksTab() {
  const { project, can } = useProjectContext();
  const pid = project.project_id;
  const list = usePagedList(webhookPolicyList(pid));
  const [editing, setEditing] = useState<WebhookPolicy | 'new' | null>(null);
  const [deleting, setDeleting] = useState<WebhookPolicy | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const invalidate = [webhookKeys.all(pid)];
  const toggle = useAction((p: WebhookPolicy) => setWebhookPolicyEnabled(pid, p, !p.enabled), invalidate);
  const remove = useAction((p: WebhookPolicy) => deleteWebhookPolicy(pid, p.id), invalidate);
  const canUpdate = can('notification-policy', 'update');
  const canDelete = can('notification-policy', 'delete');
  const shown = list.data?.items.find((p) => p.id === selected) ?? null;
  return (
    <>
      <ListPage
        list={list}
        tableLabel="Webhooks"
        actions={
          can('notification-policy', 'create') ? (
            <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
              + New Webhook
            </button>
          ) : null
        }
        notes={<ErrorNote error={toggle.error ?? remove.error} />}
        empty="No webhooks: add one to send this project's events to an HTTP endpoint or Slack."
        columns={
          <>
            <th>Name</th>
            <th>Enabled</th>
            <th>Notify Type</th>
            <th>Target</th>
            <th className="hide-narrow">Event Types</th>
            <th className="hide-narrow">Created</th>
            <th aria-label="Actions" />
          </>
        }
        row={(p) => (
          <tr key={p.id} data-policy={p.id} aria-selected={p.id === selected}>
            <td>{p.name}</td>
            <td>
              {p.enabled ? (
                <span className="badge badge-ok">Enabled</span>
              ) : (
                <span className="badge">Disabled</span>
              )}
            </td>
            <td>{p.targets[0]?.type ?? ''}</td>
            <td>{p.targets[0]?.address ?? ''}</td>
            <td className="hide-narrow">{p.event_types.join(', ')}</td>
            <td className="hide-narrow">{formatTime(p.creation_time)}</td>
            <td className="row">
              <button type="button" className="btn btn-small" onClick={() => setSelected(p.id)}>
                Executions
              </button>
              <RowPolicyActions
                enabled={p.enabled}
                canUpdate={canUpdate}
                canDelete={canDelete}
                toggling={toggle.isPending}
                onEdit={() => setEditing(p)}
                onToggle={() => toggle.mutate(p)}
                onDelete={() => setDeleting(p)}
              />
            </td>
          </tr>
        )}
      />
      <LastTriggers projectId={pid} />
      {shown ? <WebhookExecutions projectId={pid} policy={shown} /> : null}
      {editing ? (
        <WebhookPolicyDialog
          projectId={pid}
          policy={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete webhook"
          message={`Delete the webhook ${deleting.name}? Its executions and logs go with it.`}
          onConfirm={async () => {
            await remove.mutateAsync(deleting);
            if (selected === deleting.id) setSelected(null);
          }}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

function LastTriggers({ projectId }: { projectId: number }) {
  const triggers = useQuery(webhookLastTriggerQuery(projectId));
  return (
    <section aria-label="Last trigger">
      <h2>Last Trigger</h2>
      <QueryState query={triggers} empty={(t) => t.length === 0} emptyText="No event types selected yet.">
        {(rows) => (
          <div className="table-wrap">
            <table aria-label="Last trigger">
              <thead>
                <tr>
                  <th>Webhook</th>
                  <th>Event Type</th>
                  <th>Enabled</th>
                  <th>Last Trigger</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={`${t.policy_name}/${t.event_type}`}>
                    <td>{t.policy_name}</td>
                    <td>{t.event_type}</td>
                    <td>{t.enabled ? 'Yes' : 'No'}</td>
                    <td>{never(t.last_trigger_time) ? 'Never' : formatTime(t.last_trigger_time)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </section>
  );
}
