import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { useAction, usePagedList } from '../../api/hooks';
import {
  purgeHistory,
  purgeKeys,
  purgeLogQuery,
  purgeNow,
  purgeScheduleQuery,
  savePurgeSchedule,
  stopPurge,
  type PurgeParameters,
  type PurgeRun,
  type PurgeSchedule,
} from '../../api/jobservice';
import { ListPage } from '../../components/list-page';
import { ErrorNote, Field, formatTime, QueryState } from '../../components/ui';
import { LogDialog } from './job-service-page';
import { StatusBadge } from './replication-executions';
import { RUNNING, RunActions } from './run-actions';

/** Harbor's Log Rotation event types: the artifact ones by name, and "other" for every other kind. */
const EVENT_TYPES = [
  ['create_artifact', 'Create artifact'],
  ['delete_artifact', 'Delete artifact'],
  ['pull_artifact', 'Pull artifact'],
  ['other', 'Other events'],
] as const;
export const SCHEDULES = ['None', 'Hourly', 'Daily', 'Weekly', 'Custom'] as const;
export const PRESET: Record<string, string> = {
  Hourly: '0 0 * * * *',
  Daily: '0 0 0 * * *',
  Weekly: '0 0 0 * * 0',
};

/** The schedule menu's entry for a stored cron: a preset's name, None when empty, else Custom. */
export function scheduleTypeOf(cron: string): string {
  if (!cron) return 'None';
  return Object.entries(PRESET).find(([, c]) => c === cron)?.[0] ?? 'Custom';
}

/**
 * Administration → Clean Up → Log Rotation: keep audit logs for a number of hours or days, per event type;
 * purge now, dry run, or on a schedule; the history of runs with their logs.
 */
export function LogRotationTab() {
  const schedule = useQuery(purgeScheduleQuery());
  const [log, setLog] = useState<PurgeRun | null>(null);
  const history = usePagedList(purgeHistory(), {
    poll: (items) => items.some((r) => RUNNING.test(r.job_status)),
  });
  const stop = useAction((id: number) => stopPurge(id), [purgeKeys.history()]);

  return (
    <section aria-label="Log Rotation">
      <h2>Log Rotation</h2>
      <QueryState query={schedule}>{(saved) => <PurgeSettings saved={saved} />}</QueryState>
      <ErrorNote error={stop.error} title="Could not stop the purge" />
      <h3>Purge History</h3>
      <ListPage
        list={history}
        tableLabel="Purge history"
        columns={
          <>
            <th>Id</th>
            <th>Trigger</th>
            <th>Dry run</th>
            <th>Status</th>
            <th>Created</th>
            <th>Updated</th>
            <th />
          </>
        }
        row={(r) => {
          const p = JSON.parse(r.job_parameters) as PurgeParameters;
          return (
            <tr key={r.id} data-purge-id={r.id}>
              <td>{r.id}</td>
              <td>{r.job_kind}</td>
              <td>{p.dry_run ? 'Yes' : 'No'}</td>
              <td>
                <StatusBadge status={r.job_status} />
              </td>
              <td>{formatTime(r.creation_time)}</td>
              <td>{formatTime(r.update_time)}</td>
              <RunActions status={r.job_status} onLog={() => setLog(r)} onStop={() => stop.mutate(r.id)} />
            </tr>
          );
        }}
        empty="No purge has run yet."
      />
      {log ? <PurgeLogDialog run={log} onClose={() => setLog(null)} /> : null}
    </section>
  );
}

interface PurgeForm {
  retention: string;
  unit: 'days' | 'hours';
  types: string[];
  type: string;
  cron: string;
}

/** The form as a saved schedule fills it; Harbor's defaults (30 days, every event type) without one. */
function formOf(saved: PurgeSchedule | null): PurgeForm {
  if (!saved)
    return { retention: '30', unit: 'days', types: EVENT_TYPES.map(([t]) => t), type: 'None', cron: '' };
  const p = JSON.parse(saved.job_parameters) as PurgeParameters;
  const hours = p.audit_retention_hour;
  return {
    ...(hours % 24 === 0
      ? { unit: 'days' as const, retention: String(hours / 24) }
      : { unit: 'hours' as const, retention: String(hours) }),
    types: p.include_event_types.split(',').filter(Boolean),
    type: saved.schedule.type,
    cron: saved.schedule.cron,
  };
}

/**
 * What a purge keeps, now or on the schedule; shown once the saved schedule has loaded (as GC's,
 * docs/web-ui.md): values typed into defaults shown meanwhile were overwritten when the saved schedule
 * arrived, and Save or Purge now used those instead.
 */
