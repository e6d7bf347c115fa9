import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useEffect, useState, type FormEvent } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import { projectKeys } from '../../api/projects';
import {
  retentionExecutionList,
  retentionKeys,
  retentionMetadataQuery,
  retentionPolicyQuery,
  retentionTaskList,
  retentionTaskLogQuery,
  saveRetentionPolicy,
  stopRetention,
  triggerRetention,
  type RetentionExecution,
  type RetentionMetadata,
  type RetentionRule,
} from '../../api/retentions';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, Dialog, ErrorNote, Field, formatTime, Spinner } from '../../components/ui';
import { LogDialog } from '../admin/job-service-page';
import { PRESET, ScheduleFields, scheduleTypeOf } from '../admin/log-rotation-tab';
import { SelectorField } from './immutability-tab';
import { patternOf, textOf } from '../../api/immutable-rules';
import { useProjectContext } from './project-page';

const RUNNING = /^(pending|running|in ?progress)$/i;

/** A rule in words, as Harbor's portal says it. */
export function describeRetentionRule(rule: RetentionRule, meta: RetentionMetadata | undefined): string {
  const repo = rule.scope_selectors.repository?.[0];
  const tag = rule.tag_selectors[0];
  const template = meta?.templates.find((t) => t.rule_template === rule.template);
  const n = rule.params[rule.template];
  const what = (template?.display_text ?? rule.template).replace('#', String(n ?? ''));
  const untagged = tag?.extras ? (JSON.parse(tag.extras) as { untagged?: boolean }).untagged : undefined;
  return (
    `For the repositories ${repo?.decoration === 'repoExcludes' ? 'excluding' : 'matching'} ` +
    `${textOf(repo?.pattern ?? '**')}, retain ${what === 'always' ? 'always' : what} with tags ` +
    `${tag?.decoration === 'excludes' ? 'excluding' : 'matching'} ${textOf(tag?.pattern ?? '**')}` +
    (untagged ? ' (untagged artifacts included)' : '')
  );
}

