import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  jobLogQuery,
  jobserviceKeys,
  poolsQuery,
  queueAction,
  queuesQuery,
  scheduleList,
  schedulerPausedQuery,
  stopJob,
  workersQuery,
  type JobQueue,
  type Worker,
} from '../../api/jobservice';
import { ListPage } from '../../components/list-page';
import { Dialog, Empty, ErrorNote, formatTime, QueryState } from '../../components/ui';

/**
 * Administration → Job Service Dashboard, as Harbor's: job queues (pending, latency, paused; pause,
 * resume, stop pending), the workers of every pool with the job each runs, and the schedules. Refreshed
 * every 2 s.
 */
export function JobServicePage() {
  return (
    <>
      <h1>Job Service Dashboard</h1>
      <QueuesPanel />
      <WorkersPanel />
      <SchedulesPanel />
    </>
  );
}

function QueuesPanel() {
  const queues = useQuery(queuesQuery());
  const act = useAction(
    ({ type, action }: { type: string; action: 'pause' | 'resume' | 'stop' }) => queueAction(type, action),
    [jobserviceKeys.all],
  );
  const button = (q: JobQueue, action: 'pause' | 'resume' | 'stop', label: string) => (
    <button
      type="button"
      className="btn btn-small"
      disabled={act.isPending}
      aria-label={`${label} ${q.job_type}`}
      onClick={() => act.mutate({ type: q.job_type, action })}
    >
      {label}
    </button>
  );
  return (
    <section aria-label="Job queues">
      <h2>Job Queues</h2>
      <ErrorNote error={act.error} title="Could not act on the queue" />
      <QueryState query={queues}>
        {(items) => (
          <div className="table-wrap">
            <table aria-label="Job queues">
              <thead>
                <tr>
                  <th>Job type</th>
                  <th>Pending</th>
                  <th>Latency</th>
                  <th>Paused</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {items.map((q) => (
                  <tr key={q.job_type} data-job-type={q.job_type}>
                    <td>{q.job_type}</td>
                    <td data-testid="queue-count">{q.count}</td>
                    <td>{q.latency} s</td>
                    <td data-testid="queue-paused">{q.paused ? 'Paused' : 'No'}</td>
                    <td className="row">
                      {q.paused ? button(q, 'resume', 'Resume') : button(q, 'pause', 'Pause')}
                      {q.job_type === 'SCHEDULER' ? null : button(q, 'stop', 'Stop pending')}
                    </td>
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

function WorkersPanel() {
  const pools = useQuery(poolsQuery());
  const workers = useQuery(workersQuery());
  const [log, setLog] = useState<Worker | null>(null);
  const stop = useAction((id: string) => stopJob(id), [jobserviceKeys.all]);
  return (
    <section aria-label="Workers">
      <h2>Workers</h2>
      <p className="muted">
        {pools.data
          ? `${pools.data.length} worker pool(s): ${pools.data.map((p) => `${p.host} pid ${p.pid} (${p.concurrency})`).join(', ')}`
          : null}
      </p>
      <ErrorNote error={stop.error} title="Could not stop the job" />
      <QueryState query={workers}>
        {(items) =>
          items.length === 0 ? (
            <Empty>No process runs a job worker.</Empty>
          ) : (
            <div className="table-wrap">
              <table aria-label="Workers">
                <thead>
                  <tr>
                    <th>Worker</th>
                    <th>Job</th>
                    <th>Job id</th>
                    <th>Started</th>
                    <th>Checked in</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {items.map((w) => (
                    <tr key={w.id}>
                      <td>{w.id}</td>
                      <td>{w.job_name ?? 'idle'}</td>
                      <td>{w.job_id ?? ''}</td>
                      <td>{w.start_at ? formatTime(w.start_at) : ''}</td>
                      <td>{w.checkin_at ? formatTime(w.checkin_at) : ''}</td>
                      <td className="row">
                        {w.job_id ? (
                          <>
                            <button type="button" className="btn btn-small" onClick={() => setLog(w)}>
                              Log
                            </button>
                            <button
                              type="button"
                              className="btn btn-small"
                              aria-label={`Stop job ${w.job_id}`}
                              onClick={() => stop.mutate(w.job_id!)}
                            >
                              Stop
                            </button>
                          </>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryState>
      {log?.job_id ? <JobLogDialog jobId={log.job_id} onClose={() => setLog(null)} /> : null}
    </section>
  );
}

/** A job's log as text in a dialog (job service dashboard, purge history). */
export function LogDialog(props: {
  title: string;
  query: { isLoading: boolean; error: unknown; data: string | undefined };
  testId: string;
  onClose: () => void;
}) {
  return (
    <Dialog title={props.title} onClose={props.onClose} wide>
      <QueryState query={props.query}>
        {(text) => <pre data-testid={props.testId}>{String(text || '(empty)')}</pre>}
      </QueryState>
    </Dialog>
  );
}

function JobLogDialog({ jobId, onClose }: { jobId: string; onClose: () => void }) {
  const log = useQuery(jobLogQuery(jobId));
  return <LogDialog title={`Log of job ${jobId}`} query={log} testId="job-log" onClose={onClose} />;
}

function SchedulesPanel() {
  const list = usePagedList(scheduleList());
  const paused = useQuery(schedulerPausedQuery());
  const act = useAction(
    (action: 'pause' | 'resume') => queueAction('SCHEDULER', action),
    [jobserviceKeys.all],
  );
  const isPaused = paused.data?.paused === true;
  return (
    <section aria-label="Schedules">
      <h2>Schedules</h2>
      <ErrorNote error={act.error} title="Could not pause or resume the schedules" />
      <ListPage
        list={list}
        tableLabel="Schedules"
        actions={
          <>
            <span data-testid="scheduler-state">{isPaused ? 'Schedules paused' : 'Schedules running'}</span>
            <button
              type="button"
              className="btn btn-small"
              disabled={act.isPending || !paused.data}
              onClick={() => act.mutate(isPaused ? 'resume' : 'pause')}
            >
              {isPaused ? 'Resume all schedules' : 'Pause all schedules'}
            </button>
          </>
        }
        columns={
          <>
            <th>Id</th>
            <th>Job type</th>
            <th>Vendor id</th>
            <th>Cron</th>
            <th>Updated</th>
          </>
        }
        row={(s) => (
          <tr key={s.id}>
            <td>{s.id}</td>
            <td>{s.vendor_type}</td>
            <td>{s.vendor_id}</td>
            <td>
              <code>{s.cron}</code>
            </td>
            <td>{formatTime(s.update_time)}</td>
          </tr>
        )}
        empty="No schedules."
      />
    </section>
  );
}
