import type { UseMutationResult } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { settle } from "../api/problems";
import type { Problem, Proof } from "../api/types";

/**
 * Runs a privileged action (a mutation of api/*.ts); when the API answers `403
 * reauthentication_required`, `reauthNeeded` turns on and `retry(proof)` runs the action again
 * with the proof. One attempt at a time (a double click does not send twice), and an answer that
 * arrives after `cancel()` is dropped, so an older request never shows its result.
 * `problem` is what the page shows: not the request for a proof, nor a refused proof (the prompt
 * shows that), and nothing after `cancel()`.
 */
export function usePrivileged<TData, TVariables>(
  mutation: UseMutationResult<TData, Problem, TVariables>,
  variables: (proof: Proof) => TVariables,
  onSuccess: (data: TData) => void,
) {
  const [reauthNeeded, setReauthNeeded] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const inFlight = useRef(false);
  const generation = useRef(0);

  /** Resolves to the problem of a failed attempt, null on success, `"stale"` when dropped. */
  async function attempt(proof: Proof): Promise<Problem | null | "stale"> {
    if (inFlight.current) return "stale";
    inFlight.current = true;
    const mine = generation.current;
    const result = await settle(mutation.mutateAsync(variables(proof)));
    inFlight.current = false;
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

  return { start, retry, cancel, reauthNeeded, problem, busy: mutation.isPending, setProblem };
}
