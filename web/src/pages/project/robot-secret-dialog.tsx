import { CopyLine, Dialog } from '../../components/ui';

/** A robot's secret, shown once: Berth keeps only its hash. */
export function RobotSecretDialog(props: { name: string; secret: string; onClose: () => void }) {
  return (
    <Dialog title={`Secret of ${props.name}`} onClose={props.onClose}>
      <p className="note note-info">
        Copy the secret now. It is shown only this once; refresh it later if it is lost.
      </p>
      <h3>Name</h3>
      <CopyLine text={props.name} testId="robot-name" />
      <h3>Secret</h3>
      <CopyLine text={props.secret} testId="robot-secret" />
      <div className="dialog-actions">
        <button type="button" className="btn btn-primary" onClick={props.onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
