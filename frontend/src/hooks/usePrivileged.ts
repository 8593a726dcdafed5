import { useRef, useState } from "react";
import type { Result } from "../api/problems";
import type { Problem } from "../api/types";
import type { Proof } from "../components/ReauthPrompt";

/**
 * Runs a privileged action; when the API answers `403 reauthentication_required`,
 * `reauthNeeded` turns on and `retry(proof)` runs the action again with the proof.
 * One attempt at a time (a double click does not send twice), and an answer that arrives after
 * `cancel()` is dropped, so an older request never shows its result.
 */
export function usePrivileged<T>(action: (proof: Proof) => Promise<Result<T>>, onSuccess: (data: T) => void) {
  const [reauthNeeded, setReauthNeeded] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const generation = useRef(0);

  /** Resolves to the problem of a failed attempt, null on success, `"stale"` when dropped. */
  async function attempt(proof: Proof): Promise<Problem | null | "stale"> {
    if (inFlight.current) return "stale";
    inFlight.current = true;
    const mine = generation.current;
    setBusy(true);
    const result = await action(proof);
    inFlight.current = false;
    setBusy(false);
    if (mine !== generation.current) return "stale";
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
    if (failed === "stale") return;
    if (failed?.code === "reauthentication_required") setReauthNeeded(true);
    else setProblem(failed);
  }

  async function retry(proof: Proof): Promise<Problem | null> {
    const failed = await attempt(proof);
    return failed === "stale" ? null : failed;
  }

  function cancel() {
    generation.current += 1;
    setReauthNeeded(false);
    setProblem(null);
  }

  return { start, retry, cancel, reauthNeeded, problem, busy, setProblem };
}
