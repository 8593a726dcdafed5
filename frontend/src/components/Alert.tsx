import type { ReactNode } from "react";
import type { Problem } from "../api/client";
import { problemMessage } from "../api/problems";

type ProblemAlertProps = {
  problem: Problem | null;
  /** Words for this place instead of the general ones, e.g. for a limit only this page has. */
  describe?: (problem: Problem) => string;
};

/** An error in words a customer understands, announced by screen readers. */
export function ProblemAlert({ problem, describe = problemMessage }: ProblemAlertProps) {
  return (
    <div aria-live="assertive" aria-atomic="true">
      {problem && (
        <p className="alert alert-error" role="alert">
          {describe(problem)}
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
