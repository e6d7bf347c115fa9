import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import {
  gcHistoryList,
  gcKeys,
  gcLogQuery,
  gcScheduleQuery,
  saveGcSchedule,
  startGc,
  stopGc,
  type GcRun,
  type GcSchedule,
} from '../../api/gc';
import { useAction, usePagedList } from '../../api/hooks';
import { ListPage } from '../../components/list-page';
import { Dialog, ErrorNote, Field, formatBytes, formatTime, QueryState } from '../../components/ui';
import { StatusBadge } from './replication-executions';
import { RUNNING, RunActions } from './run-actions';

type Figures = Record<string, number | boolean | undefined>;

const TYPES = ['None', 'Hourly', 'Daily', 'Weekly', 'Custom'] as const;

/** Clean Up → Garbage Collection: run now (or a dry run), the schedule, and the history with logs. */
export function GcTab() {
  const [deleteUntagged, setDeleteUntagged] = useState(false);
  const [workers, setWorkers] = useState(1);
  const [log, setLog] = useState<GcRun | null>(null);
  const history = usePagedList(gcHistoryList(), {
    pageSize: 10,
    poll: (items) => items.some((r) => RUNNING.test(r.job_status)),
  });
  const start = useAction(
    (dryRun: boolean) => startGc({ delete_untagged: deleteUntagged, dry_run: dryRun, workers }),
    [gcKeys.history()],
  );
  const stop = useAction(stopGc, [gcKeys.history()]);
  const running = history.data?.items.some((r) => RUNNING.test(r.job_status)) ?? false;
  return (
    <section aria-label="Garbage Collection">
      <ScheduleEditor />
      <h2>Run now</h2>
      <div className="row">
        <label>
          <input
            type="checkbox"
            checked={deleteUntagged}
            onChange={(e) => setDeleteUntagged(e.target.checked)}
          />{' '}
          Delete untagged artifacts
        </label>
        <label>
          Workers{' '}
          <select value={workers} onChange={(e) => setWorkers(Number(e.target.value))} aria-label="Workers">
            {Array.from({ length: 10 }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="btn btn-primary"
          disabled={running}
          onClick={() => start.mutate(false)}
        >
          GC Now
        </button>
        <button type="button" className="btn" disabled={running} onClick={() => start.mutate(true)}>
          Dry Run
        </button>
      </div>
      <h2>GC History</h2>
      <ListPage
        list={history}
        tableLabel="GC History"
        notes={
          <>
            <ErrorNote error={start.error} title="Could not start garbage collection" />
            <ErrorNote error={stop.error} title="Could not stop garbage collection" />
          </>
        }
        columns={
          <>
            <th>ID</th>
            <th>Trigger</th>
            <th>Dry Run</th>
            <th>Status</th>
            <th>Result</th>
            <th className="hide-narrow">Start Time</th>
            <th className="hide-narrow">Update Time</th>
            <th aria-label="Actions" />
          </>
        }
        empty="No garbage collection has run yet."
        row={(r) => {
          const f = figures(r);
          return (
            <tr key={r.id} data-gc={r.id}>
              <td>{r.id}</td>
              <td>{r.job_kind === 'SCHEDULE' ? 'Schedule' : 'Manual'}</td>
              <td>{f.dry_run ? 'Yes' : 'No'}</td>
              <td>
                <StatusBadge status={r.job_status} />
              </td>
              <td data-testid="gc-result">{result(f)}</td>
              <td className="hide-narrow">{formatTime(r.creation_time)}</td>
              <td className="hide-narrow">{formatTime(r.update_time)}</td>
              <RunActions status={r.job_status} onLog={() => setLog(r)} onStop={() => stop.mutate(r.id)} />
            </tr>
          );
        }}
      />
      {log ? <LogDialog run={log} onClose={() => setLog(null)} /> : null}
    </section>
  );
}

function figures(r: GcRun): Figures {
  try {
    return JSON.parse(r.job_parameters) as Figures;
  } catch {
    return {};
  }
}

/** "12 blob(s) and 3 manifest(s) deleted, 1.2 MiB freed" (or what a dry run would do). */
function result(f: Figures): string {
  if (f.purged_blobs === undefined) return '—';
  const verb = f.dry_run ? 'would be' : '';
  const blobs = Number(f.purged_blobs);
  const manifests = Number(f.purged_manifests ?? 0);
  return `${blobs - manifests} blob(s) and ${manifests} manifest(s) ${verb ? 'would be deleted' : 'deleted'}, ${formatBytes(Number(f.freed_space ?? 0))} ${verb ? 'would be freed' : 'freed'}`;
}

function LogDialog({ run, onClose }: { run: GcRun; onClose: () => void }) {
  const text = useQuery({
    ...gcLogQuery(run.id),
    refetchInterval: RUNNING.test(run.job_status) ? 1500 : false,
  });
  return (
    <Dialog title={`Garbage collection ${run.id}`} onClose={onClose} wide>
      <QueryState query={text}>{(t) => <pre data-testid="gc-log">{String(t || '(empty)')}</pre>}</QueryState>
    </Dialog>
  );
}

/**
 * The schedule: None, Hourly, Daily, Weekly or a custom 6-field cron, with GC's parameters. The form shows
 * once the saved schedule has loaded: a choice made on the defaults shown meanwhile was overwritten when the
 * saved one arrived, and Save then stored what the page had loaded (a Daily chosen on a slow page was saved
 * as None, and the API answered {} right after "Schedule saved.").
 */
function ScheduleEditor() {
  const current = useQuery(gcScheduleQuery());
  return <QueryState query={current}>{(saved) => <ScheduleForm saved={saved} />}</QueryState>;
}

function ScheduleForm({ saved }: { saved: GcSchedule }) {
  const [type, setType] = useState<string>(() => typeOf(saved));
  const [cron, setCron] = useState(() => saved.schedule?.cron ?? '');
  const [deleteUntagged, setDeleteUntagged] = useState(() => deleteUntaggedOf(saved));
  // A schedule saved since (here, or by another administrator) is shown as saved.
  useEffect(() => {
    setType(typeOf(saved));
    setCron(saved.schedule?.cron ?? '');
    setDeleteUntagged(deleteUntaggedOf(saved));
  }, [saved]);
  const save = useAction(
    () => saveGcSchedule(type, cron, { delete_untagged: deleteUntagged }),
    [gcKeys.schedule()],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(undefined);
  };
  const next = saved.schedule?.next_scheduled_time;
  return (
    <form onSubmit={submit} aria-label="GC Schedule">
      <h2>Schedule</h2>
      <div className="row">
        <Field label="Schedule to GC">
          {(id) => (
            <select id={id} value={type} onChange={(e) => setType(e.target.value)}>
              {TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </Field>
        {type === 'Custom' ? (
          <Field label="Cron (seconds minutes hours day month weekday)">
            {(id) => (
              <input
                id={id}
                value={cron}
                onChange={(e) => setCron(e.target.value)}
                placeholder="0 0 3 * * *"
              />
            )}
          </Field>
        ) : null}
        <label>
          <input
            type="checkbox"
            checked={deleteUntagged}
            onChange={(e) => setDeleteUntagged(e.target.checked)}
          />{' '}
          Delete untagged artifacts
        </label>
        <button type="submit" className="btn">
          Save
        </button>
      </div>
      {next && type !== 'None' ? <div className="muted">Next run: {formatTime(next)}</div> : null}
      {save.isSuccess ? <div role="status">Schedule saved.</div> : null}
      <ErrorNote error={save.error} title="Could not save the schedule" />
    </form>
  );
}

const typeOf = (s: GcSchedule) => s.schedule?.type ?? 'None';

function deleteUntaggedOf(s: GcSchedule): boolean {
  try {
    return Boolean((JSON.parse(s.job_parameters ?? '{}') as Figures).delete_untagged);
  } catch {
    return false;
  }
}
