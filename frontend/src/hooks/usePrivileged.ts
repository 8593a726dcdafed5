import { useState } from "react";
import type { Problem } from "../api/client";
import type { Result } from "../api/problems";
import type { Proof } from "../components/ReauthPrompt";

/**
 * Runs a privileged action; when the API answers `403 reauthentication_required`,
 * `reauthNeeded` turns on and `retry(proof)` runs the action again with the proof.
 */
export function usePrivileged<T>(action: (proof: Proof) => Promise<Result<T>>, onSuccess: (data: T) => void) {
  const [reauthNeeded, setReauthNeeded] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  async function attempt(proof: Proof): Promise<Problem | null> {
    setBusy(true);
    const result = await action(proof);
    setBusy(false);
    if (result.ok) {
      setReauthNeeded(false);
      onSuccess(result.data);
      return null;
    }
    return result.problem;
  }

  async function start() {
    setProblem(null);
    const failed = await attempt({});
    if (failed?.code === "reauthentication_required") setReauthNeeded(true);
    else setProblem(failed);
  }

  function cancel() {
    setReauthNeeded(false);
    setProblem(null);
  }

  return { start, retry: attempt, cancel, reauthNeeded, problem, busy, setProblem };
}