function PurgeSettings({ saved }: { saved: PurgeSchedule | null }) {
  const [retention, setRetention] = useState(() => formOf(saved).retention);
  const [unit, setUnit] = useState(() => formOf(saved).unit);
  const [types, setTypes] = useState(() => formOf(saved).types);
  const [type, setType] = useState(() => formOf(saved).type);
  const [cron, setCron] = useState(() => formOf(saved).cron);
  const [savedNow, setSavedNow] = useState(false);
  // A schedule saved since (here, or by another administrator) is shown as saved.
  useEffect(() => {
    if (!saved) return;
    const f = formOf(saved);
    setRetention(f.retention);
    setUnit(f.unit);
    setTypes(f.types);
    setType(f.type);
    setCron(f.cron);
  }, [saved]);

  const hoursValue = Number(retention) * (unit === 'days' ? 24 : 1);
  const invalid =
    !Number.isInteger(hoursValue) || hoursValue < 0 || hoursValue > 240_000
      ? 'A whole number of hours from 0 to 240000'
      : null;
  const parameters = (dryRun: boolean): PurgeParameters => ({
    audit_retention_hour: hoursValue,
    include_event_types: types.join(','),
    dry_run: dryRun,
  });
  const run = useAction((dryRun: boolean) => purgeNow(parameters(dryRun)), [purgeKeys.history()]);
  const save = useAction(
    () => savePurgeSchedule(type, type === 'Custom' ? cron : (PRESET[type] ?? ''), parameters(false)),
    [purgeKeys.all],
  );
  return (
    <>
      <Field label="Keep records in" error={invalid}>
        {(id) => (
          <div className="row">
            <input
              id={id}
              type="number"
              min={0}
              value={retention}
              onChange={(e) => setRetention(e.target.value)}
            />
            <select
              aria-label="Retention unit"
              value={unit}
              onChange={(e) => setUnit(e.target.value as 'days' | 'hours')}
            >
              <option value="days">Days</option>
              <option value="hours">Hours</option>
            </select>
          </div>
        )}
      </Field>
      <fieldset>
        <legend>Included event types</legend>
        {EVENT_TYPES.map(([t, label]) => (
          <label key={t} className="check">
            <input
              type="checkbox"
              checked={types.includes(t)}
              onChange={(e) =>
                setTypes((all) => (e.target.checked ? [...all, t] : all.filter((x) => x !== t)))
              }
            />
            {label}
          </label>
        ))}
      </fieldset>
      <ScheduleFields label="Schedule to purge" type={type} cron={cron} onType={setType} onCron={setCron} />
      {saved?.schedule.next_scheduled_time ? (
        <p className="muted" data-testid="next-purge">
          Next run: {formatTime(saved.schedule.next_scheduled_time)}
        </p>
      ) : null}
      <div className="toolbar">
        <button
          type="button"
          className="btn btn-primary"
          disabled={!!invalid || save.isPending}
          onClick={() => {
            setSavedNow(false);
            save.mutate(undefined, { onSuccess: () => setSavedNow(true) });
          }}
        >
          Save
        </button>
        <button
          type="button"
          className="btn"
          disabled={!!invalid || run.isPending}
          onClick={() => run.mutate(true)}
        >
          Dry run
        </button>
        <button
          type="button"
          className="btn"
          disabled={!!invalid || run.isPending}
          onClick={() => run.mutate(false)}
        >
          Purge now
        </button>
        {savedNow ? <span role="status">Schedule saved.</span> : null}
      </div>
      {save.error ? <p role="alert">Could not save the schedule: {errorMessage(save.error)}</p> : null}
      <ErrorNote error={run.error} title="Could not start the purge" />
    </>
  );
}

function PurgeLogDialog({ run, onClose }: { run: PurgeRun; onClose: () => void }) {
  const log = useQuery(purgeLogQuery(run.id));
  return <LogDialog title={`Log of purge ${run.id}`} query={log} testId="purge-log" onClose={onClose} />;
}

/** None / Hourly / Daily / Weekly / Custom, and the cron when Custom (Harbor's six fields, seconds first). */
export function ScheduleFields(props: {
  label: string;
  type: string;
  cron: string;
  disabled?: boolean;
  onType: (type: string) => void;
  onCron: (cron: string) => void;
}) {
  return (
    <>
      <Field label={props.label}>
        {(id) => (
          <select
            id={id}
            value={props.type}
            disabled={props.disabled}
            onChange={(e) => props.onType(e.target.value)}
          >
            {SCHEDULES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        )}
      </Field>
      {props.type === 'Custom' ? (
        <Field label="Cron (6 fields, seconds first, UTC)">
          {(id) => <input id={id} value={props.cron} onChange={(e) => props.onCron(e.target.value)} />}
        </Field>
      ) : null}
    </>
  );
}
