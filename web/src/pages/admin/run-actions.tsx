/** A job run that has not ended yet: it can still be stopped. */
export const RUNNING = /^(pending|running)$/i;

/** The Log and Stop buttons of a run in a job history (garbage collection, audit-log purges). */
export function RunActions({
  status,
  onLog,
  onStop,
}: {
  status: string;
  onLog: () => void;
  onStop: () => void;
}) {
  return (
    <td className="row">
      <button type="button" className="btn btn-small" onClick={onLog}>
        Log
      </button>
      {RUNNING.test(status) ? (
        <button type="button" className="btn btn-small" onClick={onStop}>
          Stop
        </button>
      ) : null}
    </td>
  );
}
