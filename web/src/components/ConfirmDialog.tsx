import { useEffect, useRef, useState, type ReactNode } from 'react';

/**
 * A modal confirmation on the native <dialog>: focus moves into it, Escape cancels, focus returns to
 * the button that opened it. `withReason` adds a text field (abort's reason for the rollback log),
 * labelled `reasonLabel`.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger,
  withReason,
  reasonLabel = 'Reason (kept in the rollback log)',
  onConfirm,
  onClose,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  withReason?: boolean;
  reasonLabel?: string;
  onConfirm: (reason: string) => Promise<void>;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const reasonField = useRef<HTMLInputElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const d = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    d.showModal();
    // showModal focuses the first control (Cancel); start on the reason field, or on the action itself.
    (reasonField.current ?? confirmButton.current)?.focus();
    return () => {
      if (d.open) d.close();
      opener?.focus();
    };
  }, []);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm(reason.trim());
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="dialog-title"
      onCancel={(e) => (e.preventDefault(), onClose())}
      data-testid="confirm-dialog"
    >
      <form method="dialog" onSubmit={(e) => (e.preventDefault(), void confirm())}>
        <h2 id="dialog-title">{title}</h2>
        <div>{children}</div>
        {withReason && (
          <label className="field">
            <span>{reasonLabel}</span>
            <input ref={reasonField} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
          </label>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-buttons">
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            className={danger ? 'danger' : 'primary'}
            disabled={busy}
            ref={confirmButton}
            data-testid="confirm"
          >
            {busy ? 'Sending…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
