import { useMutation, useQueryClient, type UseMutationOptions } from "@tanstack/react-query";
import { useCallback } from "react";
import { useApi } from "./context";
import { run, type FetchOutcome } from "./problems";
import type { Read } from "./queries";
import type { Api, Problem } from "./types";

/**
 * One write as a TanStack mutation: `isPending` while it is out, `error` the typed problem of the
 * last attempt (null again when the next starts), `mutateAsync` rejecting with that problem.
 * The hooks of api/*.ts are made with it, so a component names an operation, never a path.
 */
export function useApiMutation<TData, TVariables = void>(
  call: (client: Api, variables: TVariables) => Promise<FetchOutcome<TData>>,
  options: Omit<UseMutationOptions<TData, Problem, TVariables>, "mutationFn"> = {},
) {
  const { client } = useApi();
  return useMutation<TData, Problem, TVariables>({
    mutationFn: async (variables) => {
      const result = await run(call(client, variables));
      if (!result.ok) throw result.problem;
      return result.data;
    },
    // Offline is an answer too ("network error" with a retry), not a reason to wait silently.
    networkMode: "always",
    ...options,
  });
}

/**
 * Marks the reads stale; those on screen are fetched again. Callers fire and forget, so a
 * mutation is done (`isPending` false) when the server answered, not when the lists are back.
 */
export function useInvalidate() {
  const queryClient = useQueryClient();
  return useCallback(
    async (...reads: Read[]) => {
      // A first read still under way may have been answered before this write: invalidating it
      // would join that fetch (it has no data to keep), so it is cancelled and fetched anew.
      await Promise.all(reads.map(({ queryKey }) => queryClient.cancelQueries({ queryKey })));
      await Promise.all(reads.map(({ queryKey }) => queryClient.invalidateQueries({ queryKey })));
    },
    [queryClient],
  );
}
