import { useIntl } from "react-intl";
import { useId, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode } from "react";

type ConfirmDialogProps = {
  title: string;
  children: ReactNode;
  onConfirm: () => void;
  onCancel: () => void;
};

/** An in-page OK / Cancel dialog: focus stays inside and returns to where it came from. */
export function ConfirmDialog({ title, children, onConfirm, onCancel }: ConfirmDialogProps) {
  const intl = useIntl();
  const titleId = useId();
  const bodyId = useId();
  const okRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useLayoutEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    okRef.current?.focus();
    return () => opener?.focus();
  }, []);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Tab") {
      event.preventDefault();
      const next = document.activeElement === okRef.current ? cancelRef.current : okRef.current;
      next?.focus();
    }
  }

  return (
    <div className="dialog-backdrop">
      <div
        className="dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={bodyId}
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId}>{title}</h2>
        <div id={bodyId}>{children}</div>
        <div className="actions">
          <button type="button" ref={okRef} className="primary" onClick={onConfirm}>
            {intl.formatMessage({ id: "common.ok" })}
          </button>
          <button type="button" ref={cancelRef} onClick={onCancel}>
            {intl.formatMessage({ id: "common.cancel" })}
          </button>
        </div>
      </div>
    </div>
  );
}
