import type { ReactNode } from "react";
import { useIntl, type IntlShape } from "react-intl";
import type { Problem } from "../api/types";
import { problemMessage } from "../i18n/problems";

type ProblemAlertProps = {
  problem: Problem | null;
  /** Words for this place instead of the general ones, e.g. for a limit only this page has. */
  describe?: (intl: IntlShape, problem: Problem) => string;
};

/** An error in words a customer understands, announced by screen readers. */
export function ProblemAlert({ problem, describe = problemMessage }: ProblemAlertProps) {
  const intl = useIntl();
  return <ErrorAlert>{problem && describe(intl, problem)}</ErrorAlert>;
}

/** An error message of our own (not from the API), announced at once. */
export function ErrorAlert({ children }: { children: ReactNode }) {
  return (
    <div aria-live="assertive" aria-atomic="true">
      {children && (
        <p className="alert alert-error" role="alert">
          {children}
        </p>
      )}
    </div>
  );
}

/** A success or progress message, announced politely. */
export function StatusMessage({ children }: { children: ReactNode }) {
  return (
    <div role="status" aria-live="polite" aria-atomic="true">
      {children && <p className="alert alert-success">{children}</p>}
    </div>
  );
}
