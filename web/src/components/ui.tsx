import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { errorMessage } from '../api/client';

/** The small component set every page uses: buttons, notes, states, copy, dialogs. */

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div className="note note-error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {errorMessage(error)}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

/** Loading / error / empty / content for one query. */
export function QueryState<T>(props: {
  query: { isLoading: boolean; error: unknown; data: T | undefined };
  empty?: (data: T) => boolean;
  emptyText?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const { query } = props;
  if (query.isLoading) return <Spinner />;
  if (query.error) return <ErrorNote error={query.error} />;
  if (query.data === undefined) return null;
  if (props.empty?.(query.data)) return <Empty>{props.emptyText ?? 'Nothing here yet.'}</Empty>;
  return <>{props.children(query.data)}</>;
}

/**
 * Copies `text` and says whether it worked. `what` names a secret for screen readers instead of its text,
 * which must not reach the page.
 */
export function CopyButton({ text, label = 'Copy', what }: { text: string; label?: string; what?: string }) {
  const [state, setState] = useState<'idle' | 'Copied' | 'Copy failed'>('idle');
  const shown = state === 'idle' ? label : state;
  const settle = (s: typeof state) => {
    setState(s);
    setTimeout(() => setState('idle'), 1500);
  };
  return (
    <button
      type="button"
      className="btn btn-small"
      aria-label={
        what ? `${shown} ${what}` : `${shown}: ${text.length > 40 ? text.slice(0, 40) + '…' : text}`
      }
      onClick={() => {
        // No clipboard outside a secure context (plain http to a remote host): say so instead of lying.
        const write = navigator.clipboard?.writeText(text) ?? Promise.reject(new Error('no clipboard'));
        write.then(
          () => settle('Copied'),
          () => settle('Copy failed'),
        );
      }}
    >
      {shown}
    </button>
  );
}

/** Code the user copies (commands, secrets, digests). */
export function CopyLine({ text, testId }: { text: string; testId?: string }) {
  return (
    <div className="copy-line">
      <code data-testid={testId}>{text}</code>
      <CopyButton text={text} />
    </div>
  );
}

/** A modal dialog on <dialog>: Escape closes it, focus stays inside, the opener gets focus back. */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const { onClose } = props;
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (d && !d.open) d.showModal();
    return () => opener?.focus?.();
  }, []);
  return (
    <dialog
      ref={ref}
      className={props.wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="btn btn-icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <div className="dialog-body">{props.children}</div>
    </dialog>
  );
}

/** Asks before a destructive action; shows the API's error if it fails. */
export function ConfirmDialog(props: {
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.message}</p>
      <ErrorNote error={error} />
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="btn btn-danger"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await props.onConfirm();
              props.onClose();
            } catch (err) {
              setError(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          {props.confirmLabel ?? 'Delete'}
        </button>
      </div>
    </Dialog>
  );
}

export function Field(props: {
  label: string;
  children: (id: string) => ReactNode;
  hint?: ReactNode;
  error?: string | null;
}) {
  const id = useId();
  return (
    <div className={props.error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id)}
      {props.error ? (
        <div className="field-error" role="alert">
          {props.error}
        </div>
      ) : props.hint ? (
        <div className="field-hint">{props.hint}</div>
      ) : null}
    </div>
  );
}

export function Pager(props: { page: number; pageSize: number; total: number; onPage: (p: number) => void }) {
  const pages = Math.max(1, Math.ceil(props.total / props.pageSize));
  if (props.total <= props.pageSize && props.page === 1) return null;
  const first = (props.page - 1) * props.pageSize + 1;
  const last = Math.min(props.total, props.page * props.pageSize);
  return (
    <nav className="pager" aria-label="Pages">
      <span>
        {first}–{last} of {props.total}
      </span>
      <button
        type="button"
        className="btn btn-small"
        disabled={props.page <= 1}
        onClick={() => props.onPage(1)}
      >
        First
      </button>
      <button
        type="button"
        className="btn btn-small"
        disabled={props.page <= 1}
        onClick={() => props.onPage(props.page - 1)}
      >
        Previous
      </button>
      <span aria-current="page">
        Page {props.page} of {pages}
      </span>
      <button
        type="button"
        className="btn btn-small"
        disabled={props.page >= pages}
        onClick={() => props.onPage(props.page + 1)}
      >
        Next
      </button>
      <button
        type="button"
        className="btn btn-small"
        disabled={props.page >= pages}
        onClick={() => props.onPage(pages)}
      >
        Last
      </button>
    </nav>
  );
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined || n === null || n < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatTime(iso: string | undefined | null): string {
  if (!iso || iso.startsWith('0001-')) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function shortDigest(digest: string): string {
  return digest.slice(0, 19);
}

/** A policy row's Edit / Enable-or-Disable / Delete buttons, each shown only with its permission. */
export function RowPolicyActions(props: {
  enabled: boolean;
  canUpdate: boolean;
  canDelete: boolean;
  toggling: boolean;
  onEdit: () => void;
  onToggle: () => void;
  onDelete: () => void;
}) {
  return (
    <>
      {props.canUpdate ? (
        <>
          <button type="button" className="btn btn-small" onClick={props.onEdit}>
            Edit
          </button>
          <button type="button" className="btn btn-small" disabled={props.toggling} onClick={props.onToggle}>
            {props.enabled ? 'Disable' : 'Enable'}
          </button>
        </>
      ) : null}
      {props.canDelete ? (
        <button type="button" className="btn btn-small" onClick={props.onDelete}>
          Delete
        </button>
      ) : null}
    </>
  );
}