/** Project → Policy → Tag Retention: rules in words, schedule, dry run and run now, executions with logs. */
export function RetentionTab() {
  const { project, can } = useProjectContext();
  const pid = project.project_id;
  const policyId = project.metadata?.retention_id ? Number(project.metadata.retention_id) : undefined;
  const meta = useQuery(retentionMetadataQuery());
  const policy = useQuery({ ...retentionPolicyQuery(policyId ?? 0), enabled: policyId !== undefined });
  const client = useQueryClient();
  const rules = policy.data?.rules ?? [];
  const cron = policy.data?.trigger.settings.cron ?? '';
  const [editing, setEditing] = useState<number | 'new' | null>(null);
  const [deleting, setDeleting] = useState<number | null>(null);
  const canUpdate = can('tag-retention', 'update') || can('tag-retention', 'create');
  const save = useAction(
    async (next: { rules: RetentionRule[]; cron: string }) => {
      const id = await saveRetentionPolicy(pid, policyId, next.rules, next.cron);
      if (policyId === undefined) await client.invalidateQueries({ queryKey: projectKeys.detail(pid) });
      return id;
    },
    [retentionKeys.all, projectKeys.all],
  );
  const run = useAction(
    (dryRun: boolean) => triggerRetention(policyId!, dryRun),
    [retentionKeys.executions(policyId ?? 0)],
  );
  if (policyId !== undefined && policy.isLoading) return <Spinner />;
  return (
    <>
      <h2>Tag Retention</h2>
      <p className="muted">
        An artifact no rule retains is removed when the policy runs; an artifact holding an immutable tag is
        never removed. A dry run only lists what would be removed.
      </p>
      <ErrorNote error={policy.error ?? meta.error ?? save.error ?? run.error} />
      <ul className="rules" aria-label="Retention rules">
        {rules.map((r, i) => (
          <li key={i} data-rule={i} className="row">
            <span>
              {describeRetentionRule(r, meta.data)}
              {r.disabled ? <span className="badge">Disabled</span> : null}
            </span>
            {canUpdate ? (
              <>
                <button type="button" className="btn btn-small" onClick={() => setEditing(i)}>
                  Edit
                </button>
                <button type="button" className="btn btn-small" onClick={() => setDeleting(i)}>
                  Delete
                </button>
              </>
            ) : null}
          </li>
        ))}
      </ul>
      {rules.length === 0 ? <p className="muted">No retention rules: nothing is ever removed.</p> : null}
      {canUpdate ? (
        <button type="button" className="btn" disabled={rules.length >= 15} onClick={() => setEditing('new')}>
          + Add Rule
        </button>
      ) : null}
      {policyId !== undefined ? (
        <>
          <ScheduleEditor
            cron={cron}
            disabled={!canUpdate || save.isPending}
            onSave={(c) => save.mutateAsync({ rules, cron: c })}
          />
          {canUpdate ? (
            <div className="row">
              <button
                type="button"
                className="btn"
                disabled={run.isPending || rules.length === 0}
                onClick={() => run.mutate(true)}
              >
                DRY RUN
              </button>
              <button
                type="button"
                className="btn btn-primary"
                disabled={run.isPending || rules.length === 0}
                onClick={() => run.mutate(false)}
              >
                RUN NOW
              </button>
            </div>
          ) : null}
          <Executions policyId={policyId} canStop={canUpdate} />
        </>
      ) : null}
      {editing !== null && meta.data ? (
        <RetentionRuleDialog
          meta={meta.data}
          rule={editing === 'new' ? null : (rules[editing] ?? null)}
          onClose={() => setEditing(null)}
          onSave={(rule) =>
            save.mutateAsync({
              rules: editing === 'new' ? [...rules, rule] : rules.map((r, i) => (i === editing ? rule : r)),
              cron,
            })
          }
        />
      ) : null}
      {deleting !== null ? (
        <ConfirmDialog
          title="Delete rule"
          message={`Delete the rule "${describeRetentionRule(rules[deleting]!, meta.data)}"?`}
          onConfirm={() => save.mutateAsync({ rules: rules.filter((_, i) => i !== deleting), cron })}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

function ScheduleEditor(props: {
  cron: string;
  disabled: boolean;
  onSave: (cron: string) => Promise<unknown>;
}) {
  const [type, setType] = useState<string>(scheduleTypeOf(props.cron));
  const [cron, setCron] = useState(props.cron);
  useEffect(() => {
    setType(scheduleTypeOf(props.cron));
    setCron(props.cron);
  }, [props.cron]);
  const next = type === 'Custom' ? cron : (PRESET[type] ?? '');
  return (
    <div className="row">
      <ScheduleFields
        label="Schedule"
        type={type}
        cron={cron}
        disabled={props.disabled}
        onType={setType}
        onCron={setCron}
      />
      <button
        type="button"
        className="btn btn-small"
        disabled={props.disabled || next === props.cron}
        onClick={() => void props.onSave(next).catch(() => undefined)}
      >
        Save schedule
      </button>
    </div>
  );
}

function Executions(props: { policyId: number; canStop: boolean }) {
  const list = usePagedList(retentionExecutionList(props.policyId), {
    poll: (items) => items.some((e) => RUNNING.test(e.status)),
  });
  const [open, setOpen] = useState<number | null>(null);
  const stop = useAction(
    (e: RetentionExecution) => stopRetention(props.policyId, e.id),
    [retentionKeys.executions(props.policyId)],
  );
  return (
    <>
      <h3>Executions</h3>
      <ListPage
        list={list}
        tableLabel="Retention executions"
        notes={<ErrorNote error={stop.error} />}
        empty="No executions yet."
        columns={
          <>
            <th>ID</th>
            <th>Status</th>
            <th>Dry run</th>
            <th>Trigger</th>
            <th>Start time</th>
            <th>Operator</th>
            <th aria-label="Actions" />
          </>
        }
        row={(e) => (
          <Fragment key={e.id}>
            <tr data-execution={e.id}>
              <td>{e.id}</td>
              <td>{e.status}</td>
              <td>{e.dry_run ? 'YES' : 'NO'}</td>
              <td>{e.trigger}</td>
              <td>{formatTime(e.start_time)}</td>
              <td>{e.operator}</td>
              <td className="row">
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => setOpen(open === e.id ? null : e.id)}
                >
                  {open === e.id ? 'Hide' : 'Details'}
                </button>
                {props.canStop && RUNNING.test(e.status) ? (
                  <button type="button" className="btn btn-small" onClick={() => stop.mutate(e)}>
                    Stop
                  </button>
                ) : null}
              </td>
            </tr>
            {open === e.id ? (
              <tr>
                <td colSpan={7}>
                  <Tasks policyId={props.policyId} executionId={e.id} />
                </td>
              </tr>
            ) : null}
          </Fragment>
        )}
      />
    </>
  );
}

function Tasks(props: { policyId: number; executionId: number }) {
  const list = usePagedList(retentionTaskList(props.policyId, props.executionId), {
    poll: (items) => items.length === 0 || items.some((t) => RUNNING.test(t.status)),
  });
  const [log, setLog] = useState<number | null>(null);
  return (
    <>
      <ListPage
        list={list}
        tableLabel={`Tasks of execution ${props.executionId}`}
        empty="No repositories."
        columns={
          <>
            <th>Repository</th>
            <th>Status</th>
            <th>Retained / Total</th>
            <th>Start time</th>
            <th aria-label="Log" />
          </>
        }
        row={(t) => (
          <tr key={t.id} data-task={t.id}>
            <td>{t.repository}</td>
            <td>{t.status}</td>
            <td>
              {t.retained}/{t.total}
            </td>
            <td>{formatTime(t.start_time)}</td>
            <td>
              <button type="button" className="btn btn-small" onClick={() => setLog(t.id)}>
                Log
              </button>
            </td>
          </tr>
        )}
      />
      {log !== null ? (
        <TaskLogDialog
          policyId={props.policyId}
          executionId={props.executionId}
          taskId={log}
          onClose={() => setLog(null)}
        />
      ) : null}
    </>
  );
}

function TaskLogDialog(props: {
  policyId: number;
  executionId: number;
  taskId: number;
  onClose: () => void;
}) {
  const log = useQuery(retentionTaskLogQuery(props.policyId, props.executionId, props.taskId));
  return (
    <LogDialog
      title={`Log of task ${props.taskId}`}
      query={log}
      testId="retention-log"
      onClose={props.onClose}
    />
  );
}

interface RuleFields {
  template: string;
  n: string;
  repoDecoration: string;
  repoPattern: string;
  tagDecoration: string;
  tagPattern: string;
  untagged: boolean;
}

function RetentionRuleDialog(props: {
  meta: RetentionMetadata;
  rule: RetentionRule | null;
  onClose: () => void;
  onSave: (rule: RetentionRule) => Promise<unknown>;
}) {
  const r = props.rule;
  const repo = r?.scope_selectors.repository?.[0];
  const tag = r?.tag_selectors[0];
  const [f, setF] = useState<RuleFields>({
    template: r?.template ?? props.meta.templates[0]?.rule_template ?? 'latestPushedK',
    n: r ? String(r.params[r.template] ?? '') : '10',
    repoDecoration: repo?.decoration ?? 'repoMatches',
    repoPattern: textOf(repo?.pattern ?? '**'),
    tagDecoration: tag?.decoration ?? 'matches',
    tagPattern: textOf(tag?.pattern ?? '**'),
    untagged: tag?.extras ? !!(JSON.parse(tag.extras) as { untagged?: boolean }).untagged : true,
  });
  const set = (c: Partial<RuleFields>) => setF((x) => ({ ...x, ...c }));
  const [error, setError] = useState<unknown>(null);
  const template = props.meta.templates.find((t) => t.rule_template === f.template);
  const needsN = (template?.params.length ?? 0) > 0;
  const badN = needsN && !/^\d+$/.test(f.n);
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await props.onSave({
        disabled: r?.disabled ?? false,
        action: 'retain',
        template: f.template,
        params: needsN ? { [f.template]: Number(f.n) } : {},
        tag_selectors: [
          {
            kind: 'doublestar',
            decoration: f.tagDecoration,
            pattern: patternOf(f.tagPattern),
            extras: JSON.stringify({ untagged: f.untagged }),
          },
        ],
        scope_selectors: {
          repository: [
            { kind: 'doublestar', decoration: f.repoDecoration, pattern: patternOf(f.repoPattern) },
          ],
        },
      });
      props.onClose();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <Dialog title={r ? 'Edit Tag Retention Rule' : 'Add Tag Retention Rule'} onClose={props.onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <SelectorField
          label="For the repositories"
          name="repositories"
          decoration={f.repoDecoration}
          decorations={['repoMatches', 'repoExcludes']}
          pattern={f.repoPattern}
          onChange={(d, p) => set({ repoDecoration: d, repoPattern: p })}
        />
        <Field label="By artifact count or number of days">
          {(id) => (
            <select
              id={id}
              name="template"
              value={f.template}
              onChange={(e) => set({ template: e.target.value })}
            >
              {props.meta.templates.map((t) => (
                <option key={t.rule_template} value={t.rule_template}>
                  {t.display_text === 'always' ? 'retain always' : `retain ${t.display_text}`}
                </option>
              ))}
            </select>
          )}
        </Field>
        {needsN ? (
          <Field label={template?.params[0]?.unit === 'DAYS' ? 'Days' : 'Count'}>
            {(id) => <input id={id} name="n" value={f.n} onChange={(e) => set({ n: e.target.value })} />}
          </Field>
        ) : null}
        <SelectorField
          label="Tags"
          name="tags"
          decoration={f.tagDecoration}
          decorations={['matches', 'excludes']}
          pattern={f.tagPattern}
          onChange={(d, p) => set({ tagDecoration: d, tagPattern: p })}
        />
        <label>
          <input type="checkbox" checked={f.untagged} onChange={(e) => set({ untagged: e.target.checked })} />{' '}
          Untagged artifacts included
        </label>
        <ErrorNote error={error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={badN || !f.repoPattern.trim() || !f.tagPattern.trim()}
          >
            {r ? 'Save' : 'Add'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
